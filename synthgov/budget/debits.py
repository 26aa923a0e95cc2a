"""Debits: one hash-chained entry appended to a privacy-budget ledger, unless it would
overdraw (BRIEF §10.10), and the figures as typed that a debit or a cap is made of.

The entry is appended by editing the ledger's text (comments and layout stay), after
checking the card, the release's manifest when it exists, the chain and the cap; an
overdraw is refused and the ledger left untouched. Figures are kept as the exact
decimals typed, because ledger totals are compared with the cap in exact decimal
arithmetic (BRIEF §10.11). `budget debit` and `release new` both call `record_debit`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from synthgov import options
from synthgov.budget import accounting, ledgers, tuning
from synthgov.budget.accounting import figure_text
from synthgov.errors import InputError, UsageError
from synthgov.files import governance, layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded, reads_back_as, reads_exactly
from synthgov.files.paths import read_bytes, replace_file
from synthgov.files.writing import to_yaml
from synthgov.gates.budget import figures_of, loss_figures, show
from synthgov.models import Card, Ledger, Manifest
from synthgov.models.common import (
    PRIVACY_MAX,
    PRIVACY_MIN,
    PRIVACY_RANGE,
    Notion,
    ReleaseRef,
    format_timestamp,
)
from synthgov.models.ledger import NOTION_RULES, Entry
from synthgov.models.loss import Loss, Tuning, TuningRuns
from synthgov.signing.canonical import canonical

USAGE = "give the cap as --epsilon E [--delta D] or --rho R --delta D"


#: The most significant digits a figure can have: a double's shortest form has up to 17
#: (`0.024355970359538362`), and more than 15 read back exactly only as such a form
#: (`loading.reads_exactly`).
MAX_DIGITS = 17


def notion_of(epsilon: str | None, delta: str | None, rho: str | None) -> Notion:
    """The accounting notion the given cap options select.

    Raises:
        UsageError: a combination that names no notion (rho without delta, delta alone,
            epsilon with rho, nothing).
    """
    if epsilon is not None and rho is not None:
        raise UsageError(f"--epsilon and --rho cannot be combined; {USAGE}")
    if epsilon is not None:
        return Notion.APPROX if delta is not None else Notion.PURE
    if rho is not None:
        if delta is None:
            raise UsageError(f"--rho needs --delta (a zCDP ledger's cap is rho and delta); {USAGE}")
        return Notion.ZCDP
    if delta is not None:
        raise UsageError(f"--delta needs --epsilon or --rho; {USAGE}")
    raise UsageError(f"no cap given; {USAGE}")


def figure(text: str, label: str, *, below_one: bool = False) -> Decimal:
    """A privacy figure as typed: in the models' range, and one the ledger reads back exactly
    (up to 15 significant digits, or any float as Python prints it, up to 17).

    Raises:
        InputError: not a positive number (see `options.positive_decimal`), outside
            `PRIVACY_MIN`..`PRIVACY_MAX`, more than 17 significant digits, or more than
            15 that are not a float's shortest form (they would not read back exactly).
    """
    value = options.positive_decimal(text, label, below_one=below_one)
    if not PRIVACY_MIN <= value <= PRIVACY_MAX:
        raise InputError.at(label, f"{text} is out of range; expected a number {PRIVACY_RANGE}")
    if len(value.normalize().as_tuple().digits) > MAX_DIGITS:
        raise InputError.at(
            label,
            f"{text} has more than {MAX_DIGITS} significant digits; "
            "a ledger keeps figures exactly as written",
        )
    if not reads_exactly(value):
        raise InputError.at(
            label,
            f"{text} has more than 15 significant digits and is not a float as Python "
            f"prints it ({float(value)!r}); a ledger keeps figures exactly as written",
        )
    return value


def is_zero(text: str | None) -> bool:
    """`0`, `0.0`, `+0e-3`: a figure of nothing (`--delta 0` is a pure debit)."""
    if text is None:
        return False
    shown = text.strip().removeprefix("+")
    if not options.NUMBER.fullmatch(shown):
        return False
    try:
        return Decimal(shown) == 0
    except ArithmeticError:  # an exponent beyond what Decimal can hold: refused as typed
        return False


def release_ref(text: str) -> Release:
    """The release of `--release DATASET@VERSION`."""
    try:
        TypeAdapter(ReleaseRef).validate_python(text, strict=True)
    except ValidationError:
        raise InputError.at(
            "--release", f"{text!r} is not a release; expected DATASET@VERSION, e.g. claims@2026.1"
        ) from None
    return Release.of(text)


def parse_loss(figures: dict[str, str | None], notion: Notion, path: str) -> Loss:
    """The debit's loss from the options, exact as typed, in a kind the ledger can hold;
    `--delta 0` is no delta (an (epsilon, 0) loss is a pure one)."""
    if figures["epsilon"] is not None and figures["rho"] is not None:
        raise UsageError(f"--epsilon and --rho cannot be combined; {DEBIT_USAGE}")
    if figures["epsilon"] is None and figures["rho"] is None:
        raise UsageError(f"no loss given; {DEBIT_USAGE}")
    if is_zero(figures["delta"]):  # (epsilon, 0)-DP is pure epsilon-DP: recorded as such
        figures = {**figures, "delta": None}
    values = {
        name: figure(text, f"--{name}", below_one=name == "delta")
        for name, text in figures.items()
        if text is not None
    }
    loss = options.build(Loss, values, {k: f"--{k}" for k in values}, "--epsilon")
    kinds = NOTION_RULES[notion][1]
    if loss.kind not in kinds:
        allowed = " or ".join(sorted(KIND_OPTIONS[k] for k in kinds))
        raise InputError.at(
            path,
            f"a {notion.value} ledger cannot record {KIND_OPTIONS[loss.kind or '']}; "
            f"debit it with {allowed}",
        )
    return loss


def parse_tuning(
    runs: int | None, figures: dict[str, str | None], own: Loss | None
) -> Tuning | None:
    """The tuning runs of `--tuning-runs N` and `--tuning-epsilon/-delta/-rho`: `none` for
    0 runs, one group of N runs at that loss each, None when not given. Their loss is in
    the release's own figures (`own`; None for a release without DP, which has no runs
    to record).

    Raises:
        UsageError: figures without --tuning-runs, or runs without figures, or 0 with them.
        InputError: a figure out of range, or of another kind than the release's.
    """
    given = {k: v for k, v in figures.items() if v is not None}
    if runs is None:
        if given:
            raise UsageError(f"--tuning-{next(iter(given))} needs --tuning-runs N")
        return None
    if runs == 0:
        if given:
            raise UsageError("--tuning-runs 0 (no tuning runs) takes no --tuning-* figures")
        return "none"
    if own is None:
        raise InputError.at(
            "--tuning-runs",
            "a release without DP figures has no loss to add tuning runs to; give its "
            "--epsilon or --rho, or --tuning-runs 0",
        )
    if not given or ("epsilon" in given) == ("rho" in given):
        raise UsageError(
            "--tuning-runs N needs each run's loss: --tuning-epsilon E [--tuning-delta D] "
            "or --tuning-rho R [--tuning-delta D], in the release's own figures"
        )
    if is_zero(given.get("delta")):
        del given["delta"]
    values = {
        name: figure(text, f"--tuning-{name}", below_one=name == "delta")
        for name, text in given.items()
    }
    labels = {"runs": "--tuning-runs", **{k: f"--tuning-{k}" for k in FIGURE_NAMES}}
    group = options.build(TuningRuns, {"runs": runs, **values}, labels, "--tuning-runs")
    if group.kind != own.kind:
        raise InputError.at(
            "--tuning-runs",
            f"each tuning run's loss is {KIND_OPTIONS[group.kind or '']} but the release's is "
            f"{KIND_OPTIONS[own.kind or '']}: give the runs' loss in the release's own figures "
            "(the ledger's unit)",
        )
    return [group]


FIGURE_NAMES = ("epsilon", "delta", "rho")


def tuning_data(record: Tuning | None) -> Any:
    """A tuning record as a file holds it."""
    if not isinstance(record, list):
        return record
    return [group.model_dump(exclude_none=True) for group in record]


KIND_OPTIONS = {
    "pure": "--epsilon alone",
    "approx": "--epsilon with --delta",
    "zcdp": "--rho alone",
    "zcdp+delta": "--rho with --delta",
    "": "no loss",
}


DEBIT_USAGE = "give the loss as --epsilon E [--delta D] or --rho R [--delta D]"


#: A parameter value's longest text (models.ledger.ParamValue).
MAX_PARAM_CHARS = 1000


def parse_parameters(pairs: tuple[str, ...]) -> dict[str, Any]:
    """`--param K=V` pairs; V reads as a YAML scalar would (`300` a number, `true` a boolean)."""
    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise InputError.at("--param", f"{pair!r} is not KEY=VALUE")
        if key in found:
            raise InputError.at("--param", f"{key} is given twice")
        if len(text) > MAX_PARAM_CHARS:
            raise InputError.at(
                "--param", f"{key}'s value has more than {MAX_PARAM_CHARS} characters"
            )
        value = reads_back_as(text)
        found[key] = text if value is None and text not in ("", "null", "~") else value
    return found


@dataclass(frozen=True)
class Debit:
    """The outcome of `record_debit`: written, or refused because it would overdraw."""

    written: bool
    path: str
    entry: Entry
    before: dict[str, Any]  # accounting.summary of the ledger before the debit
    after: dict[str, Any]  # ... and with it (what it would be, when refused)

    def message(self) -> str:
        loss = show(loss_figures(self.entry.loss))
        if tuning.runs(self.entry.tuning):
            loss += f" (the release's loss with its {tuning.describe(self.entry.tuning)})"
        if self.written:
            return (
                f"debited {self.path}: seq {self.entry.seq}, {self.entry.release}, {loss}; "
                f"{_spent_line(self.after)}, {_left(self.after)} left"
            )
        return (
            f"refused: debiting {self.entry.release} with {loss} would overdraw {self.path}: "
            f"{_spent_line(self.after, 'would be')}; remaining {_left(self.before)}; "
            "the ledger is unchanged"
        )


def binding(summary: dict[str, Any]) -> str:
    """The figure a ledger is gated on: rho for zCDP ledgers, epsilon otherwise."""
    return "rho" if "rho" in summary["cap"] else "epsilon"


def _spent_line(summary: dict[str, Any], verb: str = "now") -> str:
    figure = binding(summary)
    spent, cap = summary["spent"][figure], summary["cap"][figure]
    at = (
        f" at delta {figure_text(summary['cap']['delta'])}"
        if figure == "epsilon" and summary["cap"]["delta"]
        else ""
    )
    return f"spent {verb} {figure} {figure_text(spent)} of {figure_text(cap)}{at}"


def _left(summary: dict[str, Any]) -> str:
    figure = binding(summary)
    return f"{figure} {figure_text(summary['remaining'][figure])}"


def _checked_card(root: Path, dataset: str, source: str) -> None:
    path = layout.card_path(dataset)
    if not (root / path).exists():
        raise InputError.at(
            "--release",
            f"dataset {dataset} has no card {path}; create it with `synthgov dataset new`",
        )
    card: Loaded[Card] = governance.load(root, path, Card)
    if card.model.source.id != source:
        where = card.document.locate(("source", "id"))
        raise InputError.at(
            where.path,
            f"source.id: {dataset}'s source is {card.model.source.id}, not {source}; "
            f"its releases debit budgets/{card.model.source.id}.yaml",
            where.line,
        )


@dataclass(frozen=True)
class Declared:
    """What an existing manifest says about its release's debit."""

    mechanism: str
    tuning: Tuning | None


