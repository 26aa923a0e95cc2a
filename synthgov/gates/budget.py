"""The budget gate: each DP release has its one debit, and the ledger is sound (pure).

Which ledger: `budgets/<source>.yaml` of the card's source as the base branch has it (a
pull request cannot move a dataset to a fresh ledger). Which state of it: the head's when
the branch changed it, the base's when the branch is only behind (it left the ledger
alone, so after the merge the base's entries count).

Per release (`check`): a release whose manifest declares DP figures has exactly one
debit, with the same loss; an "empirical audit only" release (`privacy.notion: none`)
spent nothing and has no debit; the ledger's composed total stays within the cap; and a
ledger the branch changed is still the base's plus appended entries, hash-chained. That
last part is summarised in one finding here and detailed by `ledger_findings`, which
`check` runs for every ledger a pull request changes (BRIEF §10.5), together with the
checks of appended debits for releases outside the pull request. All budget findings are
`hard`: no waiver lets a release overdraw or tamper with a ledger.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from synthgov import accounting, layout, ledgers
from synthgov.findings import Finding, Severity
from synthgov.gates import ReleaseContext
from synthgov.loading import KeyPath, Loaded
from synthgov.models import Ledger, Manifest
from synthgov.models.common import Notion
from synthgov.models.ledger import Loss
from synthgov.models.manifest import Privacy

FIGURES = ("epsilon", "delta", "rho")
REWRITE_FIX = "Restore the base's ledger and append only (synthgov budget debit)."


def _finding(rule: str, message: str, loaded: Loaded[Any] | None,
             loc: KeyPath = (), *, path: str | None = None, line: int | None = None,
             blocks: bool = True, **extra: object) -> Finding:  # fmt: skip
    where = loaded.document.locate(loc, key=True) if loaded is not None else None
    return Finding(
        gate="budget", rule=rule, message=message,
        severity=Severity.ERROR if blocks else Severity.WARNING,
        file=where.path if where else path, line=line or (where.line if where else 1),
        enforcement="hard" if blocks else "advisory", **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def figures_of(privacy: Privacy) -> dict[str, Decimal]:
    """The manifest's DP figures, as a ledger loss would hold them."""
    return {name: value for name in FIGURES if (value := getattr(privacy, name)) is not None}


def loss_figures(loss: Loss) -> dict[str, Decimal]:
    return {name: value for name in FIGURES if (value := getattr(loss, name)) is not None}


def show(figures: Mapping[str, Decimal]) -> str:
    """`epsilon 1.0, delta 0.000001`: figures as written."""
    return ", ".join(f"{name} {format(value, 'f')}" for name, value in figures.items()) or "none"


def effective(head: Loaded[Ledger] | None,
              base: Loaded[Ledger] | None) -> tuple[Loaded[Ledger] | None, bool]:  # fmt: skip
    """The ledger as it will be after the merge, and whether the branch changed it."""
    if head is None or base is None:
        return head or base, head is not None and base is None
    if ledgers.is_behind(head.document.data, base.document.data):
        return base, False
    return head, True


def _issues(head: Loaded[Ledger], base: Loaded[Ledger] | None,
            header_approved: bool = False) -> list[ledgers.Issue]:  # fmt: skip
    """`header_approved`: the pull request's `budget_changes` approvals cover a change of
    the header (gates/changes.py), so the entries are compared but for their links."""
    data = head.document.data
    found = (ledgers.history_issues(head.document, base.document, header_approved)
             if base is not None else [])  # fmt: skip
    return found + ledgers.chain_issues(data) + ledgers.duplicate_issues(data)


def _issue_finding(issue: ledgers.Issue, ledger: Loaded[Ledger]) -> Finding:
    return _finding(issue.rule, issue.message, ledger, issue.loc, line=issue.line,
                    blocks=issue.blocks, fix=issue.fix or REWRITE_FIX)  # fmt: skip


