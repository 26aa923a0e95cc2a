"""`synthgov check`: the pull-request gate.

The trust root is the base commit: its policy (and, for an existing dataset, its card's
classification) decides; nothing the pull request changes under policy/ applies to it
(BRIEF §5). The changed files are `git diff merge-base(base, head)..head`; every release
they touch is evaluated by the engine. A malformed governance file in the pull request is a
`files` finding (exit 1: it is what is under review); what prevents a decision, such as an
unknown base or a base policy that cannot be loaded, is exit 2 (BRIEF §10.6).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from synthgov import engine, governance, layout
from synthgov.consistency import card_problems, constraint_problems
from synthgov.errors import InputError
from synthgov.findings import Finding, ReleaseResult, Severity, Verdict
from synthgov.gates import ReleaseContext
from synthgov.loading import Loaded
from synthgov.models import Card, Manifest, Policy, Report
from synthgov.paths import iter_files, read_bytes

RELEASE_KINDS = ("manifest", "report", "approval", "waiver")


@dataclass(frozen=True)
class Tree:
    """One side of the comparison: how to read a file and list a folder."""

    read: Callable[[str], bytes | None]
    list: Callable[[str], list[str]]

    def load(self, path: str, kind: str | None = None) -> Loaded:  # type: ignore[type-arg]
        raw = self.read(path)
        if raw is None:
            raise InputError.at(
                path, "missing: a release needs its manifest.yaml, report.json and card"
            )
        return governance.load_bytes(raw, path, kind)


def _working_tree(root: Path) -> Tree:
    def read(path: str) -> bytes | None:
        full = root / path
        return read_bytes(root, path) if full.exists() or full.is_symlink() else None

    return Tree(read, lambda prefix: [p.as_posix() for p in iter_files(root, prefix)])


def _files_findings(exc: InputError, rule: str = "files.invalid") -> list[Finding]:
    return [
        Finding(gate="files", rule=rule, severity=Severity.ERROR, message=p.message,
                file=p.location.path, line=p.location.line or 1, enforcement="hard",
                fix="Fix the file so that `synthgov validate` passes.")
        for p in exc.problems
    ]  # fmt: skip


def _release_context(release: str, policy: Loaded[Policy], head: Tree, base: Tree | None,
                     now: datetime) -> ReleaseContext:  # fmt: skip
    dataset, version = release.split("@", 1)
    folder = layout.release_dir(dataset, version)
    card_path = layout.card_path(dataset)
    card_bytes = head.read(card_path)
    if card_bytes is None:
        raise InputError.at(card_path, "missing: a release needs its dataset's card")
    card: Loaded[Card] = governance.load_bytes(card_bytes, card_path, "card")  # type: ignore[assignment]
    base_card_bytes = base.read(card_path) if base else None
    classification = card.model.classification
    base_card: Loaded[Card] | None = None
    if base_card_bytes is not None:  # the base decides the tier of an existing dataset
        loaded: Loaded[Card] = governance.load_bytes(base_card_bytes, card_path, "card")  # type: ignore[assignment]
        base_card, classification = loaded, loaded.model.classification
    waivers = tuple(
        head.load(p, "waiver") for p in head.list(f"{folder}/waivers") if p.endswith(".yaml")
    )
    manifest: Loaded[Manifest] = head.load(f"{folder}/manifest.yaml", "manifest")
    report: Loaded[Report] = head.load(f"{folder}/report.json", "report")
    return ReleaseContext(
        release=release, policy=policy, card=card,
        card_sha256=hashlib.sha256(card_bytes).hexdigest(),
        classification=classification, manifest=manifest, report=report,
        waivers=waivers, now=now, base_card=base_card.model if base_card else None,
    )  # fmt: skip


def _check_release(release: str, files: tuple[str, ...], policy: Loaded[Policy], head: Tree,
                   base: Tree | None, now: datetime) -> ReleaseResult:  # fmt: skip
    """One release, failing closed: whatever stops the evaluation blocks the release."""
    try:
        ctx = _release_context(release, policy, head, base, now)
    except InputError as exc:
        return ReleaseResult(release, tuple(_files_findings(exc)), files)
    except Exception as exc:  # fail closed
        finding = engine.failed_to_check(
            files[0] if files else None, "files", f"{type(exc).__name__}: {exc}"
        )
        return ReleaseResult(release, (finding,), files)
    return engine.check_release(ctx, files)


def _top_level(path: str, status: str, policy: Loaded[Policy], head: Tree) -> list[Finding]:
    """Findings for a changed file outside any release: invalid files, policy changes."""
    placed = layout.classify(path)
    if placed is None:
        return [Finding(gate="files", rule="files.unknown", severity=Severity.ERROR,
                        message="not a governance file (see docs/files/ for the layout)",
                        file=path, line=1, enforcement="hard")]  # fmt: skip
    found: list[Finding] = []
    if status != "D":
        try:
            loaded = head.load(path)
            if placed.kind == "card":
                for rule, problems in (
                    ("files.card_constraint", constraint_problems(loaded)),
                    ("files.card_override", card_problems(loaded, policy)),
                ):
                    if problems:
                        found += _files_findings(InputError(problems), rule)
        except InputError as exc:
            found += _files_findings(exc)
    if placed.kind in ("policy", "reviewers"):
        needed = ", ".join(
            f"{n} {role}" for role, n in policy.model.policy_changes.approvals.items()
        )
        found.append(Finding(
            gate="policy", rule="policy.change", severity=Severity.ERROR, file=path, line=1,
            message=f"changes to {path} do not apply to this pull request and need approvals "
                    f"({needed}) under the base policy; signed approvals are not supported yet",
            enforcement="hard",
        ))  # fmt: skip
    if status == "D" and placed.kind in ("card", "ledger"):
        found.append(Finding(gate="files", rule="files.deleted", severity=Severity.ERROR,
                             message=f"{path} is deleted; governance history is append-only",
                             file=path, line=1, enforcement="hard"))  # fmt: skip
    return found


def policy_impact(proposed: Loaded[Policy], current: Loaded[Policy], base: Tree,
                  now: datetime) -> list[Finding]:  # fmt: skip
    """Releases on the base that pass today but the proposed policy would block (advisory)."""
    releases = sorted({r for p in base.list("datasets") if (r := _release_of(p))})
    found = []
    for release in releases:
        after = _check_release(release, (), proposed, base, base, now)
        if after.verdict != "blocked":
            continue
        if _check_release(release, (), current, base, base, now).verdict == "blocked":
            continue  # already blocked today: not this change's doing
        rules = sorted({f.rule for f in after.findings if f.blocks})
        found.append(Finding(
            gate="policy", rule="policy.impact", severity=Severity.WARNING,
            message=f"under the proposed policy, {release} (on the base, passing today) would be blocked by {', '.join(rules)}",
            file=layout.POLICY, line=1, enforcement="advisory",
        ))  # fmt: skip
    return found


def _release_of(path: str) -> str | None:
    placed = layout.classify(path)
    if placed is None or placed.kind not in RELEASE_KINDS:
        return None
    return f"{placed.ids['dataset']}@{placed.ids['version']}"


def _decide(changes: list[tuple[str, str]], policy: Loaded[Policy], head: Tree,
            base: Tree | None, now: datetime) -> tuple[list[ReleaseResult], list[Finding]]:  # fmt: skip
    releases: dict[str, list[str]] = {}
    top: list[Finding] = []
    for path, status in changes:
        if not layout.is_governed(path):  # a README or .gitkeep beside governance files
            continue
        release = _release_of(path)
        if release is None:
            top += _top_level(path, status, policy, head)
            continue
        releases.setdefault(release, []).append(path)
        if status == "D":
            top.append(Finding(gate="files", rule="files.deleted", severity=Severity.ERROR,
                               message=f"{path} is deleted; a merged release is revoked, never removed",
                               file=path, line=1, enforcement="hard"))  # fmt: skip
    results = []
    for release, files in sorted(releases.items()):
        if head.read(f"{layout.release_dir(*release.split('@', 1))}/manifest.yaml") is None and all(
            status == "D" for path, status in changes if path in files
        ):
            continue  # a deleted release: reported above
        results.append(_check_release(release, tuple(sorted(files)), policy, head, base, now))
    return results, top


def _git_inputs(
    root: Path, base_ref: str | None
) -> tuple[str, str, list[tuple[str, str]], Tree, Tree]:
    from synthgov.history import Repository

    repo = Repository.open(root)
    base = repo.resolve(base_ref) if base_ref else repo.resolve(repo.default_base())
    head = repo.head()
    changed = repo.changed(base, head)
    changes = [(c.path, c.status) for c in changed]
    changes += [(c.old_path, "D") for c in changed if c.status == "R" and c.old_path]

    def side(commit: str) -> Tree:
        return Tree(lambda p: repo.read(commit, p), lambda prefix: repo.list_files(commit, prefix))

    return base, head, changes, side(base), side(head)


def _base_policy(tree: Tree, where: str) -> Loaded[Policy]:
    try:
        policy: Loaded[Policy] = tree.load(layout.POLICY, "policy")
    except InputError as exc:
        first = exc.problems[0]
        raise InputError.at(
            first.location.path,
            f"{where}: {first.message}",
            first.location.line,
            first.location.column,
        ) from None
    return policy


def _write(output: Path, text: str) -> None:
    """Write the report atomically, only once it is complete."""
    target = output.absolute()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, target)


def run(root: Path, *, base: str | None, fmt: str, output: Path | None, no_git: bool) -> int:
    from synthgov.reporting import Format, render

    now = datetime.now(UTC)  # the checker's clock, read once (BRIEF §9)
    if no_git:
        tree = _working_tree(root)
        policy = _base_policy(tree, "the working tree's policy cannot be loaded")
        changes = [(p, "M") for p in tree.list("datasets") if _release_of(p)]
        base_sha = head_sha = ""
        results, top = _decide(changes, policy, tree, None, now)
    else:
        base_sha, head_sha, changes, base_tree, head_tree = _git_inputs(root, base)
        policy = _base_policy(
            base_tree, f"the base commit {base_sha[:12]}'s policy cannot be loaded"
        )
        results, top = _decide(changes, policy, head_tree, base_tree, now)
        if any(path == layout.POLICY and status != "D" for path, status in changes):
            try:
                proposed = head_tree.load(layout.POLICY, "policy")
            except InputError:
                pass  # already a files finding
            else:
                top += policy_impact(proposed, policy, base_tree, now)
    notes = () if results or top else ("no governance file changed: nothing to check",)
    verdict = Verdict(base=base_sha, head=head_sha, releases=tuple(results), findings=tuple(top),
                      rules_evaluated=len(policy.model.rules) * len(results), evaluated_at=now,
                      notes=notes)  # fmt: skip
    color = (
        fmt == "text" and output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    text = render(verdict, Format(fmt), color=color)
    if output is not None:
        _write(output, text)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    return verdict.exit_code
