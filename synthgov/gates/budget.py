"""The budget gate: each DP release has its one debit, and the ledger is sound (pure).

Which ledger: `budgets/<source>.yaml` of the card's source as the base branch has it (a
pull request cannot move a dataset to a fresh ledger). Which state of it: the head's when
the branch changed it, the base's when the branch is only behind (it left the ledger
alone, so after the merge the base's entries count).

Per release (`check`): a release whose manifest declares DP figures has exactly one
debit, with the loss it owes: its own composed with the tuning runs its manifest records
(`budget.tuning`), which the base policy's `tuning_record` may require; its card names
the ledger's privacy unit; an "empirical audit only" release (`privacy.notion: none`)
spent nothing and has no debit; the ledger's composed total stays within the base's cap;
and a ledger the branch changed is still the base's plus appended entries, hash-chained.
That last part is summarised in one finding here and detailed by `ledger_findings`.

Per ledger (`ledger_findings`, for every ledger a pull request changes, BRIEF §10.5 and
§11.4): whoever its entries name, the whole ledger is totalled against the base's cap; a
changed cap is `budget.cap_changed` and a new ledger `budget.new_ledger`, unless the pull
request's `budget_changes` approvals cover the new header (gates/changes.py: then the new
cap counts and the re-linked entries must be the base's); each appended debit names a
release of the ledger's own source that the same pull request adds. Nothing is left to a
release's check unless that check reads this very ledger. All budget findings are `hard`:
no waiver lets a release overdraw or tamper with a ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from synthgov.budget import accounting, ledgers, tuning
from synthgov.decision.findings import Finding, Severity
from synthgov.files import layout
from synthgov.files.consistency import same_unit
from synthgov.files.layout import Release
from synthgov.files.loading import KeyPath, Loaded
from synthgov.gates import ReleaseContext
from synthgov.models import Ledger, Manifest
from synthgov.models.common import Notion
from synthgov.models.ledger import Cap, Entry
from synthgov.models.loss import Loss
from synthgov.models.manifest import Privacy

FIGURES = ("epsilon", "delta", "rho")
REWRITE_FIX = "Restore the base's ledger and append only (synthgov budget debit)."


def _finding(
    rule: str,
    message: str,
    loaded: Loaded[Any] | None,
    loc: KeyPath = (),
    *,
    path: str | None = None,
    line: int | None = None,
    blocks: bool = True,
    **extra: object,
) -> Finding:
    where = loaded.document.locate(loc, key=True) if loaded is not None else None
    return Finding(
        gate="budget",
        rule=rule,
        message=message,
        severity=Severity.ERROR if blocks else Severity.WARNING,
        file=where.path if where else path,
        line=line or (where.line if where else 1),
        enforcement="hard" if blocks else "advisory",
        **extra,  # type: ignore[arg-type]
    )


def figures_of(privacy: Privacy) -> dict[str, Decimal]:
    """The manifest's DP figures, as a ledger loss would hold them."""
    return {name: value for name in FIGURES if (value := getattr(privacy, name)) is not None}


def loss_figures(loss: Loss) -> dict[str, Decimal]:
    return {name: value for name in FIGURES if (value := getattr(loss, name)) is not None}


def show(figures: Mapping[str, Decimal]) -> str:
    """`epsilon 1.0, delta 0.000001`: figures as written."""
    return ", ".join(f"{name} {format(value, 'f')}" for name, value in figures.items()) or "none"


def effective(
    head: Loaded[Ledger] | None, base: Loaded[Ledger] | None
) -> tuple[Loaded[Ledger] | None, bool]:
    """The ledger as it will be after the merge, and whether the branch changed it."""
    if head is None or base is None:
        return head or base, head is not None and base is None
    if ledgers.is_behind(head.document.data, base.document.data):
        return base, False
    return head, True


