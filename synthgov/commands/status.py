"""`synthgov status [DATASET]`: each release at HEAD, what the gate says, which approvals
it has and which it still needs.

Judged exactly as `check` judges a pull request: the trust root is the default base
(origin/HEAD, else main; HEAD itself when neither exists) and the release files are
read from HEAD's commit, so uncommitted edits are not counted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from synthgov import engine, layout, options
from synthgov.commands.check import Trust, git_sides, make_trust, release_context, release_of
from synthgov.errors import GitError, InputError
from synthgov.gates.approvals import standing
from synthgov.history import Repository


def _release_status(release: str, trust: Trust, sides: Any) -> dict[str, Any]:
    try:
        ctx = release_context(release, trust, sides.head_tree, sides.base_tree)
        result = engine.check_release(ctx)
        _, filled, required = standing(ctx)
    except InputError as exc:
        return {"release": release, "verdict": "blocked", "approvals": {},
                "blocking": ["files.invalid"], "reason": str(exc.problems[0])}  # fmt: skip
    except Exception as exc:  # one release that cannot be judged does not hide the others
        return {"release": release, "verdict": "blocked", "approvals": {},
                "blocking": ["unchecked"], "reason": f"{type(exc).__name__}: {exc}"}  # fmt: skip
    blocking = sorted({f.rule for f in result.findings if f.blocks})
    counts = {
        role: {
            "required": need,
            "present": filled[role],
            "missing": max(0, need - len(filled[role])),
        }
        for role, need in sorted(required.items())
    }
    return {
        "release": release,
        "verdict": result.verdict,
        "approvals": counts,
        "blocking": blocking,
    }


def run(root: Path, dataset: str | None, *, fmt: str) -> int:
    if dataset is not None:
        options.slug(dataset, "DATASET")
    now = datetime.now(UTC)
    with Repository.open(root) as repo:
        try:
            base = repo.default_base()
        except GitError:
            base = "HEAD"
        sides = git_sides(repo, base)
        trust = make_trust(sides.base_tree, f"the base {sides.base[:12]}'s", now, sides.provenance,
                       enforce_approvals=True)  # fmt: skip
        prefix = layout.card_path(dataset).rsplit("/", 1)[0] if dataset else "datasets"
        releases = sorted({r for p in sides.head_tree.list(prefix) if (r := release_of(p))})
        with trust.verifier:
            found = [_release_status(r, trust, sides) for r in releases]
    if fmt == "json":
        click.echo(json.dumps({"base": sides.base, "head": sides.head, "releases": found},
                              indent=2))  # fmt: skip
        return 0
    if not found:
        click.echo("no releases" + (f" of {dataset}" if dataset else ""))
    for item in found:
        click.echo(f"{item['release']}: {'approved' if item['verdict'] == 'pass' else 'pending'}")
        for role, seen in item["approvals"].items():
            have = ", ".join(seen["present"]) or "none"
            need = f"; needs {seen['missing']} more" if seen["missing"] else ""
            click.echo(f"  {role}: {len(seen['present'])}/{seen['required']} ({have}){need}")
        other = [rule for rule in item["blocking"] if rule != "approvals.missing"]
        if other:
            click.echo(f"  blocked by: {', '.join(other)}")
    return 0
