"""Release integrity: the report is about this artifact, this card and this dataset."""

from __future__ import annotations

from synthgov.findings import Finding, Severity
from synthgov.gates import ReleaseContext


def check(ctx: ReleaseContext) -> list[Finding]:
    manifest, report = ctx.manifest.model, ctx.report.model
    rpath = ctx.report.document.path
    pairs = [
        ("integrity.artifact_sha256", manifest.artifact.sha256, report.inputs.synthetic.sha256,
         ("inputs", "synthetic", "sha256"), "the report was computed on another synthetic table than the manifest's artifact"),
        ("integrity.card_sha256", ctx.card_sha256, report.card_sha256, ("card_sha256",),
         "the report was computed against another version of the card"),
        ("integrity.dataset", manifest.dataset, report.dataset, ("dataset",),
         "the report is about another dataset"),
    ]  # fmt: skip
    found = []
    for rule, expected, observed, loc, message in pairs:
        if expected != observed:
            spot = ctx.report.document.locate(loc)
            found.append(Finding(gate="integrity", rule=rule, severity=Severity.ERROR,
                                 message=message, observed=observed, threshold=expected,
                                 file=rpath, line=spot.line, enforcement="hard",
                                 fix="Re-run `synthgov evaluate` on the release's artifact and card."))  # fmt: skip
    return found