def _checked_manifest(
    root: Path, release: str, loss: Loss, source: str, runs: Tuning | None
) -> Declared | None:
    """The existing manifest's mechanism and tuning runs, after checking it declares this
    loss (with these tuning runs, or its own when `runs` is None) and source."""
    path = f"{Release.of(release).folder}/manifest.yaml"
    if not (root / path).exists():
        return None  # the version need not exist yet (BRIEF §10.10)
    manifest: Loaded[Manifest] = governance.load(root, path, Manifest)
    privacy = manifest.model.privacy
    where = manifest.document.locate(("privacy",))
    if not privacy.is_dp:
        raise InputError.at(
            path,
            "privacy.notion is none (empirical audit only): such a "
            "release spends no budget and has no debit",
            where.line,
        )
    if manifest.model.source.id != source:
        spot = manifest.document.locate(("source", "id"))
        raise InputError.at(
            path,
            f"source.id is {manifest.model.source.id}, not {source}: the "
            "release was not made from this ledger's source",
            spot.line,
        )
    if figures_of(privacy) != loss_figures(loss):
        raise InputError.at(
            path,
            f"privacy declares {show(figures_of(privacy))}, not "
            f"{show(loss_figures(loss))}; the debit records the release's own loss",
            where.line,
        )
    if runs is not None and not tuning.same(runs, privacy.tuning):
        spot = manifest.document.locate(("privacy", "tuning") if privacy.tuning else ("privacy",))
        raise InputError.at(
            path,
            f"privacy.tuning records {tuning.describe(privacy.tuning)}, not "
            f"{tuning.describe(runs)}; the debit pays for the runs the manifest records "
            "(leave out --tuning-runs to take them from it)",
            spot.line,
        )
    return Declared(privacy.mechanism, privacy.tuning)


