"""The checker's clock and the dates files claim (pure).

Time comes from the checking machine's clock, read once per run (BRIEF §9); every date
written in a file is a claim. A claim later than that clock, beyond `SKEW` for clocks that
disagree a little, is refused wherever it could decide something: a manifest dated 2099
would stay "current" and never fall due for revalidation. Date arithmetic saturates at
the ends of `datetime` instead of raising OverflowError, so that no date a file or
`--at` can hold turns into an internal error.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from synthgov.models.common import format_timestamp

#: How far ahead of the checker's clock a claimed date may be (clocks disagree a little).
SKEW = timedelta(minutes=5)
#: The instants `--at` may name: replays of the past and near future, far from the
#: limits of `datetime` (year 1 to 9999) so that dates derived from them stay real.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
_MIN = datetime.min.replace(tzinfo=UTC)
_MAX = datetime.max.replace(tzinfo=UTC)


def shift(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, saturated at the first and last instants `datetime` can hold."""
    try:
        return moment + delta
    except OverflowError:
        return _MAX if delta > timedelta(0) else _MIN


def is_future(claimed: datetime, now: datetime) -> bool:
    """Whether a claimed date lies after the checker's clock by more than `SKEW`."""
    return claimed > shift(now, SKEW)


def future_problem(field: str, claimed: datetime, now: datetime) -> str | None:
    """Why a claimed date cannot be accepted at `now`, or None when it can."""
    if not is_future(claimed, now):
        return None
    return (
        f"{field} {format_timestamp(claimed)} is after the checker's clock "
        f"({format_timestamp(now.replace(microsecond=0))}, allowing "
        f"{int(SKEW.total_seconds() // 60)} minutes of skew)"
    )


def from_timestamp(seconds: int) -> datetime:
    """A Git timestamp as an aware UTC time, clamped to what `datetime` can hold (git
    accepts dates far beyond the year 9999)."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return _MAX if seconds > 0 else _MIN
