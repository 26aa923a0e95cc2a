"""A release report page that a pull request commits (`report.html`, BRIEF §11.7).

The page decides nothing (`report.json` is what the gates judge), but reviewers and
readers of the repository open it. So a committed page must be exactly the page synthgov
draws from the release's committed report.json, with the base policy's scorecard and
minimum cell count (`reporting.release_report.page`, what `release new` writes): one
edited by hand, drawn from another report or under a smaller minimum would show figures
nobody judged, or the counts of a few people. Drawing is deterministic and takes a few
milliseconds. Deleting the page is allowed: the catalog draws its own.
"""

from __future__ import annotations

import json
from decimal import Decimal

from synthgov.decision.findings import Finding
from synthgov.files.loading import Loaded
from synthgov.gates import files
from synthgov.models import Card, Policy, Report

RULE = "files.report_page"
NAME = "report.html"
_FIX = (
    "Delete the page (the catalog draws its own from report.json), or write it again with "
    "this version of synthgov (`synthgov release new ... --replace` for a draft)."
)


def _block(path: str, message: str) -> Finding:
    return files.block(RULE, path, message, _FIX)


def check(
    path: str, page: bytes, report: Loaded[Report], card: Loaded[Card], policy: Loaded[Policy]
) -> list[Finding]:
    """The page at `path` against the one drawn from `report` (the release's report.json,
    loaded), its dataset's `card` and the base `policy`."""
    from synthgov.reporting.release_report import page as draw

    # drawn from the JSON values as `release new` draws them (plain floats: the loader's
    # exact decimals would print differently)
    values = json.loads(json.dumps(report.document.data, cls=_Decimals))
    if page == draw(values, policy, card):
        return []
    return [
        _block(
            path,
            f"{path} is not the page synthgov draws from {report.document.path} with the base "
            "policy: a page that differs shows figures that were not judged",
        )
    ]


class _Decimals(json.JSONEncoder):
    """A loaded document's numbers (`Decimal`) as the JSON text they were read from."""

    def default(self, o: object) -> object:
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


def unverifiable(path: str, reason: str) -> Finding:
    """A page that cannot be compared (its report or card does not load, it is a link):
    it blocks, as anything the gate cannot check does."""
    return _block(path, f"{path} cannot be checked against its release: {reason}")
