"""A release's manifest, built from what `release new` was told and what the evaluation
measured.

The figures typed on the command line (generator, DP figures, intended uses) are
validated before minutes of evaluation, against stand-ins for what is measured
(`UNMEASURED`); the manifest is then built again from the report's inputs, so that it
records the artifact's hashes, shape and content sketch exactly as they were measured.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from synthgov import options
from synthgov.budget import debits
from synthgov.errors import InputError, Location, Problem, UsageError
from synthgov.models import Card, Manifest
from synthgov.models.common import format_timestamp
from synthgov.signing.canonical import canonical

#: The option behind each manifest field the user typed (the longest prefix wins).
LABELS = {
    "intended_uses": "--intended-use",
    "generator": "--generator",
    "generator.version": "--generator-version",
    "generator.parameters": "--param",
    "generator.seed": "--seed",
    "generator.code_commit": "--code-commit",
    "privacy": "--epsilon",
    "privacy.mechanism": "--mechanism",
    "privacy.tuning": "--tuning-runs",
    "description": "--description",
    "artifact.location": "--location",
    "source.snapshot.id": "--snapshot-id",
    "author": "git config user.email",
}
#: Who supplied a field when its option was left out: its default comes from another.
DEFAULTED = {
    "source.snapshot.id": "--real (its file name is the default --snapshot-id)",
    "artifact.location": "--synthetic (its path is the default --location)",
}
#: Stand-ins for the figures the evaluation measures, to validate the rest before it.
UNMEASURED: dict[str, Any] = {
    "real": {"sha256": "0" * 64},
    "holdout": {"sha256": "0" * 64},
    "synthetic": {
        "sha256": "0" * 64,
        "rows": 1,
        "columns": 1,
        "fingerprint": None,
        "distinct_rows": None,
        "sketch": None,
    },
}


def privacy_block(
    generator: str, mechanism: str | None, epsilon: str | None, delta: str | None, rho: str | None
) -> dict[str, Any]:
    """The manifest's privacy block: DP figures as typed, or `none` (empirical audit only).

    Raises:
        UsageError: --delta alone, or --epsilon with --rho. `--delta 0` is no delta.
        InputError: a figure out of range (see `debits.figure`).
    """
    if epsilon is None and rho is None:
        if delta is not None:
            raise UsageError("--delta needs --epsilon or --rho")
        return {"mechanism": generator if mechanism is None else mechanism, "notion": "none"}
    if epsilon is not None and rho is not None:
        raise UsageError("--epsilon and --rho cannot be combined")
    if epsilon is not None and debits.is_zero(delta):
        delta = None  # (epsilon, 0)-DP is pure epsilon-DP, as `budget debit` records it
    notion = "zcdp" if rho is not None else "approx" if delta is not None else "pure"
    figures = {"epsilon": epsilon, "delta": delta, "rho": rho}
    values = {
        k: debits.figure(v, f"--{k}", below_one=k == "delta")
        for k, v in figures.items()
        if v is not None
    }
    return {"mechanism": generator if mechanism is None else mechanism, "notion": notion, **values}


def with_tuning(
    root: Path, privacy: dict[str, Any], runs: int | None, figures: dict[str, str | None]
) -> dict[str, Any]:
    """The privacy block with its tuning runs (`--tuning-runs N`, `--tuning-epsilon` ...).

    Raises:
        UsageError, InputError: see `debits.parse_tuning`; or a DP release without
            --tuning-runs where the repository's policy requires the record
            (`tuning_record: required`).
    """
    from synthgov.files import governance, layout
    from synthgov.models import Policy
    from synthgov.models.loss import Loss

    dp = privacy["notion"] != "none"
    own = (
        Loss(**{k: privacy[k] for k in ("epsilon", "delta", "rho") if k in privacy}) if dp else None
    )
    record = debits.parse_tuning(runs, figures, own)
    if record is None and dp and (root / layout.POLICY).is_file():
        policy = governance.load(root, layout.POLICY, Policy)
        if policy.model.tuning_record == "required":
            where = policy.document.locate(("tuning_record",))
            raise InputError.at(
                "--tuning-runs",
                "say how many times the generator ran on the real data before this release "
                f"(tuning): the policy requires it of DP releases ({where.path}:{where.line}); "
                "give --tuning-runs 0 if it ran once, else --tuning-runs N with "
                "--tuning-epsilon E (or --tuning-rho R) per run",
            )
    return privacy if record is None else {**privacy, "tuning": debits.tuning_data(record)}


@dataclass(frozen=True)
class Draft:
    """What `release new` was told about a release, before its tables are measured."""

    dataset: str
    version: str
    created_at: datetime
    author: str
    card: Card
    snapshot_id: str  # the real data's snapshot (default: the real table's file stem)
    location: str  # where the synthetic table lives (it does not belong in Git)
    generator: str
    generator_version: str
    parameters: dict[str, Any]
    seed: int
    code_commit: str | None
    privacy: dict[str, Any]  # `privacy_block`
    intended_uses: tuple[str, ...]  # empty: the card's
    description: str | None
    defaulted: frozenset[str] = frozenset()  # fields of `DEFAULTED` left to their default

    @property
    def labels(self) -> dict[str, str]:
        """`LABELS`, where a field was defaulted naming the option its default came from."""
        return {**LABELS, **{k: v for k, v in DEFAULTED.items() if k in self.defaulted}}

    def manifest(self, inputs: dict[str, Any] = UNMEASURED) -> Manifest:
        """The manifest with the report's `inputs` (default: stand-ins, to validate what
        was typed before the evaluation).

        Raises:
            InputError: a field as typed is invalid, named by its option (`labels`).
        """
        card, measured = self.card, inputs["synthetic"]
        snapshot = canonical(
            {"real": inputs["real"]["sha256"], "holdout": inputs["holdout"]["sha256"]}
        )
        data = {
            "schema_version": 1,
            "dataset": self.dataset,
            "version": self.version,
            "created_at": format_timestamp(self.created_at),
            "author": self.author,
            "source": {
                "id": card.source.id,
                "snapshot": {
                    "id": self.snapshot_id,
                    "sha256": hashlib.sha256(snapshot).hexdigest(),
                },
            },
            "generator": {
                "name": self.generator,
                "version": self.generator_version,
                "parameters": self.parameters,
                "seed": self.seed,
                **({"code_commit": self.code_commit} if self.code_commit is not None else {}),
            },
            "artifact": {
                "location": self.location,
                "sha256": measured["sha256"],
                "rows": measured["rows"],
                "columns": measured["columns"],
                "schema_sha256": hashlib.sha256(
                    canonical([[c.name, c.type] for c in card.columns])
                ).hexdigest(),
                **{key: measured[key] for key in ("fingerprint", "distinct_rows", "sketch")},
            },
            "privacy": self.privacy,
            "intended_uses": list(self.intended_uses) or list(card.intended_uses),
            **({"description": self.description} if self.description is not None else {}),
        }
        model = options.build(Manifest, data, self.labels, "release new")
        if inputs is UNMEASURED:
            self._reads_back(model)
        return model

    def _reads_back(self, model: Manifest) -> None:
        """Refuse what `check` would refuse to read in the written file (a character that
        hides text, say), named by its option, before the evaluation writes it.

        Raises:
            InputError: the file as written would not load; or an intended use that is
                not the card's (the policy gate would block it).
        """
        from synthgov.files import governance, layout
        from synthgov.files.writing import to_yaml

        text = to_yaml(model)
        path = f"{layout.release_dir(self.dataset, self.version)}/manifest.yaml"
        try:
            governance.load_bytes(text.encode(), path, Manifest)
        except InputError as exc:
            raise InputError(
                [
                    Problem(Location(_option_at(text, p.location.line, self.labels)), p.message)
                    for p in exc.problems
                ]
            ) from None
        allowed = self.card.intended_uses
        for use in self.intended_uses:
            if use not in allowed:
                raise InputError.at(
                    "--intended-use",
                    f"{use!r} is not one of the card's intended uses ({', '.join(allowed)}); "
                    "the gate would block it: use one of them, or extend the card first",
                )


def _option_at(text: str, line: int | None, labels: dict[str, str]) -> str:
    """The option behind the field on `line` (1-based) of the manifest's YAML `text`."""
    import yaml

    found: list[str] = []

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if line is not None and key.start_mark.line + 1 == line:
                    found.append(".".join((*path, str(key.value))))
                walk(value, (*path, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item, path)
        elif line is not None and node.start_mark.line + 1 == line:
            found.append(".".join(path))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    for field in found[-1:]:
        parts = field.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in labels:
                return labels[".".join(parts[:end])]
    return "release new"


def committed(root: Path, folder: str) -> list[str]:
    """The files under `folder` that a commit holds: HEAD's, or the default base's (a
    release merged since the branch started). [] outside a repository or before its
    first commit: nothing of the folder is committed yet.

    Raises:
        InputError: the folder is a symbolic link or a submodule in a commit.
    """
    from synthgov.errors import GitError
    from synthgov.git.history import Repository

    found: set[str] = set()
    try:
        with Repository.open(root) as repo:
            refs = ["HEAD"]
            with suppress(GitError):  # no base branch yet
                refs.append(repo.default_base())
            for ref in refs:
                try:
                    found.update(repo.list_files(repo.resolve(ref), folder))
                except GitError:
                    continue  # no commit yet
    except GitError:
        pass  # not a repository: nothing is committed
    return sorted(found)


def clear_draft(root: Path, folder: str) -> list[str]:
    """Remove the manifest and the report of the uncommitted draft in `folder` (what
    `release new --replace` rewrites), and nothing else; the paths removed.

    Raises:
        InputError: the folder is reached through a symbolic link (never followed).
    """
    from synthgov.files.paths import remove_file

    paths = (f"{folder}/manifest.yaml", f"{folder}/report.json", f"{folder}/report.html")
    return [path for path in paths if remove_file(root, path)]


def draft_debit(root: Path, source: str, release: str) -> str | None:
    """Where the source's ledger already debits `release` (`budgets/x.yaml:12`), None when
    it does not: a draft with DP figures left its debit there, and a release is debited
    once.

    Raises:
        InputError: the ledger does not load.
    """
    from synthgov.files import governance, layout
    from synthgov.models import Ledger

    path = layout.ledger_path(source)
    if not (root / path).is_file():
        return None
    loaded = governance.load(root, path, Ledger)
    for entry in loaded.model.entries:
        if entry.release == release:
            return f"{path}:{loaded.document.locate(('entries', entry.seq - 1)).line}"
    return None
