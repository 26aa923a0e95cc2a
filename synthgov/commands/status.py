"""`synthgov status [DATASET]`: per dataset, the release to use and why the others are not;
per release, its verdict, which approvals it has and still needs, and what withdrew it.

A release merged on the default base (origin/HEAD, else main; HEAD itself when neither
exists) is judged as the audit judges it, at its merge commit; one HEAD adds or changes
is judged exactly as `check` judges a pull request. Release files are read from HEAD's
commit, so uncommitted edits are not counted. The view is gathered by
`synthgov.decision.status.collect`, which the catalog publishes too; this module renders it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from synthgov import inventory, options
from synthgov.budget import tuning
from synthgov.budget.accounting import figure_text
from synthgov.decision.status import collect
from synthgov.inventory import DatasetState


def _since(item: dict[str, Any]) -> str:
    """The end of a withdrawal's line: since when, and the fallback."""
    when = f" on {item['at'][:10]}" if item["at"] else ""
    return f"{when}; fallback {item['fallback'] or 'none'}"


def render_dataset(state: DatasetState, today: Any) -> list[str]:
    """A short text block for one dataset (no I/O)."""
    entry = inventory.summary(state)
    head = f"{state.dataset}"
    if entry["title"]:
        head += f" — {entry['title']} ({entry['classification']}, owner {entry['owner']})"
    lines = [head, f"  current: {entry['current'] or 'none approved'}"]
    chosen = inventory.current(state)
    if chosen is not None and chosen.manifest is not None:
        lines += [f"  tuning: {line}" for line in tuning.lines(chosen.manifest.privacy.tuning)]
    found = entry["artifact"]
    if found is not None:
        where = found["location"] or "location not published (a local path)"
        held = (
            f"content fingerprint {found['fingerprint']}"
            if found["fingerprint"]
            else f"file sha256 {found['sha256']}"
        )
        lines.append(f"  artifact: {where}; {held}")
    for item in entry["pending"]:
        lines.append(
            f"  pending: {item['release']} (blocked by {', '.join(item['blocking']) or '?'})"
        )
    taken = {item["release"]: item for item in entry["withdrawn"]}
    for item in entry["revoked"]:
        kind = f"{item['incident_class']}: " if item["incident_class"] else ""
        lines.append(
            f"  revoked: {item['release']} ({kind}{item['reason']}){_since(taken[item['release']])}"
        )
    for item in entry["withdrawn"]:
        if item["cause"] != "revoked":
            lines.append(
                f"  withdrawn: {item['release']} ({item['cause']}: {item['reason']}){_since(item)}"
            )
    budget = entry["budget"]
    if budget is not None:
        figure = "rho" if budget["notion"] == "zcdp" else "epsilon"
        lines.append(
            f"  budget {budget['source']}: {figure} {figure_text(budget['spent'][figure])} of "
            f"{figure_text(budget['cap'][figure])} spent, {figure_text(budget['remaining'][figure])} left"
        )
    due = inventory.next_revalidation(state)
    if due is not None:
        late = " (overdue)" if inventory.is_overdue(due, today) else ""
        lines.append(f"  next revalidation: {due.isoformat()}{late}")
    lines += [f"  problem: {p}" for p in entry["problems"]]
    return lines


def run(root: Path, dataset: str | None, *, fmt: str) -> int:
    if dataset is not None:
        options.slug(dataset, "DATASET")
    now = datetime.now(UTC)  # the checker's clock, read once (BRIEF §9)
    found = collect(root, dataset, now, reports=False)  # status draws no report
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "base": found.base,
                    "head": found.head,
                    "releases": found.releases,
                    "datasets": [inventory.summary(d) for d in found.datasets],
                    "notices": [n.as_json() for n in found.notices],
                },
                indent=2,
            )
        )
        return 0
    if not found.releases:
        click.echo("no releases" + (f" of {dataset}" if dataset else ""))
    for item in found.releases:
        verdict = "approved" if item["verdict"] == "pass" else "pending"
        if item["state"] in ("revoked", "withdrawn"):
            verdict = item["state"]
        click.echo(f"{item['release']}: {verdict}")
        judged = item["judged"]
        if judged["as"] == "merged":
            click.echo(f"  judged at its merge: {judged['commit'][:12]}, {judged['at'][:10]}")
        taken = item["withdrawn"]
        if taken is not None and taken["cause"] != "revoked":
            click.echo(f"  withdrawn: {taken['cause']}: {taken['reason']}{_since(taken)}")
        for role, seen in item["approvals"].items():
            have = ", ".join(seen["present"]) or "none"
            need = f"; needs {seen['missing']} more" if seen["missing"] else ""
            click.echo(f"  {role}: {len(seen['present'])}/{seen['required']} ({have}){need}")
        other = [rule for rule in item["blocking"] if rule != "approvals.missing"]
        if other:
            click.echo(f"  blocked by: {', '.join(other)}")
        for waived in item["waived"]:
            until = waived["until"][:10]
            click.echo(f"  waived: {waived['rule']} until {until} ({waived['waiver']})")
        for notice in found.notices:
            if notice.release == item["release"]:
                click.echo(f"  warning: {notice.message}")
    for state in found.datasets:
        click.echo("")
        click.echo("\n".join(render_dataset(state, now.date())))
    keys = [n for n in found.notices if n.kind == "key"]
    if keys:
        click.echo("")
    for notice in keys:
        click.echo(f"warning: {notice.message}")
    return 0
