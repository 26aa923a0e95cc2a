"""Where each governance file kind lives in the repository (BRIEF §3), and back.

Paths are derived from validated ids and parsed back with anchored patterns, so that a
file's place and its content must agree (a manifest under datasets/a/ naming dataset b
is an error, not a second release of b).

A release id, `dataset@version`, is one value, `Release`: governance files keep it as the
plain string (`ReleaseRef`), and code converts at the boundary: `Release.parse` for what a
user typed, `Release.of` for an id a model or a path has already validated, `str(release)`
to write it back, `release.folder` for its files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

from synthgov import options
from synthgov.errors import InputError

_ID = r"(?=[a-z0-9-]{1,63}(?![a-z0-9-]))[a-z0-9]+(?:-[a-z0-9]+)*"
_VERSION = r"(?!.*\.\.)[0-9A-Za-z](?:[0-9A-Za-z._+-]{0,62}[0-9A-Za-z])?"
_WAIVER = r"(?P<waiver>[A-Za-z0-9][A-Za-z0-9-]{0,62})"
_RELEASE = rf"datasets/(?P<dataset>{_ID})/releases/(?P<version>{_VERSION})"

PATTERNS: dict[str, re.Pattern[str]] = {
    "policy": re.compile(r"policy/policy\.yaml"),
    "reviewers": re.compile(r"policy/reviewers\.yaml"),
    "card": re.compile(rf"datasets/(?P<dataset>{_ID})/card\.yaml"),
    "manifest": re.compile(rf"{_RELEASE}/manifest\.yaml"),
    "report": re.compile(rf"{_RELEASE}/report\.json"),
    "approval": re.compile(rf"{_RELEASE}/approvals/(?P<role>{_ID})--(?P<reviewer>{_ID})\.yaml"),
    "waiver": re.compile(rf"{_RELEASE}/waivers/{_WAIVER}\.yaml"),
    "ledger": re.compile(rf"budgets/(?P<source>{_ID})\.yaml"),
    "revocation": re.compile(rf"{_RELEASE}/revocation\.yaml"),
    "revalidation": re.compile(rf"{_RELEASE}/revalidations/(?P<at>\d{{8}}T\d{{6}}Z)\.json"),
    # outside GOVERNANCE_DIRS: `check` ignores audit/, `audit` verifies what is there
    "checkpoint": re.compile(r"audit/checkpoints/(?P<at>\d{8}T\d{6}Z)\.yaml"),
}
#: Other places of a kind: approvals of a waiver, a revocation, a change to policy/, to a
#: card, and to the privacy budgets.
MORE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "approval",
        re.compile(rf"{_RELEASE}/waivers/{_WAIVER}/(?P<role>{_ID})--(?P<reviewer>{_ID})\.yaml"),
    ),
    ("approval", re.compile(rf"policy/approvals/(?P<role>{_ID})--(?P<reviewer>{_ID})\.yaml")),
    (
        "approval",
        re.compile(
            rf"datasets/(?P<dataset>{_ID})/approvals/(?P<role>{_ID})--(?P<reviewer>{_ID})\.yaml"
        ),
    ),
    (  # the group names the subject: "budget" is the folder's name without its "s"
        "approval",
        re.compile(rf"(?P<subject>budget)s/approvals/(?P<role>{_ID})--(?P<reviewer>{_ID})\.yaml"),
    ),
    (
        "approval",
        re.compile(
            rf"{_RELEASE}/(?P<subject>revocation)/(?P<role>{_ID})--(?P<reviewer>{_ID})\.yaml"
        ),
    ),
)

#: Top-level folders that hold governance files; anything else in the repository is ignored.
GOVERNANCE_DIRS = ("policy", "datasets", "budgets")
#: Files under those folders that are not governance files but are expected there: a
#: README, and a release's report page (`release new` draws it from report.json, which is
#: what check judges; the page is a view and decides nothing, but check blocks one that is
#: not the page synthgov draws: `gates/report_page`).
IGNORED = re.compile(rf"(?:.*/)?(?:README(?:\.md)?|\.gitkeep)$|{_RELEASE}/report\.html")

POLICY = "policy/policy.yaml"
REVIEWERS = "policy/reviewers.yaml"


@dataclass(frozen=True)
class Placed:
    """A governance file: its kind and the ids its path names."""

    kind: str
    path: str
    ids: dict[str, str]


def classify(path: str | PurePosixPath) -> Placed | None:
    """The kind of a repository-relative path, or None when it is not a governance file."""
    return _classified(path if isinstance(path, str) else path.as_posix())


@lru_cache(maxsize=1 << 14)
def _classified(path: str) -> Placed | None:
    """`classify`, remembered by the path: an audit asks about the same paths at every
    commit."""
    text = PurePosixPath(path).as_posix()
    for kind, pattern in (*PATTERNS.items(), *MORE_PATTERNS):
        match = pattern.fullmatch(text)
        if match:
            return Placed(kind, text, {k: v for k, v in match.groupdict().items() if v})
    return None


def is_governed(path: str | PurePosixPath) -> bool:
    """Whether a path lies under a governance folder (and so must be a known kind)."""
    text = PurePosixPath(path).as_posix()
    return text.split("/", 1)[0] in GOVERNANCE_DIRS and not IGNORED.fullmatch(text)


def card_path(dataset: str) -> str:
    return f"datasets/{dataset}/card.yaml"


def release_dir(dataset: str, version: str) -> str:
    return f"datasets/{dataset}/releases/{version}"


#: How a command line names a release, and the label its errors carry.
METAVAR = "DATASET@VERSION"


@dataclass(frozen=True)
class Release:
    """One release of a dataset: `claims@2026.1` is `Release("claims", "2026.1")`."""

    dataset: str
    version: str

    @classmethod
    def parse(cls, text: str, label: str = METAVAR) -> Release:
        """The release a user named as DATASET@VERSION: the dataset an id, the version one
        that names a folder.

        Raises:
            InputError: at `label`: the dataset is not a valid id, or `text` is not a
                DATASET@VERSION.
        """
        dataset, sep, version = text.partition("@")
        options.slug(dataset, label)
        release = cls(dataset, version)
        if not sep or classify(f"{release.folder}/manifest.yaml") is None:
            raise InputError.at(label, f"{text!r} is not a release; expected e.g. claims@1.0")
        return release

    @classmethod
    def of(cls, ref: str) -> Release:
        """The release of an id already validated (a `ReleaseRef` field of a model, or
        built from a governance file's path): split at its first "@"."""
        dataset, _, version = ref.partition("@")
        return cls(dataset, version)

    @property
    def folder(self) -> str:
        """Where its files live: datasets/<dataset>/releases/<version>."""
        return release_dir(self.dataset, self.version)

    def __str__(self) -> str:
        return f"{self.dataset}@{self.version}"


def ledger_path(source: str) -> str:
    return f"budgets/{source}.yaml"


def approval_folder(subject: str, dataset: str | None = None) -> str:
    """The folder of the approvals of a change of the pull request: policy/'s, a card's or
    the budgets'."""
    if subject == "card" and dataset is not None:
        return f"datasets/{dataset}/approvals"
    return "budgets/approvals" if subject == "budget" else "policy/approvals"


def approval_path(
    role: str,
    reviewer: str,
    release: str | None = None,
    waiver: str | None = None,
    subject: str = "release",
    dataset: str | None = None,
) -> str:
    """Where an approval lives: a release's, one of its waivers', its revocation's,
    policy/'s (no release), a card's (`dataset`) or the budgets' (subject budget)."""
    name = f"{role}--{reviewer}.yaml"
    if release is None:
        return f"{approval_folder(subject, dataset)}/{name}"
    folder = Release.of(release).folder
    if waiver:
        return f"{folder}/waivers/{waiver}/{name}"
    return f"{folder}/{'revocation' if subject == 'revocation' else 'approvals'}/{name}"
