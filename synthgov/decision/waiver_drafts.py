"""A new waiver, drafted within the policy's bounds (pure): `synthgov waiver new`.

The draft is judged by the same `files.consistency.waiver_problems` that `validate` and
`check` apply, so a waiver this module writes is one the gate accepts once approved. What
the policy forbids (a hard rule, a rule without a `waivers.max_relax` bound, a looser
threshold, a longer horizon) is `Forbidden`, naming the bound and where it is set; what
cannot be a waiver at all (an unknown rule, a threshold outside the metric's range, an
invalid id) is an `InputError` at the option that supplied it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from synthgov import options
from synthgov.errors import InputError
from synthgov.files import governance
from synthgov.files.consistency import waiver_problems
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded
from synthgov.files.writing import schema_url, to_yaml
from synthgov.models import Policy, Waiver
from synthgov.models.common import Enforcement

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")


class Forbidden(Exception):
    """The policy's bounds forbid this waiver; nothing is written (exit 1)."""


@dataclass(frozen=True)
class Draft:
    """The waiver, its path and text, and the roles whose approvals it needs."""

    waiver: Waiver
    path: str
    text: str
    approvals: dict[str, int]


def default_id(rule: str, now: datetime) -> str:
    """`<rule in words>-<YYYYMMDD>`: `fidelity.detection_auc` -> `fidelity-detection-auc-20260902`."""
    words = "-".join(w for w in re.split(r"[^A-Za-z0-9]+", rule) if w)[:53].strip("-")
    return f"{words or 'waiver'}-{now:%Y%m%d}"


def checked_id(text: str) -> str:
    """A waiver id as typed with `--id`: it names a file, so never `../x`.

    Raises:
        InputError: not letters, digits and hyphens starting with a letter or digit.
    """
    if not _ID.fullmatch(text):
        raise InputError.at(
            "--id",
            f"{text!r} is not a waiver id; expected letters, digits and hyphens, e.g. GRC-1432",
        )
    return text


def waiver_path(release: Release, waiver_id: str) -> str:
    return f"{release.folder}/waivers/{checked_id(waiver_id)}.yaml"


def draft(
    policy: Loaded[Policy],
    release: Release,
    *,
    rule: str,
    relax_to: float,
    days: int,
    reason: str,
    owner: str,
    ticket: str,
    waiver_id: str | None,
    now: datetime,
) -> Draft:
    """The waiver of `rule` for `release`, relaxed to `relax_to` for `days` from `now`.

    Raises:
        InputError: an option no waiver can hold.
        Forbidden: what the policy's `waivers` bounds (or the rule's enforcement) forbid.
    """
    model = policy.model
    found = model.rules.get(rule)
    if found is None:
        known = ", ".join(sorted(model.rules))
        raise InputError.at("--rule", f"{rule!r} is not a rule of the policy; its rules: {known}")
    if not math.isfinite(relax_to):
        raise InputError.at("--relax-to", f"{relax_to} is not a finite number")
    if problem := found.out_of_range(relax_to):
        raise InputError.at("--relax-to", problem)
    if days < 1:
        raise InputError.at("--days", f"{days} is not a positive number of days")
    if found.enforcement is Enforcement.HARD:
        at = policy.document.locate(("rules", rule, "enforcement"))
        raise Forbidden(f"{rule} is hard (set at {at}); a hard rule cannot be waived")
    limits = model.waivers
    if rule not in limits.max_relax:
        at = policy.document.locate(("waivers",), key=True)
        raise Forbidden(
            f"the policy sets no waivers.max_relax bound for {rule} (waivers at {at}), "
            "so it cannot be waived"
        )
    bound = limits.max_relax[rule]
    if not found.is_tighter_or_equal(relax_to, bound):
        at = policy.document.locate(("waivers", "max_relax", rule))
        raise Forbidden(
            f"--relax-to {relax_to:g} goes beyond the policy's bound for {rule} "
            f"({found.op} {bound:g}, set at {at})"
        )
    if days > limits.max_days:
        at = policy.document.locate(("waivers", "max_days"))
        raise Forbidden(
            f"--days {days} is more than the policy's waivers.max_days {limits.max_days} "
            f"(set at {at})"
        )
    created = now.replace(microsecond=0)
    chosen = waiver_id if waiver_id is not None else default_id(rule, created)
    data = {
        "schema_version": 1,
        "id": chosen,
        "release": str(release),
        "rule": rule,
        "relax_to": relax_to,
        "justification": reason,
        "owner": owner,
        "ticket": ticket,
        "created_at": created,
        "expires_at": created + timedelta(days=days),
    }
    labels = {"id": "--id", "justification": "--reason", "owner": "--owner", "ticket": "--ticket"}
    waiver = options.build(Waiver, data, labels, "waiver new")
    path = waiver_path(release, chosen)
    text = to_yaml(waiver, schema_url("waiver", path))
    loaded = governance.load_bytes(text.encode(), path, Waiver)
    problems = waiver_problems(loaded, policy)
    if problems:  # the checks above are these; a disagreement must not write a waiver
        raise Forbidden(problems[0].message)
    return Draft(waiver, path, text, dict(limits.approvals))
