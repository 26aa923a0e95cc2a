"""`synthgov release new`: from generator output to a release the gate can judge.

Writes datasets/<id>/releases/<version>/manifest.yaml and report.json (running `evaluate`)
and, with DP figures, the ledger debit; commits nothing. The synthetic table is referenced
by location and sha256: it does not belong in Git. Before anything is written the debit
is tried (an overdraw refuses the release, exit 1); afterwards the command predicts what
`check` will say, judged with the base branch's policy and registry, and which approvals
are still needed (BRIEF §10.14).
"""

from __future__ import annotations

import hashlib
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from synthgov import engine, governance, layout, options
from synthgov.canonical import canonical
from synthgov.commands import budget
from synthgov.commands.evaluate import progress
from synthgov.decision.contexts import judge_locally
from synthgov.errors import InputError, UsageError
from synthgov.history import author_email
from synthgov.models import Card, Manifest, Policy
from synthgov.models.common import format_timestamp
from synthgov.paths import read_bytes, write_new
from synthgov.writing import schema_url, to_yaml


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _privacy(
    generator: str, mechanism: str | None, epsilon: str | None, delta: str | None, rho: str | None
) -> dict[str, Any]:
    """The manifest's privacy block: DP figures as typed, or `none` (empirical audit only)."""
    if epsilon is None and rho is None:
        if delta is not None:
            raise UsageError("--delta needs --epsilon or --rho")
        return {"mechanism": mechanism or generator, "notion": "none"}
    if epsilon is not None and rho is not None:
        raise UsageError("--epsilon and --rho cannot be combined")
    notion = "zcdp" if rho is not None else "approx" if delta is not None else "pure"
    figures = {"epsilon": epsilon, "delta": delta, "rho": rho}
    values = {
        k: budget.figure(v, f"--{k}", below_one=k == "delta")
        for k, v in figures.items()
        if v is not None
    }
    return {"mechanism": mechanism or generator, "notion": notion, **values}


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
) -> int:
    """Write the release; 0 when written, 1 when refused (version exists, overdraw), 2 on
    bad input."""
    options.slug(dataset, "DATASET")
    folder = layout.release_dir(dataset, version)
    release = f"{dataset}@{version}"
    if layout.classify(f"{folder}/manifest.yaml") is None:
        raise InputError.at("VERSION", f"{version!r} is not a version (e.g. 1.0 or 2026.11.1)")
    card_path = layout.card_path(dataset)
    if not (root / card_path).exists():
        raise InputError.at(
            card_path, f"no such dataset; create it with `synthgov dataset new {dataset}`"
        )
    card_bytes = read_bytes(root, card_path)
    card: Card = governance.load_bytes(card_bytes, card_path, "card").model  # type: ignore[assignment]
    if (root / folder).exists():
        click.echo(
            f"refused: {release} already exists ({folder}); versions are never "
            "reused: choose a new version",
            err=True,
        )
        return 1
    for path in (synthetic, real, holdout):  # before minutes of evaluation
        _exists(path)
    author = author_email(root)
    privacy = _privacy(generator, mechanism, epsilon, delta, rho)
    parameters = budget.parse_parameters(params)
    now = datetime.now(UTC).replace(microsecond=0)
    loss = None
    if privacy["notion"] != "none":
        ledger_path = layout.ledger_path(card.source.id)
        notion = budget.notion_at(root, ledger_path)
        loss = budget.parse_loss(
            {k: _text(privacy.get(k)) for k in ("epsilon", "delta", "rho")}, notion, ledger_path
        )
        trial = budget.record_debit(
            root,
            card.source.id,
            release,
            loss,
            mechanism=privacy["mechanism"],
            parameters=parameters,
            now=now,
            write=False,
        )
        if not trial.written:
            click.echo(f"{trial.message()}; nothing was written", err=True)
            return 1

    def manifest(inputs: dict[str, Any]) -> Manifest:
        data = {
            "schema_version": 1,
            "dataset": dataset,
            "version": version,
            "created_at": format_timestamp(now),
            "author": author,
            "source": {
                "id": card.source.id,
                "snapshot": {
                    "id": snapshot_id or real.stem,
                    "sha256": hashlib.sha256(
                        canonical(
                            {
                                "real": inputs["real"]["sha256"],
                                "holdout": inputs["holdout"]["sha256"],
                            }
                        )
                    ).hexdigest(),
                },
            },
            "generator": {
                "name": generator,
                "version": generator_version,
                "parameters": parameters,
                "seed": seed,
                **({"code_commit": code_commit} if code_commit else {}),
            },
            "artifact": {
                "location": location or str(synthetic),
                "sha256": inputs["synthetic"]["sha256"],
                "rows": inputs["synthetic"]["rows"],
                "columns": inputs["synthetic"]["columns"],
                "schema_sha256": hashlib.sha256(
                    canonical([[c.name, c.type] for c in card.columns])
                ).hexdigest(),
                **{
                    key: inputs["synthetic"][key]
                    for key in ("fingerprint", "distinct_rows", "sketch")
                },
            },
            "privacy": privacy,
            "intended_uses": list(intended_uses) or list(card.intended_uses),
            **({"description": description} if description else {}),
        }
        return options.build(Manifest, data, _LABELS, "release new")

    manifest(_UNMEASURED)  # what the user typed is refused before minutes of evaluation
    report = _evaluate(
        root, card, card_bytes, card_path, real, holdout, synthetic, eval_seed, quiet
    )
    model = manifest(report["inputs"])
    from synthgov.evaluation import dumps

    manifest_path, report_path = f"{folder}/manifest.yaml", f"{folder}/report.json"
    write_new(root, manifest_path, to_yaml(model, schema_url("manifest", manifest_path)).encode())
    write_new(root, report_path, dumps(report))
    written = [manifest_path, report_path]
    if loss is not None:
        debit = budget.record_debit(
            root,
            card.source.id,
            release,
            loss,
            mechanism=privacy["mechanism"],
            parameters=parameters,
            now=now,
        )
        if not debit.written:  # another debit took the budget during the evaluation
            for rel in written:
                (root / rel).unlink()
            with suppress(OSError):
                (root / folder).rmdir()  # the version stays free
            click.echo(f"{debit.message()}; nothing was written", err=True)
            return 1
        written.append(debit.path)
        click.echo(debit.message(), err=True)
    click.echo(f"wrote {', '.join(written)}", err=True)
    _predict(root, release)
    return 0