def refuse_broken(loaded: Loaded[Ledger]) -> None:
    """Refuses to edit a ledger whose chain is broken or holds duplicates: appending would
    hide the damage under a valid-looking entry."""
    data = loaded.document.data
    issues = ledgers.chain_issues(data) + ledgers.duplicate_issues(data)
    if issues:
        where = loaded.document.locate(issues[0].loc)
        raise InputError.at(
            where.path, f"{issues[0].message}; refusing to append to it", where.line
        )


def record_debit(
    root: Path,
    source: str,
    release: str,
    loss: Loss,
    *,
    mechanism: str | None,
    parameters: dict[str, Any],
    now: datetime,
    write: bool = True,
    runs: Tuning | None = None,
) -> Debit:
    """Append one debit to budgets/SOURCE.yaml unless it would overdraw (the plain function
    `budget debit` and `release new` share). With `write=False`, only say whether it would
    be written (`release new` asks before it writes the release's files). `loss` is the
    release's own; the entry records it composed with the tuning `runs` (or, when None,
    those of the release's manifest if it exists), and the runs themselves.

    Concurrent debits (two terminals, a script running `release new` in parallel) are
    serialised by an exclusive lock on the budgets/ folder, held from reading the ledger
    to writing it, so each one appends to what the previous one wrote; "debited" is only
    reported once the entry has been read back from the file.

    Raises:
        InputError: no such ledger, card or release; the card's source is another; the
            ledger is invalid or its chain broken; the release already has a debit; the
            release's manifest declares another loss; the ledger's layout cannot be edited;
            the entry is not in the file after writing it.
    """
    dataset = release_ref(release).dataset
    path = layout.ledger_path(options.slug(source, "SOURCE"))
    if not (root / path).exists():
        raise InputError.at(path, f"no such ledger; create it with `synthgov budget new {source}`")
    with locked(root, path.rsplit("/", 1)[0]):
        return _record_debit(
            root,
            path,
            source,
            dataset,
            release,
            loss,
            mechanism=mechanism,
            parameters=parameters,
            now=now,
            write=write,
            runs=runs,
        )