#: The last ledgers judged and their issues: a release's gate and the pull request's
#: ledger changes judge the same pair of loaded ledgers one after the other (the objects
#: are kept alive here, so `is` cannot mistake new ones for old).
_LAST: list[tuple[Loaded[Ledger], Loaded[Ledger] | None, bool, list[ledgers.Issue]]] = []


def _issues(
    head: Loaded[Ledger], base: Loaded[Ledger] | None, header_approved: bool = False
) -> list[ledgers.Issue]:
    """`header_approved`: the pull request's `budget_changes` approvals cover a change of
    the header (gates/changes.py), so the entries are compared but for their links."""
    if _LAST:
        last_head, last_base, last_approved, issues = _LAST[0]
        if last_head is head and last_base is base and last_approved == header_approved:
            return list(issues)
    issues = _judged(head, base, header_approved)
    _LAST[:] = [(head, base, header_approved, issues)]
    return list(issues)


def _judged(
    head: Loaded[Ledger], base: Loaded[Ledger] | None, header_approved: bool
) -> list[ledgers.Issue]:
    data = head.document.data
    found = (
        ledgers.history_issues(head.document, base.document, header_approved)
        if base is not None
        else []
    )
    return found + ledgers.chain_issues(data) + ledgers.duplicate_issues(data)


def _issue_finding(issue: ledgers.Issue, ledger: Loaded[Ledger]) -> Finding:
    return _finding(
        issue.rule,
        issue.message,
        ledger,
        issue.loc,
        line=issue.line,
        blocks=issue.blocks,
        fix=issue.fix or REWRITE_FIX,
    )


def totalled_against(
    head: Ledger, base: Ledger | None, header_approved: bool = False
) -> tuple[Notion, Cap]:
    """The notion and cap a ledger's entries are totalled against: the base's, whatever
    the pull request wrote in the header (a raised cap applies once merged on its own),
    unless the pull request's `budget_changes` approvals cover its new header
    (`header_approved`, gates/changes.py). A new ledger has only its own; a changed notion
    (`budget.header_changed` blocks) keeps the head's, as the entries are of its kinds."""
    if header_approved or base is None or base.notion is not head.notion:
        return head.notion, head.cap
    return base.notion, base.cap


def _over_cap(
    ledger: Loaded[Ledger], losses: list[Loss], loc: KeyPath, what: str, notion: Notion, cap: Cap
) -> Finding:
    spent = accounting.spent(notion, cap, losses)
    if notion is Notion.ZCDP:
        assert spent.rho is not None and cap.rho is not None
        observed: float | str = float(spent.rho)
        threshold = float(cap.rho)
        total = f"rho {format(spent.rho, 'f')} above the cap rho {format(cap.rho, 'f')}"
    else:
        assert cap.epsilon is not None
        threshold = float(cap.epsilon)
        if spent.total.finite:
            observed = float(spent.total.epsilon)
            total = (
                f"epsilon {float(spent.total.epsilon):.6g} above the cap epsilon "
                f"{format(cap.epsilon, 'f')}"
            )
        elif accounting.delta_spent(losses) >= accounting.target_delta(cap):
            observed = "infinite"
            total = (
                f"delta {format(accounting.target_delta(cap), 'f')} exhausted, so "
                "epsilon is infinite"
            )
        else:
            observed = "infinite"
            total = f"rho {format(spent.total.rho, 'f')} beyond what converts to a finite epsilon"
    return _finding(
        "budget.over_cap",
        f"{what}: the composed total would be {total}",
        ledger,
        loc,
        observed=observed,
        threshold=threshold,
        fix="Spend less (a smaller epsilon or rho), or release without DP after an empirical audit.",
    )


