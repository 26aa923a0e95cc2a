"""Release integrity: the report is about this artifact, this card and this dataset, and
its seed is the one the policy prescribes (BRIEF §11.2: no re-rolls)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from synthgov.content import derive_seed
from synthgov.decision.findings import Finding, Severity
from synthgov.gates import ReleaseContext
from synthgov.models.report import Metric, extra


def check(ctx: ReleaseContext) -> list[Finding]:
    manifest, report = ctx.manifest.model, ctx.report.model
    rpath = ctx.report.document.path
    pairs: list[tuple[str, float | str | None, float | str | None, tuple[str, ...], str]] = [
        (
            "integrity.artifact_sha256",
            manifest.artifact.sha256,
            report.inputs.synthetic.sha256,
            ("inputs", "synthetic", "sha256"),
            "the report was computed on another synthetic table than the manifest's artifact",
        ),
        (
            "integrity.card_sha256",
            ctx.card_sha256,
            report.card_sha256,
            ("card_sha256",),
            "the report was computed against another version of the card",
        ),
        (
            "integrity.dataset",
            manifest.dataset,
            report.dataset,
            ("dataset",),
            "the report is about another dataset",
        ),
    ]
    if manifest.artifact.fingerprint is not None or report.inputs.synthetic.fingerprint is not None:
        pairs.append(
            (
                "integrity.artifact_fingerprint",
                manifest.artifact.fingerprint,
                report.inputs.synthetic.fingerprint,
                ("inputs", "synthetic", "fingerprint"),
                "the manifest's content fingerprint is not the report's",
            )
        )
        # what revocation compares (the rows a table shares with a revoked one) is the
        # manifest's: it must be what the evaluated table had, not a sketch of its own
        artifact, synthetic = manifest.artifact, report.inputs.synthetic
        for name, recorded, measured in (
            ("distinct_rows", _count(artifact.distinct_rows), _count(synthetic.distinct_rows)),
            ("sketch", _hashes(artifact.sketch), _hashes(synthetic.sketch)),
        ):
            pairs.append(
                (
                    f"integrity.artifact_{name}",
                    recorded,
                    measured,
                    ("inputs", "synthetic", name),
                    f"the manifest's artifact {name} is not the evaluated table's",
                )
            )
    found = []
    artifact = manifest.artifact
    if artifact.fingerprint is not None and (
        artifact.sketch is None or artifact.distinct_rows is None
    ):
        spot = ctx.manifest.document.locate(("artifact", "fingerprint"))
        found.append(
            Finding(
                gate="integrity",
                rule="integrity.fingerprint",
                severity=Severity.ERROR,
                message="the manifest records a content fingerprint but no row sketch or "
                "distinct-row count, so a table sharing rows with a revoked one "
                "could not be recognised",
                file=ctx.manifest.document.path,
                line=spot.line,
                enforcement="hard",
                fix="Write the release with `synthgov release new` of this version.",
            )
        )
    if manifest.artifact.fingerprint is None:
        spot = ctx.manifest.document.locate(("artifact",))
        found.append(
            Finding(
                gate="integrity",
                rule="integrity.fingerprint",
                severity=Severity.ERROR,
                message="the manifest records no content fingerprint of its artifact, so a "
                "revoked table could not be recognised in it",
                file=ctx.manifest.document.path,
                line=spot.line,
                enforcement="hard",
                fix="Write the release with `synthgov release new` of this version.",
            )
        )
    for rule, expected, observed, loc, message in pairs:
        if expected != observed:
            spot = ctx.report.document.locate(loc)
            found.append(
                Finding(
                    gate="integrity",
                    rule=rule,
                    severity=Severity.ERROR,
                    message=message,
                    observed=observed,
                    threshold=expected,
                    file=rpath,
                    line=spot.line,
                    enforcement="hard",
                    fix="Re-run `synthgov evaluate` on the release's artifact and card.",
                )
            )
    found += _count_findings(ctx)
    extra = (_seed_finding(ctx), _chart_minimum_finding(ctx))
    return found + [f for f in extra if f is not None]


#: metric -> the input tables whose rows its two counts are drawn from
_COUNTED = {
    "privacy.exact_copy_excess": ("synthetic", "holdout"),
    "privacy.near_copy_excess": ("synthetic", "holdout"),
    "privacy.linkability_excess": ("real", "holdout"),
    "privacy.inference_excess": ("real", "holdout"),
    "privacy.singling_out_excess": ("real", "holdout"),
}


#: excesses counted over every row of their tables, never a sample: their trials are the rows
_EVERY_ROW = frozenset({"privacy.exact_copy_excess", "privacy.singling_out_excess"})


def _count_findings(ctx: ReleaseContext) -> list[Finding]:
    """A gated excess's trials are rows of the tables it was measured on: never more than
    they hold, and for exact copies and singling out (every row, never sampled) exactly as
    many. Fewer trials make a wider interval, which could turn a failure into an
    inconclusive figure."""
    report = ctx.report.model
    found = []
    for index, metric in enumerate(report.metrics):
        spec = extra(metric, "interval")
        roles = _COUNTED.get(metric.id)
        if roles is None or not isinstance(spec, dict):
            continue
        if spec.get("kind") != "newcombe":
            why = _not_counted(metric.id, spec)
            if why is not None:
                found.append(_uncounted_finding(ctx, index, metric, spec, why))
            continue
        rows = [getattr(report.inputs, role).rows for role in roles]
        trials = list(spec.get("trials", []))
        exact = metric.id in _EVERY_ROW
        where = f"{' and '.join(roles)} rows"
        if metric.id == "privacy.singling_out_excess":
            # both tables cut to the smaller one's rows (attacks._singling_out_excess): fewer
            # trials, [1, 1] at the extreme, made the excess of a table where every training
            # record is singled out inconclusive
            rows, where = [min(rows)] * 2, f"the smaller of the {where}, twice"
        if len(trials) == 2 and all(
            t == r if exact else t <= r for t, r in zip(trials, rows, strict=True)
        ):
            continue
        spot = ctx.report.document.locate(("metrics", index, "interval"))
        expected = f"{'' if exact else 'at most '}{rows[0]:,} and {rows[1]:,} ({where})"
        found.append(
            Finding(
                gate="integrity",
                rule="integrity.counts",
                severity=Severity.ERROR,
                message=f"{metric.id} counts {trials} trials; its tables give {expected}",
                observed=str(trials),
                threshold=expected,
                file=ctx.report.document.path,
                line=spot.line,
                enforcement="hard",
                fix="Re-run `synthgov evaluate` on the release's tables.",
                subject=metric.id if metric.column is None else f"{metric.id}:{metric.column}",
            )
        )
    return found


def _not_counted(metric: str, spec: dict[str, object]) -> str | None:
    """Why an excess's interval that is not Newcombe's of its counts is not one this version
    writes, or None. `evaluate` writes every counted excess as counts, except singling out's
    jackknife (`normal`), and that only with a variance above 0: where it is 0, the counts
    (attack_share, control_share). Any other interval escapes the count checks above, and a
    `normal` one of se 0 is as narrow as an interval gets (BRIEF §11.2)."""
    kind, se = spec.get("kind"), spec.get("se")
    if metric == "privacy.singling_out_excess" and kind == "normal":
        positive = isinstance(se, int | float | Decimal) and not isinstance(se, bool) and se > 0
        if positive:
            return None
        return (
            f"a normal interval of se {se}, zero width; where the jackknife's variance is 0 "
            "this version writes Newcombe's interval of the two counts"
        )
    return f"a {kind} interval, which no count of its tables bounds; this version writes Newcombe's interval of its counts"


def _uncounted_finding(
    ctx: ReleaseContext, index: int, metric: Metric, spec: dict[str, object], why: str
) -> Finding:
    spot = ctx.report.document.locate(("metrics", index, "interval"))
    return Finding(
        gate="integrity",
        rule="integrity.counts",
        severity=Severity.ERROR,
        message=f"{metric.id} has {why}",
        observed=str(spec.get("kind")),
        threshold="newcombe",
        file=ctx.report.document.path,
        line=spot.line,
        enforcement="hard",
        fix="Re-run `synthgov evaluate` on the release's tables.",
        subject=metric.id if metric.column is None else f"{metric.id}:{metric.column}",
    )


def _count(rows: int | None) -> float | None:
    return float(rows) if rows is not None else None


def _hashes(sketch: list[str] | None) -> str | None:
    """A sketch as one short comparable value (the sha256 of its row hashes), None without one."""
    if not sketch:
        return None
    return f"{len(sketch)} row hashes, sha256 {hashlib.sha256(' '.join(sketch).encode()).hexdigest()[:16]}"


def _seed_finding(ctx: ReleaseContext) -> Finding | None:
    """The report's seed against the policy's `statistics.seed`: derived from the tables'
    fingerprints, pinned, or any."""
    report, rule = ctx.report.model, ctx.policy.model.statistics.seed
    if rule == "any":
        return None
    if isinstance(rule, int):
        expected: int | None = rule
        why = f"the policy pins it to {rule}"
    else:
        prints = [
            getattr(report.inputs, role).fingerprint for role in ("real", "holdout", "synthetic")
        ]
        known = [p for p in prints if p is not None]
        if len(known) < len(prints):
            expected, why = None, "the report records no content fingerprints to derive it from"
        else:
            expected = derive_seed(*known)
            why = f"the policy derives it from the tables' content ({expected})"
    if report.config.seed == expected:
        return None
    spot = ctx.report.document.locate(("config", "seed"))
    where = ctx.policy.document.locate(("statistics",))
    return Finding(
        gate="integrity",
        rule="integrity.seed",
        severity=Severity.ERROR,
        message=f"the report was evaluated with seed {report.config.seed}, but {why}: a chosen seed "
        "could re-roll the verdict",
        observed=report.config.seed,
        threshold=expected,
        file=ctx.report.document.path,
        line=spot.line,
        threshold_file=where.path,
        threshold_line=where.line,
        enforcement="hard",
        fix="Re-run `synthgov evaluate` (or `release new`) without --seed, with this version of synthgov.",
    )


def _chart_minimum_finding(ctx: ReleaseContext) -> Finding | None:
    """The report's charts must hide every cell under the base policy's minimum: a report
    declaring a smaller `charts.min_cell_count` could publish the counts of a few people."""
    charts, minimum = ctx.report.model.charts, ctx.policy.model.charts.min_cell_count
    if charts is None or charts.min_cell_count >= minimum:
        return None
    spot = ctx.report.document.locate(("charts", "min_cell_count"))
    where = ctx.policy.document.locate(("charts",))
    return Finding(
        gate="integrity",
        rule="integrity.chart_minimum",
        severity=Severity.ERROR,
        message=f"the report's charts show cells down to {charts.min_cell_count} rows, but the "
        f"policy's charts.min_cell_count is {minimum}: small cells could identify people",
        observed=charts.min_cell_count,
        threshold=minimum,
        file=ctx.report.document.path,
        line=spot.line,
        threshold_file=where.path,
        threshold_line=where.line,
        enforcement="hard",
        fix="Re-run `synthgov evaluate` in this repository: it applies the policy's minimum.",
    )
