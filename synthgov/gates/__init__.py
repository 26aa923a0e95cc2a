"""The gates of BRIEF §4, one module each: `check(ctx) -> list[Finding]`, pure.

The decision (`synthgov.decision.contexts`) builds a `ReleaseContext` from the base
commit (trust root: policy, and the card's classification when the card already exists
there) and the head (the release's own files); gates only read it. Some gates judge
what lies outside one release's context (`files`, `changes`, the ledgers in `budget`);
the decision hands them the files it read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from synthgov.content import RevokedTable
from synthgov.files.loading import Loaded
from synthgov.models import Card, Ledger, Manifest, Policy, Report, Waiver
from synthgov.models.common import Classification

if TYPE_CHECKING:
    from synthgov.decision.review import Evidence, Review
    from synthgov.models import Revocation


@dataclass(frozen=True)
class ReleaseContext:
    release: str
    policy: Loaded[Policy]  # from the base commit
    card: Loaded[Card]  # at head
    card_sha256: str  # of the card's bytes at head
    classification: Classification  # the base card's, when the card exists on the base
    manifest: Loaded[Manifest]
    report: Loaded[Report]
    waivers: tuple[Loaded[Waiver], ...]
    now: datetime  # the checker's clock, read once per run
    base_card: Card | None = None  # the card on the base, when the dataset exists there
    approvals: Evidence | None = None  # the approval files and who authored the release
    revocation: Loaded[Revocation] | None = None  # at head, when the release is revoked
    #: artifacts revoked on the base or in the pull request, with their content
    revoked_artifacts: tuple[RevokedTable, ...] = field(default=())
    ledger: Loaded[Ledger] | None = None  # the source's ledger at head (None: there is none)
    base_ledger: Loaded[Ledger] | None = None  # and on the base
    ledger_approved: bool = False  # the pull request's approvals cover its header change
    #: the strictest classification the base gives another dataset of this card's source,
    #: and that dataset, when the card is new or moves to another source (else None)
    source_floor: tuple[Classification, str] | None = None
    #: the newest release of the dataset on the base that is not revoked, and its
    #: `created_at`, when this release is new (else None)
    newest_on_base: tuple[str, datetime] | None = None

    @cached_property
    def review(self) -> Review:
        """The one review of the release's own approvals (`approvals.release_review`),
        computed once per context: the gate, `status`, `release new` and `audit` read it.

        Raises:
            ValueError: no approval evidence was gathered for this release.
        """
        from synthgov.gates.approvals import release_review

        return release_review(self)