def _unit_findings(ctx: ReleaseContext, ledger: Loaded[Ledger] | None) -> list[Finding]:
    """The card promises the privacy unit of its source's ledger: a budget that protects
    one claim of a member does not protect the member. Blocks a DP release; warns of any
    other (its card still names a unit that no budget protects)."""
    card = ctx.card.model
    if ledger is None or card.source.id != ledger.model.source or same_unit(card, ledger.model):
        return []
    dp = ctx.manifest.model.privacy.is_dp
    at = ledger.document.locate(("privacy_unit",))
    return [
        _finding(
            "budget.unit_mismatch",
            f"the card's privacy unit is {card.source.privacy_unit!r} but {at.path}:{at.line}, "
            f"the ledger of its source, protects {ledger.model.privacy_unit!r}"
            + ("; the release's DP figures hold for the ledger's unit only" if dp else ""),
            ctx.card,
            ("source", "privacy_unit"),
            blocks=dp,
            observed=card.source.privacy_unit,
            threshold=ledger.model.privacy_unit,
            fix="Name the same privacy unit in the card's source.privacy_unit and the ledger "
            "(a change of either needs the policy's budget_changes approvals).",
        )
    ]


def _source_findings(ctx: ReleaseContext, source: str, path: str) -> list[Finding]:
    """The card's source may not move in a release's pull request; the manifest's is the card's."""
    found = []
    base_card, head_card, manifest = ctx.base_card, ctx.card.model, ctx.manifest.model
    if base_card is not None and head_card.source.id != base_card.source.id:
        found.append(
            _finding(
                "budget.source_changed",
                f"the card's source changes from {base_card.source.id} to {head_card.source.id}; "
                f"releases keep debiting {path} until that change is merged on its own",
                ctx.card,
                ("source", "id"),
                observed=head_card.source.id,
                threshold=base_card.source.id,
            )
        )
    if manifest.privacy.is_dp and manifest.source.id != source:
        found.append(
            _finding(
                "budget.source_mismatch",
                f"the manifest's source is {manifest.source.id} but the card's is {source}; the "
                f"release debits {path}",
                ctx.manifest,
                ("source", "id"),
                observed=manifest.source.id,
                threshold=source,
            )
        )
    return found


def _debit_findings(
    ctx: ReleaseContext, ledger: Loaded[Ledger], debits: list[int], source: str
) -> list[Finding]:
    """Exactly one debit of the release, recording the manifest's loss."""
    path, figures = ledger.document.path, figures_of(ctx.manifest.model.privacy)
    if not debits:
        command = f"synthgov budget debit {source} --release {ctx.release} " + " ".join(
            f"--{k} {format(v, 'f')}" for k, v in figures.items()
        )
        return [
            _finding(
                "budget.missing_debit",
                f"{ctx.release} declares DP figures ({show(figures)}"
                + (
                    f", and {tuning.describe(ctx.manifest.model.privacy.tuning)}"
                    if tuning.runs(ctx.manifest.model.privacy.tuning)
                    else ""
                )
                + f") but {path} has no debit for it",
                ledger,
                (ledgers.ENTRIES,),
                fix=f"Run `{command}` and commit the ledger.",
            )
        ]
    found = [
        _finding(
            "budget.duplicate_debit",
            f"entry seq {index + 1} debits {ctx.release} again (first at seq {debits[0] + 1}); "
            "a release has exactly one debit",
            ledger,
            (ledgers.ENTRIES, index, "release"),
            fix=REWRITE_FIX,
        )
        for index in debits[1:]
    ]
    entry = ledger.model.entries[debits[0]]
    mismatch = owed_mismatch(entry, ctx.manifest.model.privacy, ctx.release)
    if mismatch is not None:
        message, loc = mismatch
        found.append(
            _finding(
                "budget.debit_mismatch",
                message,
                ledger,
                (ledgers.ENTRIES, debits[0], *loc),
                observed=show(loss_figures(entry.loss)),
                threshold=show(tuning.owed_by(ctx.manifest.model.privacy)),
                fix="Make the manifest's privacy figures (and its tuning runs) and the debit "
                "the same loss.",
            )
        )
    return found


