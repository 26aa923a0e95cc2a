"""SIGTERM as Ctrl-C: CI runners cancel a job with SIGTERM, whose default action ends the
process at once, with no clean-up (an `evaluate --dask` spill folder, an output's
temporary sibling stay behind). Every command runs inside `sigterm_as_interrupt`
(`cli.Command`).

Inside `sigterm_as_interrupt` SIGTERM raises a KeyboardInterrupt in the main thread, so it
takes Ctrl-C's path through every clean-up (Dask cancels its wait on the cluster, the
spill directory is removed, no report is written); at the boundary it becomes
`Terminated`, which the CLI reports in one line with the shells' 128 + SIGTERM = 143.

`held` closes the gap Ctrl-C and SIGTERM could otherwise fall into: between making
something that needs clean-up (a folder) and recording where it is.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(BaseException):
    """The run ended on SIGTERM, after its clean-up (not an Exception: nothing may swallow it)."""


class _Interrupt(KeyboardInterrupt):
    """SIGTERM on its way through the clean-up Ctrl-C runs."""


def _raise(signum: int, frame: FrameType | None) -> None:
    raise _Interrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises as Ctrl-C does within, and `Terminated` leaves; the previous handler
    comes back at the end. Outside the main thread (a caller's worker thread), where no
    handler can be set, SIGTERM keeps its action."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    if previous is None:  # set outside Python: its closest Python equivalent
        previous = signal.SIG_DFL
    try:
        yield
    except _Interrupt:
        raise Terminated from None
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back within and delivered at its end, to their handlers
    then: for a few statements that make something and record it for clean-up. Outside
    the main thread (where handlers cannot be set) nothing is held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {number: signal.signal(number, hold) for number in _HELD}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        if pending:
            signal.raise_signal(pending[0])


_HELD = (signal.SIGINT, signal.SIGTERM)
