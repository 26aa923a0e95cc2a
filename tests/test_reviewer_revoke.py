"""`synthgov reviewer revoke-key`: two lines inserted under the key, nothing else rewritten."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from synthgov.files import governance
from synthgov.models import Registry
from tests.helpers import signing
from tests.helpers.cli import Synthgov

PEOPLE = signing.people()
HEADER = "# Who may approve. Comments stay.\n"


def registry(tmp_path: Path) -> Path:
    path = tmp_path / "policy/reviewers.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + signing.registry_yaml(PEOPLE["ada"], PEOPLE["chen"]))
    return path


def test_revoke_key_inserts_the_revocation_and_keeps_the_rest(
    synthgov: Synthgov, tmp_path: Path
) -> None:
    path = registry(tmp_path)
    before = path.read_text()
    ada = PEOPLE["ada"]
    result = synthgov(
        "reviewer",
        "revoke-key",
        "ada",
        "--fingerprint",
        ada.fingerprint,
        "--at",
        "2026-11-01T00:00:00Z",
        "--reason",
        "laptop stolen",
        cwd=tmp_path,
    )
    assert result.code == 0, result.err
    after = path.read_text()
    assert after.startswith(HEADER)
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == [
        '      revoked_at: "2026-11-01T00:00:00Z"',
        '      revocation_reason: "laptop stolen"',
    ]
    loaded = governance.load(tmp_path, "policy/reviewers.yaml", Registry).model
    [key] = loaded.reviewers[0].keys
    assert key.revoked_at == datetime(2026, 11, 1, tzinfo=UTC) and not key.is_valid_at(
        datetime.now(UTC)
    )
    assert loaded.reviewers[1].keys[0].revoked_at is None


def test_revoke_key_refuses_unknown_and_already_revoked_keys(
    synthgov: Synthgov, tmp_path: Path
) -> None:
    path = registry(tmp_path)
    fp = PEOPLE["ada"].fingerprint
    wrong = synthgov(
        "reviewer", "revoke-key", "chen", "--fingerprint", fp, "--reason", "x", cwd=tmp_path
    )
    assert wrong.code == 2 and "chen has no key" in wrong.err
    assert (
        synthgov(
            "reviewer", "revoke-key", "ada", "--fingerprint", fp, "--reason", "x", cwd=tmp_path
        ).code
        == 0
    )
    text = path.read_text()
    again = synthgov(
        "reviewer", "revoke-key", "ada", "--fingerprint", fp, "--reason", "y", cwd=tmp_path
    )
    assert again.code == 2 and "already revoked" in again.err
    assert path.read_text() == text