def owed_mismatch(entry: Entry, privacy: Privacy, release: str) -> tuple[str, KeyPath] | None:
    """Why a debit does not pay what the release owes (its own loss composed with its
    tuning runs', `budget.tuning`), and the field of the entry at fault; None when it does."""
    recorded, own = loss_figures(entry.loss), figures_of(privacy)
    owed = tuning.owed_by(privacy)
    if recorded != owed:
        if tuning.runs(privacy.tuning) and recorded == own:
            return (
                f"entry seq {entry.seq} records {show(recorded)} for {release}, the release's "
                f"own loss, but not its {tuning.describe(privacy.tuning)} (the manifest's "
                f"privacy.tuning): the debit owes {show(owed)}",
                ("loss",),
            )
        runs = (
            f" with {tuning.describe(privacy.tuning)}: the debit owes {show(owed)}"
            if tuning.runs(privacy.tuning)
            else ""
        )
        return (
            f"entry seq {entry.seq} records {show(recorded)} for {release}, but its manifest "
            f"declares {show(own)}{runs}",
            ("loss",),
        )
    if entry.tuning is not None and not tuning.same(entry.tuning, privacy.tuning):
        return (
            f"entry seq {entry.seq} records {tuning.describe(entry.tuning)} for {release}, but "
            f"its manifest records {tuning.describe(privacy.tuning)}",
            ("tuning",),
        )
    return None


def _tuning_findings(ctx: ReleaseContext) -> list[Finding]:
    """A DP release without a record of the runs on the real data that preceded it: their
    loss would go unpaid. Blocks where the base policy's `tuning_record` is required."""
    if ctx.manifest.model.privacy.tuning is not None:
        return []
    # a release whose debit the base already holds was settled when it merged (before
    # tuning runs were recorded, perhaps): a later change to it is not held to the record
    settled = ctx.base_ledger is not None and any(
        entry.release == ctx.release for entry in ctx.base_ledger.model.entries
    )
    required = ctx.policy.model.tuning_record == "required" and not settled
    where = ctx.policy.document.locate(("tuning_record",))
    setting = f"tuning_record: {ctx.policy.model.tuning_record}"
    written = "tuning_record" in (ctx.policy.document.data or {})
    at = f"{where.path}:{where.line}" if written else f"{where.path}, the default"
    return [
        _finding(
            "budget.tuning_unrecorded",
            f"{ctx.release} declares DP figures but not the runs on the real data that "
            f"preceded it (privacy.tuning): tuning runs spend budget the ledger would never "
            f"record ({setting}, {at})"
            + ("; its debit was settled on the base, so this only warns" if settled else ""),
            ctx.manifest,
            ("privacy",),
            blocks=required,
            fix="Record them in the manifest's privacy.tuning (`none` when the generator ran "
            "once; else each group's runs and loss per run, e.g. `release new --tuning-runs 4 "
            "--tuning-epsilon 0.5`) and debit the release's loss with theirs.",
        )
    ]