def _over_cap(ledger: Loaded[Ledger], losses: list[Loss], loc: KeyPath, what: str) -> Finding:
    model = ledger.model
    spent = accounting.spent(model.notion, model.cap, losses)
    if model.notion is Notion.ZCDP:
        assert spent.rho is not None and model.cap.rho is not None
        observed: float | str = float(spent.rho)
        threshold = float(model.cap.rho)
        total = f"rho {format(spent.rho, 'f')} above the cap rho {format(model.cap.rho, 'f')}"
    else:
        assert model.cap.epsilon is not None
        threshold = float(model.cap.epsilon)
        if spent.total.finite:
            observed = float(spent.total.epsilon)
            total = (f"epsilon {float(spent.total.epsilon):.6g} above the cap epsilon "
                     f"{format(model.cap.epsilon, 'f')}")  # fmt: skip
        else:
            observed = "infinite"
            total = (f"delta {format(accounting.target_delta(model.cap), 'f')} exhausted, so "
                     "epsilon is infinite")  # fmt: skip
    return _finding(
        "budget.over_cap", f"{what}: the composed total would be {total}",
        ledger, loc, observed=observed, threshold=threshold,
        fix="Spend less (a smaller epsilon or rho), or release without DP after an empirical audit.",
    )  # fmt: skip


def _source_findings(ctx: ReleaseContext, source: str, path: str) -> list[Finding]:
    """The card's source may not move in a release's pull request; the manifest's is the card's."""
    found = []
    base_card, head_card, manifest = ctx.base_card, ctx.card.model, ctx.manifest.model
    if base_card is not None and head_card.source.id != base_card.source.id:
        found.append(_finding(
            "budget.source_changed",
            f"the card's source changes from {base_card.source.id} to {head_card.source.id}; "
            f"releases keep debiting {path} until that change is merged on its own",
            ctx.card, ("source", "id"), observed=head_card.source.id, threshold=base_card.source.id,
        ))  # fmt: skip
    if manifest.privacy.is_dp and manifest.source.id != source:
        found.append(_finding(
            "budget.source_mismatch",
            f"the manifest's source is {manifest.source.id} but the card's is {source}; the "
            f"release debits {path}",
            ctx.manifest, ("source", "id"), observed=manifest.source.id, threshold=source,
        ))  # fmt: skip
    return found


def _debit_findings(ctx: ReleaseContext, ledger: Loaded[Ledger], debits: list[int],
                    source: str) -> list[Finding]:  # fmt: skip
    """Exactly one debit of the release, recording the manifest's loss."""
    path, figures = ledger.document.path, figures_of(ctx.manifest.model.privacy)
    if not debits:
        command = (f"synthgov budget debit {source} --release {ctx.release} "
                   + " ".join(f"--{k} {format(v, 'f')}" for k, v in figures.items()))  # fmt: skip
        return [_finding(
            "budget.missing_debit",
            f"{ctx.release} declares DP figures ({show(figures)}) but {path} has no debit for it",
            ledger, (ledgers.ENTRIES,), fix=f"Run `{command}` and commit the ledger.",
        )]  # fmt: skip
    found = [_finding(
        "budget.duplicate_debit",
        f"entry seq {index + 1} debits {ctx.release} again (first at seq {debits[0] + 1}); "
        "a release has exactly one debit",
        ledger, (ledgers.ENTRIES, index, "release"), fix=REWRITE_FIX,
    ) for index in debits[1:]]  # fmt: skip
    entry = ledger.model.entries[debits[0]]
    recorded = loss_figures(entry.loss)
    if recorded != figures:
        found.append(_finding(
            "budget.debit_mismatch",
            f"entry seq {entry.seq} records {show(recorded)} for {ctx.release}, but its "
            f"manifest declares {show(figures)}",
            ledger, (ledgers.ENTRIES, debits[0], "loss"),
            observed=show(recorded), threshold=show(figures),
            fix="Make the manifest's privacy figures and the debit the same loss.",
        ))  # fmt: skip
    return found


