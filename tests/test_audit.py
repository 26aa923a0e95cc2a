"""`synthgov audit` on real git histories: each kind of finding at the commit that made it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from synthgov.files.schemas import json_schema
from tests.helpers import ledgers, samples, signing
from tests.helpers.cli import Synthgov, audit
from tests.helpers.git import commit, git, merge, sha
from tests.helpers.repos import add_release, make_base, put_approval, write
from tests.helpers.samples import RELEASE, with_metric


def kinds(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["commit"], f["kind"]) for f in data["findings"]]


@pytest.fixture
def clean(repo: Path) -> Path:
    """main: the base commit, then a merged pull request adding an approved release."""
    make_base(repo)
    add_release(repo)
    merge(repo)
    return repo


def test_a_clean_history_passes_and_the_json_validates(synthgov: Synthgov, clean: Path) -> None:
    code, data = audit(synthgov, clean)
    assert code == 0 and data["verdict"] == "clean", data["findings"]
    jsonschema.validate(data, json_schema("audit"))
    assert (data["commits"], data["decided"], data["head"]) == (2, 2, sha(clean))
    [release] = data["releases"]
    assert release["release"] == "claims@1.10" and release["verdict"] == "pass"
    assert release["last_commit"] == sha(clean)
    people = signing.people()
    fingerprints = {a["reviewer"]: a["fingerprint"] for a in release["approvals"]}
    assert fingerprints == {n: people[n].fingerprint for n in ("ada", "chen")}
    assert f"{RELEASE}/manifest.yaml" in release["inputs"] and "artifact" in release["inputs"]
    assert [b["source"] for b in data["budgets"]] == ["claims-db", "claims-db"]
    assert data["budgets"][-1]["entries"] == 1


def test_a_direct_push_of_a_failing_release_is_found_at_its_commit(
    synthgov: Synthgov, repo: Path
) -> None:
    make_base(repo)
    git(repo, "checkout", "-q", "main")
    add_release(repo, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    code, data = audit(synthgov, repo)
    assert code == 1 and data["verdict"] == "findings"
    pushed, approvals = sha(repo, "HEAD~1"), sha(repo)
    found = kinds(data)
    assert (pushed, "release.blocked") in found and (pushed, "approval.missing") in found
    assert (approvals, "release.blocked") in found
    privacy = [f for f in data["findings"] if f["gate"] == "privacy"]
    assert {f["release"] for f in privacy} == {"claims@1.10"}
    assert data["releases"][0]["verdict"] == "findings"


def test_audit_finds_a_self_approval_squashed_with_a_co_author_trailer(
    synthgov: Synthgov, repo: Path
) -> None:
    """ada writes claims@1.10 and approves it; the pull request is squash-merged past the
    gate. The squashed commit is sam's; ada survives only in the `Co-authored-by` trailer
    the platform writes for each author of the squashed commits, and the audit, which read
    author and committer lines alone, found the history clean."""
    make_base(repo)
    add_release(repo)  # the release commit, then ada's and chen's approvals
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--squash", "pr")
    env = {
        **os.environ,
        "GIT_AUTHOR_EMAIL": "sam@example.org",
        "GIT_COMMITTER_EMAIL": "sam@example.org",
    }
    message = (
        "claims@1.10 (#7)\n\nCo-authored-by: Ada <ada@example.org>\n"
        "Co-authored-by: Chen <chen@example.org>"
    )
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "commit", "-qm", message],
        cwd=repo,
        check=True,
        env=env,
    )
    code, data = audit(synthgov, repo)
    assert code == 1
    squashed = sha(repo)
    assert kinds(data) == [(squashed, "approval.missing")] * 2  # privacy reviewer, data owner
    [decision] = data["releases"][0]["decisions"]
    text = "\n".join(f["message"] for f in decision["findings"])
    assert "ada is an author of claims@1.10 and cannot approve it" in text
    assert "names as a co-author ada@example.org" in text


def test_a_ledger_rewrite_is_found_at_the_commit_that_made_it(
    synthgov: Synthgov, clean: Path
) -> None:
    ledger = clean / ledgers.PATH
    text = ledger.read_text()
    assert "mechanism: aim" in text
    ledger.write_text(text.replace("mechanism: aim", "mechanism: mst", 1))
    commit(clean, "tidy the ledger")
    code, data = audit(synthgov, clean)
    assert code == 1
    assert kinds(data) and set(kinds(data)) == {(sha(clean), "ledger.rewrite")}


def test_a_policy_change_without_admin_approvals_is_found(synthgov: Synthgov, clean: Path) -> None:
    policy = clean / "policy/policy.yaml"
    policy.write_text(samples.with_mia_rule(policy.read_text(), threshold=0.99))
    commit(clean, "loosen the policy")
    code, data = audit(synthgov, clean)
    assert code == 1
    assert kinds(data) == [(sha(clean), "policy.unapproved")]
    assert data["findings"][0]["rule"] == "policy.change"


def test_an_approval_by_a_key_revoked_before_the_merge_does_not_count(
    synthgov: Synthgov, repo: Path
) -> None:
    make_base(repo)
    git(repo, "checkout", "-q", "main")
    revoked = {"chen": "revoked_at: 2025-09-01T00:00:00Z\nrevocation_reason: laptop stolen"}
    write(
        repo, "policy/reviewers.yaml", signing.registry_yaml(*signing.registered(), extra=revoked)
    )
    git(repo, "add", "-A")
    git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "--amend", "--no-edit")
    git(repo, "branch", "-qf", "pr", "main")
    git(repo, "checkout", "-q", "pr")
    add_release(
        repo, manifest=samples.MANIFEST.replace("2026-09-02T10:00:00Z", "2025-06-01T10:00:00Z")
    )
    merge(repo)
    code, data = audit(synthgov, repo)
    assert code == 1
    assert kinds(data) == [(sha(repo), "approval.missing")]
    chen = next(a for a in data["releases"][0]["approvals"] if a["reviewer"] == "chen")
    assert chen["fingerprint"] is None and "revoked" in chen["problem"]
    # replayed at an instant before the revocation, the same approval counts
    code, data = audit(synthgov, repo, "--at", "2025-07-01T00:00:00Z")
    assert code == 0, [f["message"] for f in data["findings"]]


@pytest.fixture
def dana() -> signing.Person:
    return signing.people()["dana"]  # a policy admin: may sign checkpoints


def test_a_checkpoint_verifies_and_a_force_push_that_drops_it_is_found(
    synthgov: Synthgov, clean: Path, dana: signing.Person
) -> None:
    result = synthgov("audit", "--checkpoint", "--key", str(dana.key), cwd=clean)
    assert result.code == 0, result.err
    [written] = list((clean / "audit/checkpoints").iterdir())
    assert "checkpoint of" in result.err
    code, data = audit(synthgov, clean)
    assert code == 0
    [point] = data["checkpoints"]
    assert (point["status"], point["commit"], point["reviewer"]) == ("verified", sha(clean), "dana")
    dropped = sha(clean)
    git(clean, "reset", "-q", "--hard", "HEAD~1")  # the untracked checkpoint stays
    write(clean, "notes.txt", "history rewritten\n")
    commit(clean, "rewritten")
    assert written.exists()
    code, data = audit(synthgov, clean)
    assert code == 1
    [finding] = data["findings"]
    assert finding["kind"] == "history.rewritten" and dropped[:12] in finding["message"]


def test_a_tampered_checkpoint_is_invalid(
    synthgov: Synthgov, clean: Path, dana: signing.Person
) -> None:
    assert synthgov("audit", "--checkpoint", "--key", str(dana.key), cwd=clean).code == 0
    [written] = list((clean / "audit/checkpoints").iterdir())
    written.write_text(re.sub(r"entries: 1", "entries: 0", written.read_text()))
    code, data = audit(synthgov, clean)
    assert code == 1 and "checkpoint.invalid" in {f["kind"] for f in data["findings"]}


def test_a_checkpoint_needs_an_auditor_or_policy_admin(synthgov: Synthgov, clean: Path) -> None:
    ada = signing.people()["ada"]
    result = synthgov("audit", "--checkpoint", "--key", str(ada.key), cwd=clean)
    assert result.code == 2 and "ada holds neither auditor nor policy-admin" in result.err
    assert not (clean / "audit").exists()


def test_a_recorded_checkpoint_signed_with_a_key_revoked_later_on_main_is_not_trusted(
    synthgov: Synthgov, clean: Path, dana: signing.Person
) -> None:
    """The key was valid when the checkpoint says it was made, and main revoked it after:
    as for `--since`, the registry at the audited tip must still vouch for the signer, or
    a stolen key could have signed a back-dated checkpoint that anchors forged dates."""
    assert synthgov("audit", "--checkpoint", "--key", str(dana.key), cwd=clean).code == 0
    [written] = list((clean / "audit/checkpoints").iterdir())
    code, data = audit(synthgov, clean)
    assert code == 0 and data["checkpoints"][0]["status"] == "verified"
    created = re.search(r"created_at: '?([0-9TZ:-]+)", written.read_text())
    assert created is not None
    later = datetime.fromisoformat(created.group(1).replace("Z", "+00:00")) + timedelta(seconds=1)
    revoked = synthgov(
        "reviewer", "revoke-key", "dana", "--fingerprint", dana.fingerprint,
        "--at", later.strftime("%Y-%m-%dT%H:%M:%SZ"), "--reason", "stolen", cwd=clean,
    )  # fmt: skip
    assert revoked.code == 0, revoked.err
    commit(clean, "revoke dana's stolen key")  # unapproved too: a finding of its own
    code, data = audit(synthgov, clean)
    assert code == 1
    [point] = data["checkpoints"]
    assert point["status"] == "findings"
    [finding] = [f for f in data["findings"] if f["kind"] == "checkpoint.invalid"]
    assert "no longer vouches" in finding["message"] and "revoked since" in finding["message"]
    assert all(d["anchored_by"] is None for r in data["releases"] for d in r["decisions"])


def test_a_back_dated_commit_is_found(
    synthgov: Synthgov, clean: Path, dana: signing.Person
) -> None:
    assert synthgov("audit", "--checkpoint", "--key", str(dana.key), cwd=clean).code == 0
    write(clean, "notes.txt", "late\n")
    git(clean, "add", "-A")
    env = {**os.environ, "GIT_COMMITTER_DATE": "2001-01-01T00:00:00Z"}
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "commit", "-qm", "back-dated"],
        cwd=clean,
        env=env,
        check=True,
    )
    code, data = audit(synthgov, clean)
    assert code == 1
    assert set(kinds(data)) == {
        (sha(clean), "history.date_regression"),
        (sha(clean), "history.backdated"),
    }


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.refs += [
            f"{k}={v}"
            for k, v in attrs
            if k in ("src", "href", "xlink:href", "srcset", "data", "action")
        ]


def test_the_evidence_pack_is_self_contained(
    synthgov: Synthgov, repo: Path, tmp_path: Path
) -> None:
    make_base(repo)
    git(repo, "checkout", "-q", "main")
    add_release(repo, with_metric("privacy.mia_auc", value=0.7, ci=[0.66, 0.74]))
    out = tmp_path / "pack"
    result = synthgov("audit", "--out", str(out), cwd=repo)
    assert result.code == 1 and "evidence pack" in result.out
    assert sorted(p.name for p in out.iterdir()) == ["audit.html", "audit.json", "audit.md"]
    jsonschema.validate(json.loads((out / "audit.json").read_text()), json_schema("audit"))
    html = (out / "audit.html").read_text()
    parser = _Refs()
    parser.feed(html)
    assert {"svg", "polyline", "rect", "table"} <= parser.tags
    assert not parser.tags & {"script", "link", "img", "iframe", "object", "embed", "image"}
    assert parser.refs == [] and "url(" not in html and "@import" not in html
    assert "EU AI Act" in html and "ISO/IEC 42001" in html
    markdown = (out / "audit.md").read_text()
    assert "## Regulatory evidence map" in markdown and "release.blocked" in markdown
    assert synthgov("audit", "--format", "html", cwd=repo).out.startswith("<!DOCTYPE html>")


def test_a_range_audits_part_of_the_history(synthgov: Synthgov, clean: Path) -> None:
    code, data = audit(synthgov, clean, "--range", "main~1..main")
    assert code == 0 and data["commits"] == 1 and data["range"] == "main~1..main"


@pytest.mark.parametrize("args", [["--range", "nosuch"], ["--at", "yesterday"]])
def test_bad_input_is_one_line_and_exit_2(synthgov: Synthgov, clean: Path, args: list[str]) -> None:
    result = synthgov("audit", *args, cwd=clean)
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1 and not result.out


def test_a_shallow_clone_is_refused(synthgov: Synthgov, clean: Path, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{clean}", str(shallow))
    result = synthgov("audit", "--range", "HEAD", cwd=shallow)
    assert result.code == 2 and "shallow" in result.err


def test_the_audit_schema_is_exported(synthgov: Synthgov) -> None:
    listed = synthgov("schema").out.split()
    assert "checkpoint" in listed and "audit" in listed
    schema = json.loads(synthgov("schema", "audit").out)
    assert "findings" in schema["properties"]


def test_a_revoked_artifact_shipped_again_is_found(synthgov: Synthgov, clean: Path) -> None:
    manifest = (clean / RELEASE / "manifest.yaml").read_text()
    shipped = re.search(r"sha256: ([0-9a-f]{64}), rows", manifest)
    assert shipped is not None
    write(
        clean,
        f"{RELEASE}/revocation.yaml",
        (
            "schema_version: 1\nrelease: claims@1.10\nincident_class: privacy\nreason: leak\n"
            f'revoked_at: "2026-10-01T00:00:00Z"\nauthor: author@example.org\n'
            f"artifact_sha256: {shipped.group(1)}\n"
        ),
    )
    commit(clean, "revoke claims@1.10 (pushed directly)")
    again = RELEASE.replace("1.10", "1.11")
    write(clean, f"{again}/manifest.yaml", manifest.replace('version: "1.10"', 'version: "1.11"'))
    write(clean, f"{again}/report.json", (clean / RELEASE / "report.json").read_text())
    commit(clean, "claims@1.11 ships the revoked table again")
    code, data = audit(synthgov, clean)
    assert code == 1
    assert (sha(clean), "revocation.ignored") in kinds(data)


@pytest.mark.parametrize("between", ["nothing", "revoked key", "tightened policy"])
def test_identical_release_files_are_judged_again_by_the_trust_root_of_their_commit(
    synthgov: Synthgov, clean: Path, between: str
) -> None:
    """claims@1.10 passes at its merge; a later commit on main touches the release again
    (dana's extra approval) with the same manifest, report, ledger and approvals, byte for
    byte. Whatever the audit remembers from the first decision (parsed files, trust roots,
    verified signatures) is keyed by content: when chen's key was revoked or the policy
    tightened in between, the second decision must differ from the first."""
    if between == "revoked key":
        revoked = {"chen": "revoked_at: 2026-01-01T00:00:00Z\nrevocation_reason: key lost"}
        registry = signing.registry_yaml(*signing.registered(), extra=revoked)
        write(clean, "policy/reviewers.yaml", registry)
        commit(clean, "chen's key revoked")
    elif between == "tightened policy":
        policy = clean / "policy/policy.yaml"
        policy.write_text(samples.with_mia_rule(policy.read_text(), threshold=0.1))
        commit(clean, "privacy rule tightened")
    put_approval(clean, "dana")
    commit(clean, "dana approves claims@1.10 too")
    code, data = audit(synthgov, clean)
    [release] = data["releases"]
    first, again = release["decisions"]
    merged_at = sha(clean, "HEAD~1" if between == "nothing" else "HEAD~2")
    assert (first["commit"], first["verdict"]) == (merged_at, "pass")
    assert again["commit"] == sha(clean)
    second = {f["kind"] for f in data["findings"] if f["commit"] == sha(clean)}
    if between == "nothing":
        assert code == 0 and again["verdict"] == "pass", data["findings"]
    elif between == "revoked key":
        assert again["verdict"] == "blocked" and "approval.missing" in second, second
    else:
        assert again["verdict"] == "blocked" and "release.blocked" in second, second
        assert any(f["gate"] == "privacy" for f in again["findings"])
