"""`synthgov.signals`: SIGTERM taken as Ctrl-C, and signals held while a clean-up is recorded.

The signals are real, sent by this process to itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def test_sigterm_during_any_command_runs_its_clean_up_and_exits_143_in_one_line(
    tmp_path: Path,
) -> None:
    """Every command, not only `evaluate`: SIGTERM (a cancelled CI job) used to end a
    `check` or an `audit` at once, leaving its temporary output sibling behind; through
    `cli.Command` it takes Ctrl-C's path (the `finally` that removes the sibling runs).
    In a process of its own, since the old default action ends the process."""
    sibling = tmp_path / ".report.json.tmp"
    script = f"""
import os, signal, sys, time
import click
from synthgov import cli

@click.command(cls=cli.Command, name="long-run")
def long_run():
    open({str(sibling)!r}, "w").close()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    finally:
        os.unlink({str(sibling)!r})

cli.cli.add_command(long_run)
sys.exit(cli.main(["long-run"]))
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )  # fmt: skip
    assert (ran.returncode, ran.stderr) == (143, "synthgov: terminated\n")
    assert not sibling.exists()
