"""A table's content identity, as the governance core reads it (pure; no numpy).

`synthgov.metrics.rows` computes a table's fingerprint (sha256 over its sorted row hashes)
and sketch (its smallest distinct row hashes) when a table is evaluated; manifests and
reports record them. Here they are compared without the table:

- `derive_seed`: the evaluation seed follows from the three tables' fingerprints, so an
  author cannot pick a lucky one (BRIEF §11.2); `check` recomputes it from the report.
- `shared_rows`: how many distinct rows two tables have in common, estimated from their
  sketches (exact when both have at most `SKETCH_SIZE` distinct rows), so that a revoked
  table re-shipped in another order, format or mixed with new rows is recognised
  (BRIEF §11.3).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

FINGERPRINT_TAG = b"synthgov rows v1\0"
SEED_TAG = b"synthgov seed v1\0"
#: distinct row hashes a sketch keeps: the share of common rows is estimated within about
#: ±0.09 (two standard errors of a Jaccard estimate at 1/2) from 128
SKETCH_SIZE = 128


def derive_seed(real: str, holdout: str, synthetic: str) -> int:
    """The evaluation seed of three tables, from their fingerprints (0 <= seed < 2**32)."""
    digest = hashlib.sha256(SEED_TAG + f"{real}\0{holdout}\0{synthetic}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def shared_rows(
    sketch_a: Sequence[str],
    distinct_a: int,
    sketch_b: Sequence[str],
    distinct_b: int,
    margin: float = 0.0,
) -> float:
    """The estimated number of distinct rows tables A and B share; exact when both sketches
    hold every distinct row of their table.

    Otherwise the bottom-k estimate: among the k smallest hashes of the union (k = the smaller
    sketch's size), the share found in both sketches estimates the Jaccard index J (every
    one of those hashes lies below both sketches' largest, so membership is known
    exactly); then |A ∩ B| = J (|A| + |B|) / (1 + J). With `margin` m, J is first raised
    by m of its standard errors (the share found is a binomial of the sketch's size), for
    a decision that must not miss a shared table by the estimate's noise.
    """
    a, b = {int(h, 16) for h in sketch_a}, {int(h, 16) for h in sketch_b}
    if not a or not b:
        return 0.0
    if len(a) >= distinct_a and len(b) >= distinct_b:  # both sketches hold every row
        return float(len(a & b))
    size = min(len(a), len(b))
    union = sorted(a | b)[:size]
    jaccard = sum(1 for h in union if h in a and h in b) / len(union)
    jaccard = min(1.0, jaccard + margin * math.sqrt(jaccard * (1 - jaccard) / size + 1 / size**2))
    return jaccard * (distinct_a + distinct_b) / (1 + jaccard)


@dataclass(frozen=True)
class Table:
    """What a manifest records of its artifact's content (old manifests: sha256 only)."""

    sha256: str
    fingerprint: str | None = None
    sketch: tuple[str, ...] = ()
    distinct_rows: int | None = None


@dataclass(frozen=True)
class RevokedTable:
    """A revoked release's artifact, as `check` compares new artifacts with it."""

    release: str
    table: Table

    def shipped_again(self, artifact: Table) -> str | None:
        """Why `artifact` is this revoked table again, or None.

        The same bytes; the same rows in any order or format (the fingerprint); or at
        least half of either table's distinct rows in common, estimated from the sketches
        and given the benefit of two standard errors: shuffling, converting, diluting with
        new rows or dropping some rows does not make a revoked table new. A sketch is a
        sample of 128 row hashes, so an author who knows them can drop exactly those rows
        (docs/security.md, known limits); the privacy figures still judge what ships.
        """
        revoked = self.table
        if artifact.sha256 == revoked.sha256:
            return f"is the file {self.release} shipped"
        if artifact.fingerprint is not None and artifact.fingerprint == revoked.fingerprint:
            return f"holds the same rows as {self.release}'s, in another order or format"
        if not (
            artifact.sketch and revoked.sketch and artifact.distinct_rows and revoked.distinct_rows
        ):
            return None
        sketches = (artifact.sketch, artifact.distinct_rows, revoked.sketch, revoked.distinct_rows)
        smaller = min(artifact.distinct_rows, revoked.distinct_rows)
        if shared_rows(*sketches, margin=2.0) >= SHARED_LIMIT * smaller:
            common = shared_rows(*sketches)
            return (
                f"shares about {common:,.0f} distinct rows with {self.release}'s table "
                f"({common / artifact.distinct_rows:.0%} of its own, "
                f"{common / revoked.distinct_rows:.0%} of the revoked one's; estimated from row sketches)"
            )
        return None


#: a table sharing at least this share of the smaller table's distinct rows with a revoked
#: one is that table again (BRIEF §11.3: "at least half its rows")
SHARED_LIMIT = 0.5