def _record_debit(
    root: Path,
    path: str,
    source: str,
    dataset: str,
    release: str,
    loss: Loss,
    *,
    mechanism: str | None,
    parameters: dict[str, Any],
    now: datetime,
    write: bool,
    runs: Tuning | None,
) -> Debit:
    """`record_debit` under the lock: read, check, append, write, read back."""
    raw = read_bytes(root, path)
    loaded: Loaded[Ledger] = governance.load_bytes(raw, path, Ledger)
    ledger = loaded.model
    if loss.kind not in NOTION_RULES[ledger.notion][1]:
        raise InputError.at(
            path, f"a {ledger.notion.value} ledger cannot record a {loss.kind} loss"
        )
    _checked_card(root, dataset, source)
    refuse_broken(loaded)
    for entry in ledger.entries:
        if entry.release == release:
            line = loaded.document.locate(("entries", entry.seq - 1)).line
            raise InputError.at(
                "--release",
                f"{release} already has its debit: {path}:{line} (seq "
                f"{entry.seq}); a release is debited once",
            )
    # also when --mechanism is given
    declared = _checked_manifest(root, release, loss, source, runs)
    mechanism = mechanism or (declared.mechanism if declared else None) or "unspecified"
    if runs is None and declared is not None:
        runs = declared.tuning  # the runs the manifest records are paid for with it
    loss = _with_tuning(loss, runs)
    data = loaded.document.data
    entry_data = {
        "seq": len(ledger.entries) + 1,
        "release": release,
        "mechanism": mechanism,
        "parameters": parameters,
        "loss": loss_figures(loss),
        **({"tuning": tuning_data(runs)} if runs is not None else {}),
        "recorded_at": format_timestamp(now.replace(microsecond=0)),
        "prev_sha256": ledgers.link(data, len(ledger.entries)),
    }
    labels = {
        "mechanism": "--mechanism",
        "parameters": "--param",
        "release": "--release",
        "tuning": "--tuning-runs",
    }
    entry = options.build(Entry, entry_data, labels, path)
    losses = [e.loss for e in ledger.entries]
    before = accounting.summary(source, ledger.notion, ledger.cap, losses)
    after = accounting.summary(source, ledger.notion, ledger.cap, [*losses, loss])
    if not accounting.fits(ledger.notion, ledger.cap, [*losses, loss]):
        return Debit(False, path, entry, before, after)
    if not write:
        return Debit(True, path, entry, before, after)
    new = ledgers.append(loaded.document.text, to_yaml(entry), path)
    if new is None:
        raise InputError.at(
            path,
            "entries is a flow list ([...]) that synthgov does not edit; "
            "write it as a block list (one '- seq: …' per entry) first",
        )
    written = _verify_append(loaded, new.encode(), path)
    replace_file(root, path, raw, new.encode())
    _verify_written(root, path, written)
    return Debit(True, path, entry, before, after)