def check(ctx: ReleaseContext) -> list[Finding]:
    manifest = ctx.manifest.model
    source = (ctx.base_card or ctx.card.model).source.id  # the base decides (see above)
    path = layout.ledger_path(source)
    found = _source_findings(ctx, source, path)
    ledger, changed = effective(ctx.ledger, ctx.base_ledger)
    debits = [i for i, e in enumerate(ledger.model.entries) if e.release == ctx.release] if ledger else []  # fmt: skip
    if not manifest.privacy.is_dp:  # an empirical audit only: it spent nothing
        return found + [_finding(
            "budget.debit_without_dp",
            f"the manifest declares no differential privacy (empirical audit only), but "
            f"entry seq {index + 1} debits {ctx.release}; such a release spends nothing",
            ledger, (ledgers.ENTRIES, index, "release"),
            fix="Record the release's DP figures in its manifest, or debit nothing for it.",
        ) for index in debits]  # fmt: skip
    if ledger is None:
        figures = show(figures_of(manifest.privacy))
        return [*found, _finding(
            "budget.no_ledger",
            f"the release declares DP figures ({figures}) but the source {source} has no "
            f"ledger {path}",
            None, path=path, line=1,
            fix=f"Create it with `synthgov budget new {source} ...`, then debit it with "
                "`synthgov budget debit`.",
        )]  # fmt: skip
    found += _debit_findings(ctx, ledger, debits, source)
    if changed or ctx.base_ledger is None:
        issues = [i for i in _issues(ledger, ctx.base_ledger, ctx.ledger_approved)
                  if i.blocks and i.rule != "budget.duplicate_debit"]  # fmt: skip
        if issues:
            first = issues[0]
            more = f" (and {len(issues) - 1} more ledger finding(s))" if len(issues) > 1 else ""
            found.append(_finding(
                "budget.ledger_invalid",
                f"{path}, which this release debits, fails the ledger checks: "
                f"{first.message}{more}",
                ledger, first.loc, line=first.line, fix=first.fix or REWRITE_FIX,
            ))  # fmt: skip
    losses = [e.loss for e in ledger.model.entries]
    if not accounting.fits(ledger.model.notion, ledger.model.cap, losses):
        at = (ledgers.ENTRIES, debits[0]) if debits else (ledgers.ENTRIES,)
        found.append(_over_cap(ledger, losses, at, f"{path} cannot pay for {ctx.release}"))
    return found


def ledger_findings(head: Loaded[Ledger], base: Loaded[Ledger] | None,
                    manifests: Mapping[str, Loaded[Manifest] | None],
                    releases_in_change: Collection[str],
                    header_approved: bool = False) -> list[Finding]:  # fmt: skip
    """Findings about a ledger a pull request changed (BRIEF §10.5: outside any release).

    `manifests` holds, for each appended debit's release, its manifest at head (None when
    the release does not exist yet); releases in `releases_in_change` are left to `check`.
    """
    model = head.model
    found: list[Finding] = []
    if base is None:
        cap = show({k: v for k, v in model.cap.model_dump().items() if v is not None})
        found.append(_finding(
            "budget.new_ledger",
            f"{head.document.path} is new in this pull request: its {model.notion.value} cap "
            f"({cap}) is set here and binds every later release of {model.source}",
            head, ("cap",), blocks=False,
        ))  # fmt: skip
    found += [_issue_finding(issue, head) for issue in _issues(head, base, header_approved)]
    appended = ledgers.new_entries(head.document.data, base.document.data if base else None)
    losses = [e.loss for e in model.entries]
    if not accounting.fits(model.notion, model.cap, losses):
        first = next(
            (i for i in appended if not accounting.fits(model.notion, model.cap, losses[: i + 1])),
            len(losses) - 1,
        )
        if model.entries[first].release not in releases_in_change:
            found.append(_over_cap(head, losses[: first + 1], (ledgers.ENTRIES, first),
                                   f"entry seq {first + 1} overdraws {head.document.path}"))  # fmt: skip
    for index in appended:
        entry = model.entries[index]
        if entry.release in releases_in_change:
            continue  # the release's own check judges its debit
        loaded = manifests.get(entry.release)
        loc = (ledgers.ENTRIES, index, "release")
        if loaded is None:
            found.append(_finding(
                "budget.debit_without_release",
                f"entry seq {entry.seq} debits {entry.release}, which has no manifest yet: the "
                "budget is spent from now on, and the release must declare the same loss",
                head, loc, blocks=False,
            ))  # fmt: skip
        elif not loaded.model.privacy.is_dp:
            found.append(_finding(
                "budget.debit_without_dp",
                f"entry seq {entry.seq} debits {entry.release}, whose manifest declares no "
                "differential privacy (empirical audit only); such a release spends nothing",
                head, loc, fix="Debit only releases made with a DP mechanism.",
            ))  # fmt: skip
        elif loss_figures(entry.loss) != figures_of(loaded.model.privacy):
            recorded, declared = loss_figures(entry.loss), figures_of(loaded.model.privacy)
            found.append(_finding(
                "budget.debit_mismatch",
                f"entry seq {entry.seq} records {show(recorded)} for {entry.release}, but its "
                f"manifest declares {show(declared)}",
                head, (ledgers.ENTRIES, index, "loss"), observed=show(recorded),
                threshold=show(declared),
            ))  # fmt: skip
    return found
