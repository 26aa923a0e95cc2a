"""`synthgov audit --since CHECKPOINT` and the audit's work per commit, on real histories.

The incremental audit must judge the commits after a checkpoint exactly as a full audit
does, and refuse (exit 2, one line, no pack) any checkpoint it cannot trust.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from synthgov.audit.checkpoints import state_sha256
from synthgov.audit.replay import Replay
from synthgov.files.loading import parse_yaml
from synthgov.files.writing import to_yaml
from synthgov.git.history import Repository
from synthgov.models import Checkpoint
from synthgov.signing import sshsig
from synthgov.signing.canonical import canonical
from tests.helpers import signing
from tests.helpers.cli import Synthgov, audit
from tests.helpers.git import commit, git, merge, sha
from tests.helpers.releases import add_version, revoke
from tests.helpers.repos import add_release, make_base, write


@pytest.fixture
def clean(repo: Path) -> Path:
    """main: the base commit, then a merged pull request adding an approved release."""
    make_base(repo)
    add_release(repo)
    merge(repo)
    return repo


@pytest.fixture
def dana() -> signing.Person:
    return signing.people()["dana"]  # a policy admin: may sign checkpoints


def checkpoint(synthgov: Synthgov, repo: Path, dana: signing.Person, *args: str) -> Path:
    """Audit `repo` with --checkpoint signed by dana; the checkpoint file written."""
    before = set((repo / "audit/checkpoints").glob("*.yaml"))
    result = synthgov("audit", "--checkpoint", "--key", str(dana.key), *args, cwd=repo)
    assert result.code in (0, 1), result.err
    [written] = set((repo / "audit/checkpoints").glob("*.yaml")) - before
    return written


def refused(synthgov: Synthgov, repo: Path, point: Path, tmp_path: Path) -> str:
    """`audit --since point --out PACK` must exit 2 with one line and write no pack."""
    pack = tmp_path / "pack"
    result = synthgov("audit", "--since", str(point), "--out", str(pack), cwd=repo)
    assert result.code == 2 and not result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err
    assert not (pack / "audit.json").exists()
    return lines[0]


def after(data: dict[str, Any], commits: set[str]) -> list[tuple[str, str, list[Any]]]:
    """Every release decision at one of `commits`: (release, commit, verdict and findings)."""
    return sorted(
        (r["release"], d["commit"], [d["verdict"], d["findings"]])
        for r in data["releases"]
        for d in r["decisions"]
        if d["commit"] in commits
    )


def test_an_incremental_audit_judges_what_follows_the_checkpoint_as_a_full_audit_does(
    synthgov: Synthgov, repo: Path, dana: signing.Person, tmp_path: Path
) -> None:
    make_base(repo)
    git(repo, "checkout", "-q", "main")
    add_version(repo, "1.10")  # pushed to main before its approvals: a finding, carried
    point = checkpoint(synthgov, repo, dana)
    checkpointed = sha(repo)
    add_version(repo, "1.11")
    revoke(repo, "1.11")
    add_version(repo, "1.12", approved_by=("ada",))  # one approval short: a finding, new
    full_code, full = audit(synthgov, repo)
    code, data = audit(synthgov, repo, "--since", str(point))
    assert (code, full_code) == (1, 1)
    new = set(git(repo, "rev-list", f"{checkpointed}..HEAD").split())
    assert data["findings"] == full["findings"]  # carried first, then the same new ones
    assert {f["commit"] for f in full["findings"]} & new, "no finding after the checkpoint"
    assert after(data, new) == after(full, new) and after(data, new)
    assert {r["release"] for r in data["releases"]} == {"claims@1.11", "claims@1.12"}
    assert data["budgets"] == full["budgets"][-len(data["budgets"]) :]
    since = data["since"]
    assert since["commit"] == checkpointed and since["checkpoint"].endswith(point.name)
    assert (data["commits"], data["decided"]) == (len(new), len(new))  # judged: the new only
    assert since["commits"] + data["commits"] == full["commits"]
    assert since["decided"] + data["decided"] == full["decided"]
    assert since["releases"] == {"claims@1.10": "findings"} and full["since"] is None
    pack = tmp_path / "pack"
    assert synthgov("audit", "--since", str(point), "--out", str(pack), cwd=repo).code == 1
    markdown = (pack / "audit.md").read_text()
    assert "Incremental" in markdown and point.name in markdown
    assert "incremental" in (pack / "audit.html").read_text().lower()


def test_a_checkpoint_of_an_incremental_audit_chains_the_state(
    synthgov: Synthgov, clean: Path, dana: signing.Person, tmp_path: Path
) -> None:
    first = checkpoint(synthgov, clean, dana).rename(tmp_path / "kept.yaml")  # a copy outside
    write(clean, "notes.txt", "later\n")
    commit(clean, "a later commit")
    second = checkpoint(synthgov, clean, dana, "--since", str(first))
    state = parse_yaml(second.read_bytes(), "c.yaml").data["state"]
    _, full = audit(synthgov, clean)
    assert (state["commits"], state["decided"]) == (full["commits"], full["decided"])
    assert state["releases"] == {"claims@1.10": "pass"}
    code, data = audit(synthgov, clean, "--since", str(second))
    assert code == 0 and data["commits"] == 0 and data["since"]["commits"] == 3


def test_a_checkpoint_whose_state_was_changed_is_refused(
    synthgov: Synthgov, clean: Path, dana: signing.Person, tmp_path: Path
) -> None:
    point = checkpoint(synthgov, clean, dana)
    text = point.read_text()
    point.write_text(text.replace("claims@1.10: pass", "claims@1.10: findings"))
    line = refused(synthgov, clean, point, tmp_path)
    assert "state digest mismatch" in line and point.name in line


def test_a_changed_state_with_its_digest_recomputed_fails_the_signature(
    synthgov: Synthgov, clean: Path, dana: signing.Person, tmp_path: Path
) -> None:
    point = checkpoint(synthgov, clean, dana)
    text = point.read_text().replace("commits: 2", "commits: 1")
    state = parse_yaml(text.encode(), "c.yaml").data["state"]
    text = re.sub(r"state_sha256: \w+", f"state_sha256: {state_sha256(state)}", text)
    point.write_text(text)
    line = refused(synthgov, clean, point, tmp_path)
    assert "signature not accepted" in line and point.name in line


def test_a_checkpoint_no_longer_on_the_history_is_refused(
    synthgov: Synthgov, clean: Path, dana: signing.Person, tmp_path: Path
) -> None:
    point = checkpoint(synthgov, clean, dana)
    dropped = sha(clean)
    git(clean, "reset", "-q", "--hard", "HEAD~1")  # the untracked checkpoint stays
    write(clean, "notes.txt", "history rewritten\n")
    commit(clean, "rewritten")
    line = refused(synthgov, clean, point, tmp_path)
    assert dropped[:12] in line and "not on the first-parent history" in line


def test_a_checkpoint_signed_by_someone_not_an_auditor_is_refused(
    synthgov: Synthgov, clean: Path, dana: signing.Person, tmp_path: Path
) -> None:
    point = checkpoint(synthgov, clean, dana)
    data = parse_yaml(point.read_bytes(), "c.yaml").data
    unsigned = {k: v for k, v in data.items() if k != "signature"}
    ada = signing.people()["ada"]  # a privacy reviewer: registered, but not for checkpoints
    armored = sshsig.sign_with_ssh_keygen(ada.key, canonical(unsigned), "synthgov-checkpoint")
    text = point.read_text().replace("reviewer: dana", "reviewer: ada")
    head, _, _ = text.partition("signature:")
    indented = "\n".join("    " + line for line in armored.strip().splitlines())
    point.write_text(f"{head}signature:\n  format: sshsig\n  armored: |\n{indented}\n")
    line = refused(synthgov, clean, point, tmp_path)
    assert "not trusted" in line and "signature not accepted" in line


def test_a_checkpoint_forged_with_a_key_revoked_since_is_refused(
    synthgov: Synthgov, repo: Path, dana: signing.Person, tmp_path: Path
) -> None:
    """A stolen auditor key, revoked on main since, re-signs a checkpoint whose state hides
    the findings of a release pushed without approvals, dated before the revocation: the
    registry at the audited tip no longer vouches for that key, so nothing is carried."""
    make_base(repo)
    git(repo, "checkout", "-q", "main")
    add_version(repo, "1.10")  # on main without approvals: findings a full audit reports
    legit = checkpoint(synthgov, repo, dana).rename(tmp_path / "legit.yaml")
    revoked = synthgov(
        "reviewer", "revoke-key", "dana", "--fingerprint", dana.fingerprint,
        "--at", "2020-01-01T00:00:00Z", "--reason", "stolen", cwd=repo,
    )  # fmt: skip
    assert revoked.code == 0, revoked.err
    commit(repo, "revoke dana's stolen key")
    data = parse_yaml(legit.read_bytes(), "c.yaml").data
    data.pop("signature")
    data["state"]["findings"] = []
    data["state"]["releases"] = dict.fromkeys(data["state"]["releases"], "pass")
    data["state_sha256"] = state_sha256(data["state"])
    armored = sshsig.sign_with_ssh_keygen(dana.key, canonical(data), "synthgov-checkpoint")
    forged = tmp_path / "forged.yaml"
    forged.write_text(
        to_yaml(
            Checkpoint.model_validate(
                {**data, "signature": {"format": "sshsig", "armored": armored}}
            )
        )
    )
    line = refused(synthgov, repo, forged, tmp_path)
    assert "no longer vouches" in line and "revoked since" in line
    code, full = audit(synthgov, repo)  # what the forged state would have hidden
    assert code == 1 and any(f["kind"] == "approval.missing" for f in full["findings"])
    # the honest checkpoint of that key cannot start an audit either: a full audit can
    assert "no longer vouches" in refused(synthgov, repo, legit, tmp_path)


def test_an_unsigned_checkpoint_is_refused(
    synthgov: Synthgov, clean: Path, dana: signing.Person, tmp_path: Path
) -> None:
    point = checkpoint(synthgov, clean, dana)
    point.write_text(point.read_text().partition("signature:")[0])
    line = refused(synthgov, clean, point, tmp_path)
    assert point.name in line and "signature" in line


def test_a_checkpoint_without_state_cannot_start_an_incremental_audit(
    synthgov: Synthgov, clean: Path, dana: signing.Person, tmp_path: Path
) -> None:
    point = checkpoint(synthgov, clean, dana, "--range", "main~1..main")
    assert "state" not in parse_yaml(point.read_bytes(), "c.yaml").data
    assert "records no audit state" in refused(synthgov, clean, point, tmp_path)
    assert "no such" in refused(synthgov, clean, tmp_path / "missing.yaml", tmp_path).lower()


@pytest.mark.parametrize(
    ("args", "said"),
    [(["--range", "main~1..main"], "A..REV"), (["--at", "2026-10-01T00:00:00Z"], "--at")],
)
def test_since_takes_no_range_that_starts_elsewhere_and_no_other_clock(
    synthgov: Synthgov, clean: Path, dana: signing.Person, args: list[str], said: str
) -> None:
    point = checkpoint(synthgov, clean, dana)
    result = synthgov("audit", "--since", str(point), *args, cwd=clean)
    assert result.code == 2 and said in result.err and not result.out
    assert len(result.err.strip().splitlines()) == 1


def _work_of_the_last_decision(repo: Path) -> tuple[int, dict[str, Any]]:
    """Trees and files the audit looks at to judge main's last commit."""
    with Repository.open(repo) as opened:
        history = opened.first_parent("main")
        replay = Replay(opened, None)
        try:
            replay.run("main", history[:-1])
            before = opened.visits
            outcome = replay.run("main", history[-1:])
            return opened.visits - before, outcome.document(datetime.now(UTC))
        finally:
            replay.close()


