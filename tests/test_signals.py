"""`synthgov.signals`: SIGTERM taken as Ctrl-C, and signals held while a clean-up is recorded.

The signals are real, sent by this process to itself.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from synthgov.signals import Terminated, held, sigterm_as_interrupt


def _deliver() -> None:
    """Give Python the moment at which it runs a pending signal's handler."""
    time.sleep(0.01)


def test_sigterm_ends_the_block_as_terminated_after_its_clean_up_ran() -> None:
    cleaned = []
    with pytest.raises(Terminated), sigterm_as_interrupt():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            _deliver()
            raise AssertionError("SIGTERM did not interrupt")
        except KeyboardInterrupt:  # Ctrl-C's path
            cleaned.append("spill removed")
            raise
    assert cleaned == ["spill removed"]


def test_a_signal_during_held_reaches_its_handler_only_once_the_block_is_done() -> None:
    """What `held` stops: an interrupt between making a folder and recording it for
    clean-up, which left an empty spill folder behind."""
    done = []
    with pytest.raises(Terminated), sigterm_as_interrupt(), held():
        os.kill(os.getpid(), signal.SIGTERM)
        _deliver()
        done.append("made and recorded")
    assert done == ["made and recorded"]


def test_the_previous_sigterm_handler_is_back_after_either_block() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with sigterm_as_interrupt(), held():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