#: The option behind each manifest field the user typed (the longest prefix wins).
_LABELS = {
    "intended_uses": "--intended-use",
    "generator": "--generator",
    "generator.version": "--generator-version",
    "generator.parameters": "--param",
    "generator.seed": "--seed",
    "generator.code_commit": "--code-commit",
    "privacy": "--epsilon",
    "privacy.mechanism": "--mechanism",
    "description": "--description",
    "artifact.location": "--location",
    "source.snapshot.id": "--snapshot-id",
}
#: Stand-ins for the figures the evaluation measures, to validate the rest before it.
_UNMEASURED: dict[str, Any] = {
    "real": {"sha256": "0" * 64},
    "holdout": {"sha256": "0" * 64},
    "synthetic": {
        "sha256": "0" * 64,
        "rows": 1,
        "columns": 1,
        "fingerprint": None,
        "distinct_rows": None,
        "sketch": None,
    },
}


def _exists(path: Path) -> None:
    if not path.is_file():
        raise InputError.at(str(path), "no such file; expected a table (CSV or Parquet)")


def _text(value: Any) -> str | None:
    return None if value is None else format(value, "f")


def _evaluate(
    root: Path,
    card: Card,
    card_bytes: bytes,
    card_path: str,
    real: Path,
    holdout: Path,
    synthetic: Path,
    seed: int | None,
    quiet: bool,
) -> dict[str, Any]:
    from synthgov.evaluation import Inputs, Settings, evaluate, seed_setting

    policy: Policy = governance.load(root, layout.POLICY, "policy").model  # type: ignore[assignment]
    chosen, rule = seed_setting(policy, seed, "--eval-seed")
    settings = Settings(seed=chosen, seed_rule=rule, subgroups=policy.subgroups)
    started = time.perf_counter()
    with progress(quiet) as step:
        report = evaluate(
            card, card_bytes, Inputs(root / card_path, real, holdout, synthetic), settings, step
        )
    if not quiet:
        click.echo(f"evaluated in {time.perf_counter() - started:.1f} s", err=True)
    return report


def _predict(root: Path, release: str) -> None:
    """What `check` will say of the release once committed, and the approvals it still
    needs (after evaluation: the files are written whatever the prediction)."""
    try:
        ctx = judge_locally(root, release, datetime.now(UTC))
    except InputError as exc:
        click.echo(f"no prediction: {exc.problems[0]}", err=True)
        return
    result = engine.check_release(ctx)
    filled, required = ctx.review.filled, ctx.review.required
    other = sorted({f.rule for f in result.findings if f.blocks and f.rule != "approvals.missing"})
    verdict = f"blocked by {', '.join(other)}" if other else "every gate but approvals passes"
    click.echo(f"predicted gate for {release}: {verdict}")
    for finding in result.findings:  # the figures behind a failed or undecided metric rule
        if finding.outcome is not None and finding.rule != "approvals.missing":
            state = "blocks" if finding.blocks else "warns"
            click.echo(f"  {finding.rule} ({finding.outcome}, {state}): {finding.message}")
    for role, count in sorted(required.items()):
        if len(filled[role]) < count:
            click.echo(
                f"  needs {count - len(filled[role])} {role} approval(s): "
                f"synthgov approve {release} --role {role}"
            )
    click.echo(
        "next: commit the release files, open a pull request, and ask the reviewers to approve"
    )