def test_judging_a_commit_reads_what_it_changed_not_the_whole_repository(
    repo: Path, tmp_path: Path
) -> None:
    """A release's decision costs the same in a repository with many other datasets: the
    audit re-reads only the folders a commit changed (before: every tree under datasets/
    at every commit, to find revoked artifacts)."""
    small = repo
    large = tmp_path / "large"
    large.mkdir()
    git(large, "init", "-q", "-b", "main")
    for folder, count in ((small, 1), (large, 40)):
        make_base(folder)
        git(folder, "checkout", "-q", "main")
        for k in range(count):  # other datasets' released files, unchanged from here on
            for version in ("1.0", "1.1", "1.2"):
                write(folder, f"datasets/other-{k}/releases/{version}/notes.md", f"{k}\n")
        commit(folder, "other datasets")
        add_release(folder)
    work = {}
    for folder in (small, large):
        work[folder], document = _work_of_the_last_decision(folder)
        assert document["decided"] == 1 and document["releases"], document["findings"]
    assert work[large] <= work[small] + 2, work


def test_the_checkpoint_records_its_state_digest(
    synthgov: Synthgov, clean: Path, dana: signing.Person
) -> None:
    point = checkpoint(synthgov, clean, dana)
    data = parse_yaml(point.read_bytes(), "c.yaml").data
    assert data["state_sha256"] == state_sha256(data["state"])
    assert data["state"]["budgets"][0]["source"] == "claims-db"
    assert json.loads(synthgov("schema", "checkpoint").out)["properties"]["state"]