def check(ctx: ReleaseContext) -> list[Finding]:
    manifest = ctx.manifest.model
    source = (ctx.base_card or ctx.card.model).source.id  # the base decides (see above)
    path = layout.ledger_path(source)
    found = _source_findings(ctx, source, path)
    ledger, changed = effective(ctx.ledger, ctx.base_ledger)
    found += _unit_findings(ctx, ledger)
    debits = (
        [i for i, e in enumerate(ledger.model.entries) if e.release == ctx.release]
        if ledger
        else []
    )
    if not manifest.privacy.is_dp:  # an empirical audit only: it spent nothing
        return found + [
            _finding(
                "budget.debit_without_dp",
                f"the manifest declares no differential privacy (empirical audit only), but "
                f"entry seq {index + 1} debits {ctx.release}; such a release spends nothing",
                ledger,
                (ledgers.ENTRIES, index, "release"),
                fix="Record the release's DP figures in its manifest, or debit nothing for it.",
            )
            for index in debits
        ]
    found += _tuning_findings(ctx)
    if ledger is None:
        figures = show(figures_of(manifest.privacy))
        return [
            *found,
            _finding(
                "budget.no_ledger",
                f"the release declares DP figures ({figures}) but the source {source} has no "
                f"ledger {path}",
                None,
                path=path,
                line=1,
                fix=f"Create it with `synthgov budget new {source} ...`, then debit it with "
                "`synthgov budget debit`.",
            ),
        ]
    found += _debit_findings(ctx, ledger, debits, source)
    if changed or ctx.base_ledger is None:
        issues = [
            i
            for i in _issues(ledger, ctx.base_ledger, ctx.ledger_approved)
            if i.blocks and i.rule != "budget.duplicate_debit"
        ]
        if issues:
            first = issues[0]
            more = f" (and {len(issues) - 1} more ledger finding(s))" if len(issues) > 1 else ""
            found.append(
                _finding(
                    "budget.ledger_invalid",
                    f"{path}, which this release debits, fails the ledger checks: "
                    f"{first.message}{more}",
                    ledger,
                    first.loc,
                    line=first.line,
                    fix=first.fix or REWRITE_FIX,
                )
            )
    losses = [e.loss for e in ledger.model.entries]
    base = ctx.base_ledger.model if ctx.base_ledger is not None else None
    notion, cap = totalled_against(ledger.model, base, ctx.ledger_approved)
    if not accounting.fits(notion, cap, losses):
        at = (ledgers.ENTRIES, debits[0]) if debits else (ledgers.ENTRIES,)
        found.append(
            _over_cap(ledger, losses, at, f"{path} cannot pay for {ctx.release}", notion, cap)
        )
    return found


@dataclass(frozen=True)
class Named:
    """What `check` found about the release a ledger entry names (this gate reads no files)."""

    source: str | None  # its dataset card's source.id (the base's card when the dataset
    #                     exists there, else the head's); None when there is no card
    manifest: Loaded[Manifest] | None  # at head; None when there is no such release
    new: bool  # the pull request adds the release: its manifest is new, not on the base


def ledger_findings(
    head: Loaded[Ledger],
    base: Loaded[Ledger] | None,
    named: Mapping[str, Named],
    header_approved: bool = False,
) -> list[Finding]:
    """Findings about a ledger a pull request changed (BRIEF §10.5: outside any release).

    Every entry counts, whoever it names: the whole ledger is totalled against the base's
    cap (`totalled_against`; the head's when `header_approved`: the pull request's
    `budget_changes` approvals cover its new header), and each appended entry must debit a
    release of this ledger's source that the same pull request adds (`named` holds what
    `check` found about each appended entry's release). Such a release's own check then
    judges the debit against this very ledger (one debit, the manifest's loss); any other
    debit is judged here.
    """
    model = head.model
    found: list[Finding] = []
    if base is None:  # creating a ledger: approvals for it are the policy's (issue 15)
        shown = show({k: v for k, v in model.cap.model_dump().items() if v is not None})
        found.append(
            _finding(
                "budget.new_ledger",
                f"{head.document.path} is new in this pull request: its {model.notion.value} cap "
                f"({shown}) is set here and binds every later release of {model.source}",
                head,
                ("cap",),
                blocks=False,
            )
        )
    elif not header_approved:  # an approved header change is judged by its new cap
        found += cap_findings(head, base)
    found += [_issue_finding(issue, head) for issue in _issues(head, base, header_approved)]
    appended = ledgers.new_entries(head.document.data, base.document.data if base else None)
    notion, cap = totalled_against(model, base.model if base is not None else None, header_approved)
    losses = [e.loss for e in model.entries]
    if not accounting.fits(notion, cap, losses):
        first = next(
            (i for i in appended if not accounting.fits(notion, cap, losses[: i + 1])),
            len(losses) - 1,
        )
        found.append(
            _over_cap(
                head,
                losses[: first + 1],
                (ledgers.ENTRIES, first),
                f"entry seq {first + 1} overdraws {head.document.path}",
                notion,
                cap,
            )
        )
    for index in appended:
        found += _entry_findings(head, index, named.get(model.entries[index].release))
    return found


