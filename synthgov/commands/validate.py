"""`synthgov validate [PATH...]`: every governance file, every problem, one pass.

Problems go to stdout as `file:line:col: message` (BRIEF §10.7; `1:1` for a problem with
the whole file), the summary to stderr.
Never imports pandas or scikit-learn: it runs in pre-commit hooks.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from synthgov.errors import InputError, Location, Problem
from synthgov.files import consistency, governance, layout
from synthgov.files.loading import Loaded
from synthgov.files.paths import iter_files, relative_to_root
from synthgov.models import Card, Policy

if TYPE_CHECKING:
    from synthgov.models import Ledger, Registry


def _targets(root: Path, paths: tuple[str, ...], cwd: Path) -> tuple[list[str], list[Problem]]:
    """Repository-relative governance files to validate, and problems with the paths given."""
    if not paths:
        found = [f for top in layout.GOVERNANCE_DIRS for f in iter_files(root, top)]
        return [f.as_posix() for f in found if layout.is_governed(f)], []
    files: list[str] = []
    problems: list[Problem] = []
    for given in paths:
        try:  # a path is relative to where the user stands, as in every shell tool
            rel = relative_to_root(root, os.path.normpath(cwd / given)).as_posix()
        except InputError as exc:  # named as the user typed it
            problems.extend(Problem(Location(given), p.message) for p in exc.problems)
            continue
        full = root / rel
        try:
            folder = full.is_dir() and not full.is_symlink()
        except OSError as exc:  # a name too long for the file system
            problems.append(Problem(Location(given), f"cannot read: {exc.strerror or exc}"))
            continue
        if folder:
            files.extend(f.as_posix() for f in iter_files(root, rel) if layout.is_governed(f))
        else:
            files.append(rel)
    return sorted(set(files)), problems


def pinned(problem: Problem) -> Problem:
    """The problem at a line and column, 1:1 for one about the whole file (a symbolic link,
    a file too large, a stray file): every line is `file:line:col: message`, as ruff and
    compilers write, which editors and CI problem matchers read."""
    where = problem.location
    return Problem(Location(where.path, where.line or 1, where.column or 1), problem.message)


def lockout_warnings(
    root: Path,
    policy: Loaded[Policy],
    registry: Loaded[Registry] | None,
    now: datetime | None = None,
) -> list[str]:
    """Warnings (`file:line:col: warning: …`) when the registry cannot approve a change to
    policy/: a role of `policy_changes` that no reviewer holds, or fewer holders with a key
    valid now than the approvals need. Registering one is itself a change to policy/, so a
    repository whose first commit has no policy-admin can never change its policy again."""
    from synthgov.models import Registry  # only when policy/ is validated

    if registry is None:
        if not (root / layout.REVIEWERS).exists():
            return []
        try:
            registry = governance.load(root, layout.REVIEWERS, Registry)
        except InputError:
            return []  # reported as a problem when validated; nothing to count
    assert isinstance(registry.model, Registry)
    moment = now or datetime.now(UTC)
    spot = policy.document.locate(("policy_changes", "approvals"))
    rule = f"{spot.path}:{spot.line}" if spot.line else spot.path
    where = registry.document.locate(("reviewers",))
    at = f"{where.path}:{where.line or 1}:{where.column or 1}"
    warnings = []
    for role, count in policy.model.policy_changes.approvals.items():
        holders = registry.model.holders(role)
        usable = [r for r in holders if any(k.is_valid_at(moment) for k in r.keys)]
        needed = min(count, max(1, len(holders)))
        if not holders:
            warnings.append(
                f"{at}: warning: no reviewer holds the role {role}, whose approval every "
                f"change to policy/ needs ({rule}); register one in the first commit "
                f"(synthgov reviewer add ID --role {role} ...), or no later change to "
                "policy/, this registry included, can be approved"
            )
        elif len(usable) < needed:
            warnings.append(
                f"{at}: warning: changes to policy/ need {needed} {role} approval(s) "
                f"({rule}) but only {len(usable)} {role} has a key valid now; register "
                "another or renew a key while a change to policy/ can still be approved"
            )
    return warnings


def _ledger_of(
    root: Path,
    card: Card,
    loaded: dict[str, Loaded],  # type: ignore[type-arg]
) -> Loaded[Ledger] | None:
    """The card's source ledger, validated with the rest or read for the comparison; None
    when there is none or it is invalid (reported on its own when validated)."""
    from synthgov.models import Ledger  # built only when a card is validated

    path = layout.ledger_path(card.source.id)
    found = loaded.get(path)
    if found is None and (root / path).is_file():
        try:
            found = governance.load(root, path, Ledger)
        except InputError:
            return None
    return found if found is not None and isinstance(found.model, Ledger) else None


def run(root: Path, paths: tuple[str, ...], cwd: Path | None = None) -> int:
    files, problems = _targets(root, paths, cwd or root)
    if not files and not problems:
        where = " ".join(paths) or "policy/, datasets/ or budgets/"
        raise InputError.at(where, f"no governance files found (repository root: {root})")
    loaded: dict[str, Loaded] = {}  # type: ignore[type-arg]
    for path in files:
        try:
            loaded[path] = governance.load(root, path)
        except InputError as exc:
            problems.extend(exc.problems)
    policy = loaded.get(layout.POLICY)
    if policy is None and layout.POLICY not in files and (root / layout.POLICY).exists():
        try:  # cross-file rules need the policy even when only a card was named
            policy = governance.load(root, layout.POLICY)
        except InputError:
            click.echo(f"{layout.POLICY} is invalid; cross-file checks skipped", err=True)
    placed = [layout.classify(f) for f in files]
    if policy is None and any(p is not None and p.kind in ("card", "waiver") for p in placed):
        click.echo(
            f"warning: no valid {layout.POLICY}: card overrides and waivers were not checked against it",
            err=True,
        )
    for item in loaded.values():
        if isinstance(item.model, Card):  # needs no policy
            problems.extend(consistency.constraint_problems(item))
            ledger = _ledger_of(root, item.model, loaded)
            if ledger is not None:
                problems.extend(consistency.unit_problems(item, ledger))
    if policy is not None:
        assert isinstance(policy.model, Policy)
        for item in loaded.values():
            problems.extend(consistency.problems_against_policy(item, policy))
    if policy is not None and {layout.POLICY, layout.REVIEWERS} & set(files):
        for warning in lockout_warnings(root, policy, loaded.get(layout.REVIEWERS)):
            click.echo(warning, err=True)
    problems.sort(key=lambda p: (p.location.path, p.location.line or 0, p.location.column or 0))
    for problem in problems:
        click.echo(str(pinned(problem)))
    bad = len({p.location.path for p in problems})
    if problems:
        click.echo(
            f"synthgov validate: {len(problems)} problem(s) in {bad} file(s) of {len(files)}",
            err=True,
        )
        return 2
    click.echo(f"synthgov validate: {len(files)} file(s) valid", err=True)
    return 0