def _with_tuning(loss: Loss, runs: Tuning | None) -> Loss:
    """The release's own loss composed with its tuning runs' (`tuning.owed`).

    Raises:
        InputError: the composed figures leave the range a ledger holds, or have more
            digits than it keeps exactly.
    """
    if not tuning.runs(runs):
        return loss
    owed = tuning.owed(loss_figures(loss), runs)
    for name, value in owed.items():
        if not PRIVACY_MIN <= value <= PRIVACY_MAX or not reads_exactly(value):
            raise InputError.at(
                "--tuning-runs",
                f"the release's {name} with its {tuning.describe(runs)} is {value}, which a "
                f"ledger cannot record (a number {PRIVACY_RANGE}, of up to 15 significant digits)",
            )
    return options.build(Loss, owed, {}, "--tuning-runs")


def _verify_append(old: Loaded[Ledger], new: bytes, path: str) -> Any:
    """The edited text must read back as the old ledger plus exactly the new entry; that
    entry as read."""
    reread = governance.load_bytes(new, path, Ledger)
    before, after = old.document.data, reread.document.data
    kept = ledgers.entries(after)[:-1]
    if (
        canonical(ledgers.header(after)) != canonical(ledgers.header(before))
        or canonical(kept) != canonical(ledgers.entries(before))
        or ledgers.chain_issues(after)
    ):
        raise InputError.at(
            path, "appending would change more than the new entry; nothing was written"
        )
    return ledgers.entries(after)[-1]


def _verify_written(root: Path, path: str, entry: Any) -> None:
    """The file now holds the entry at its sequence number, in an intact chain."""
    data = governance.load_bytes(read_bytes(root, path), path, Ledger).document.data
    found = ledgers.entries(data)
    index = entry["seq"] - 1
    if (
        index >= len(found)
        or canonical(found[index]) != canonical(entry)
        or ledgers.chain_issues(data)
    ):
        raise InputError.at(
            path,
            f"the debit (seq {entry['seq']}) is not in the file after "
            "writing it (another program changed the ledger meanwhile); "
            "check the ledger and debit again",
        )


#: How long a debit waits for another one to finish with the budgets/ folder.
LOCK_SECONDS = 60.0


@contextmanager
def locked(root: Path, folder: str) -> Iterator[None]:
    """An exclusive lock on `folder` (budgets/) for the time of one read-check-write.

    The folder itself is locked, not the ledger (an atomic replace gives the ledger a new
    inode, so a lock on the old one protects nothing) nor a lock file beside it (a stray
    file that `git add -A` would commit). Without `fcntl` (not POSIX) there is no lock;
    the compare-before-replace and the read-back still refuse a lost update.

    Raises:
        InputError: the folder cannot be opened, or stays locked for `LOCK_SECONDS`.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        fd = os.open(root / folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        raise InputError.at(folder, f"cannot open the folder to lock it: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + LOCK_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise InputError.at(
                        folder,
                        f"still locked by another synthgov after {LOCK_SECONDS:.0f} s; try again",
                    ) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # releases the lock


def notion_at(root: Path, path: str) -> Notion:
    """The accounting notion of the ledger at `path`, which fixes what a debit may be."""
    if not (root / path).exists():
        source = path.removeprefix("budgets/").removesuffix(".yaml")
        raise InputError.at(path, f"no such ledger; create it with `synthgov budget new {source}`")
    loaded: Loaded[Ledger] = governance.load(root, path, Ledger)
    return loaded.model.notion