def cap_findings(head: Loaded[Ledger], base: Loaded[Ledger]) -> list[Finding]:
    """A changed cap (`ledgers.cap_change`) that no approval covers: blocked; the base's
    cap is what counts."""
    changed = ledgers.cap_change(base.document.data, head.document.data)
    if not changed:
        return []
    shown = ", ".join(
        f"{name} {_figure(old)} -> {_figure(new)}" for name, (old, new) in changed.items()
    )
    return [
        _finding(
            "budget.cap_changed",
            f"the cap of {head.document.path} changes ({shown}) without the policy's "
            "budget_changes approvals: until they are given, entries are totalled against the "
            "base's cap",
            head,
            ("cap",),
            observed=shown,
            threshold=show(_cap_figures(base.model)),
            fix="Restore the base's cap, or have the change approved: `synthgov budget cap` "
            "in a pull request of its own, then `synthgov approve --budget`.",
        )
    ]


def _cap_figures(ledger: Ledger) -> dict[str, Decimal]:
    return {name: value for name in FIGURES if (value := getattr(ledger.cap, name)) is not None}


def _figure(value: Any) -> str:
    if value is None:
        return "none"
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _entry_findings(head: Loaded[Ledger], index: int, named: Named | None) -> list[Finding]:
    """An appended entry: a release of this ledger's source, added by this pull request,
    with the loss its manifest declares."""
    model, path = head.model, head.document.path
    entry = model.entries[index]
    release, loc, found = entry.release, (ledgers.ENTRIES, index, "release"), []
    dataset = Release.of(release).dataset
    source = named.source if named is not None else None
    if source != model.source:
        whose = (
            f"whose source is {source}"
            if source is not None
            else f"which has no card {layout.card_path(dataset)}"
        )
        found.append(
            _finding(
                "budget.debit_other_source",
                f"entry seq {entry.seq} debits {release}, a release of {dataset}, {whose}: "
                f"{path} pays only for releases of its source {model.source}",
                head,
                loc,
                observed=str(source),
                threshold=model.source,
                fix=f"Debit the ledger of {dataset}'s source (budgets/<card source.id>.yaml).",
            )
        )
    manifest = named.manifest if named is not None else None
    if manifest is None:
        found.append(
            _finding(
                "budget.debit_without_release",
                f"entry seq {entry.seq} debits {release}, which this pull request does not add: "
                "a debit comes only with its release, in the same pull request",
                head,
                loc,
                fix="Add the release (synthgov release new) in this pull request, or "
                "drop the entry.",
            )
        )
        return found
    if named is not None and not named.new:
        found.append(
            _finding(
                "budget.debit_not_new",
                f"entry seq {entry.seq} debits {release}, which is already on the base: a debit "
                "comes only with a new release, in the pull request that adds it (not with a "
                "revalidation, a revocation or any later change)",
                head,
                loc,
                fix="Drop the entry; a merged release's loss was settled when it was merged.",
            )
        )
    elif not found:
        return found  # a new release of this source: its own check judges this debit
    if not manifest.model.privacy.is_dp:
        found.append(
            _finding(
                "budget.debit_without_dp",
                f"entry seq {entry.seq} debits {release}, whose manifest declares no "
                "differential privacy (empirical audit only); such a release spends nothing",
                head,
                loc,
                fix="Debit only releases made with a DP mechanism.",
            )
        )
    elif (mismatch := owed_mismatch(entry, manifest.model.privacy, release)) is not None:
        message, at = mismatch
        found.append(
            _finding(
                "budget.debit_mismatch",
                message,
                head,
                (ledgers.ENTRIES, index, *at),
                observed=show(loss_figures(entry.loss)),
                threshold=show(tuning.owed_by(manifest.model.privacy)),
            )
        )
    return found
