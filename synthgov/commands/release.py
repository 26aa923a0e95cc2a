"""`synthgov release new`: from generator output to a release the gate can judge.

Writes datasets/<id>/releases/<version>/manifest.yaml, report.json (running `evaluate`)
and report.html (its page, `reporting.release_report`)
and, with DP figures, the ledger debit; commits nothing. The synthetic table is referenced
by location and sha256: it does not belong in Git. Before anything is written the debit
is tried (an overdraw refuses the release, exit 1), and every option is checked before
the evaluation; afterwards the command prints the verdict `check` will give, judged with
the base branch's policy and registry, and what to do next (`decision.prediction`;
BRIEF §10.14). `--replace` writes an uncommitted draft of the version again.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import click

from synthgov import options
from synthgov.budget import debits
from synthgov.decision.prediction import predict
from synthgov.errors import InputError
from synthgov.files import governance, layout
from synthgov.files.layout import Release
from synthgov.files.paths import read_bytes, write_new
from synthgov.files.writing import schema_url, to_yaml
from synthgov.git.history import author_email
from synthgov.manifests import (
    Draft,
    clear_draft,
    committed,
    draft_debit,
    privacy_block,
    with_tuning,
)
from synthgov.metrics.progress import checked_seed, evaluate_release
from synthgov.models import Card


def run(
    root: Path,
    dataset: str,
    version: str,
    *,
    synthetic: Path,
    real: Path,
    holdout: Path,
    generator: str,
    generator_version: str,
    params: tuple[str, ...],
    seed: int,
    epsilon: str | None,
    delta: str | None,
    rho: str | None,
    mechanism: str | None,
    intended_uses: tuple[str, ...],
    location: str | None,
    snapshot_id: str | None,
    code_commit: str | None,
    description: str | None,
    eval_seed: int | None,
    quiet: bool,
    replace: bool = False,
    tuning_runs: int | None = None,
    tuning_epsilon: str | None = None,
    tuning_delta: str | None = None,
    tuning_rho: str | None = None,
) -> int:
    """Write the release; 0 when written, 1 when refused (version exists, overdraw), 2 on
    bad input. With `replace`, an uncommitted draft of the version is written again (its
    manifest and report; a committed release is refused all the same)."""
    options.slug(dataset, "DATASET")
    folder = layout.release_dir(dataset, version)
    release = str(Release(dataset, version))
    if layout.classify(f"{folder}/manifest.yaml") is None:
        raise InputError.at("VERSION", f"{version!r} is not a version (e.g. 1.0 or 2026.11.1)")
    card_path = layout.card_path(dataset)
    if not (root / card_path).exists():
        raise InputError.at(
            card_path, f"no such dataset; create it with `synthgov dataset new {dataset}`"
        )
    card_bytes = read_bytes(root, card_path)
    card: Card = governance.load_bytes(card_bytes, card_path, Card).model
    if (root / folder).exists() or (root / folder).is_symlink():
        held = committed(root, folder)
        if held or not replace:
            state = f"is committed ({held[0]})" if held else f"already exists ({folder})"
            hint = "" if held else " (or re-run its uncommitted draft with --replace)"
            click.echo(
                f"refused: {release} {state}; versions are never reused: choose a new "
                f"version{hint}",
                err=True,
            )
            return 1
    if debited := draft_debit(root, card.source.id, release):  # a release is debited once
        restore = f"restore the ledger (git checkout -- {debited.rsplit(':', 1)[0]})"
        click.echo(
            f"refused: the draft's debit of {release} is still in {debited}, and a release "
            f"is debited once: {restore} and re-run with --replace"
            if replace
            else f"refused: {debited} already debits {release}; versions are never reused: "
            f"choose a new version (or, if that debit is an uncommitted draft's, {restore})",
            err=True,
        )
        return 1
    for path in (synthetic, real, holdout):  # before minutes of evaluation
        _exists(path)
    author = author_email(root)
    privacy = with_tuning(
        root,
        privacy_block(generator, mechanism, epsilon, delta, rho),
        tuning_runs,
        {"epsilon": tuning_epsilon, "delta": tuning_delta, "rho": tuning_rho},
    )
    parameters = debits.parse_parameters(params)
    now = datetime.now(UTC).replace(microsecond=0)
    draft = Draft(
        dataset=dataset,
        version=version,
        created_at=now,
        author=author,
        card=card,
        snapshot_id=real.stem if snapshot_id is None else snapshot_id,
        location=str(synthetic) if location is None else location,
        generator=generator,
        generator_version=generator_version,
        parameters=parameters,
        seed=seed,
        code_commit=code_commit,
        privacy=privacy,
        intended_uses=intended_uses,
        description=description,
        defaulted=frozenset(
            field
            for field, given in (
                ("source.snapshot.id", snapshot_id),
                ("artifact.location", location),
            )
            if given is None
        ),
    )
    draft.manifest()  # what the user typed is refused before minutes of evaluation
    checked_seed(root, eval_seed)  # and the evaluation's seed, before anything is written
    # the uncommitted draft's manifest and report, rewritten below (before the debit is
    # tried, which would compare the draft's figures)
    cleared = clear_draft(root, folder) if replace else []
    gone = f" (the draft's {' and '.join(cleared)} removed)" if cleared else ""
    debit = None
    if privacy["notion"] != "none":
        ledger_path = layout.ledger_path(card.source.id)
        notion = debits.notion_at(root, ledger_path)
        loss = debits.parse_loss(
            {k: _text(privacy.get(k)) for k in ("epsilon", "delta", "rho")}, notion, ledger_path
        )
        debit = partial(
            debits.record_debit,
            root,
            card.source.id,
            release,
            loss,
            mechanism=privacy["mechanism"],
            parameters=parameters,
            now=now,
            runs=draft.manifest().privacy.tuning,
        )
        trial = debit(write=False)  # an overdraw is refused before minutes of evaluation
        if not trial.written:
            click.echo(f"{trial.message()}; nothing was written{gone}", err=True)
            return 1

    report = evaluate_release(
        root, card, card_bytes, card_path, real, holdout, synthetic, eval_seed, quiet
    )
    model = draft.manifest(report["inputs"])
    from synthgov.metrics.evaluation import dumps
    from synthgov.reporting.release_report import release_page

    manifest_path, report_path = f"{folder}/manifest.yaml", f"{folder}/report.json"
    write_new(root, manifest_path, to_yaml(model, schema_url("manifest", manifest_path)).encode())
    write_new(root, report_path, dumps(report))
    page_path = f"{folder}/report.html"  # the release report page, drawn from report.json
    write_new(root, page_path, release_page(root, report, card_bytes, card_path))
    written = [manifest_path, report_path, page_path]
    if debit is not None:
        recorded = debit()
        if not recorded.written:  # another debit took the budget during the evaluation
            for rel in written:
                (root / rel).unlink()
            with suppress(OSError):
                (root / folder).rmdir()  # the version stays free
            click.echo(f"{recorded.message()}; nothing was written{gone}", err=True)
            return 1
        written.append(recorded.path)
        click.echo(recorded.message(), err=True)
    click.echo(f"wrote {', '.join(written)}", err=True)
    for line in predict(root, release, datetime.now(UTC)):
        click.echo(line)
    return 0


def _exists(path: Path) -> None:
    if not path.is_file():
        raise InputError.at(str(path), "no such file; expected a table (CSV or Parquet)")


def _text(value: Any) -> str | None:
    return None if value is None else format(value, "f")
