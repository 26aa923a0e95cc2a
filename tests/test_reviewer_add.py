"""`synthgov reviewer add`: real SSH and OpenPGP keys, and a registry never rewritten.

Keys come from `ssh-keygen` and `gpg --batch` in temporary homes; the fingerprints
synthgov records must be the ones those tools print. The registry edits are checked
byte for byte against what the user wrote.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from synthgov.files import governance
from synthgov.models import Registry
from tests.helpers import ROOT
from tests.helpers.cli import Result, Synthgov

TEMPLATES = ROOT / "synthgov" / "templates"


def ssh_key(directory: Path, name: str, *args: str) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-N", "", "-C", f"{name}@host", "-f", str(directory / name), *args],
        check=True,
    )
    return directory / f"{name}.pub"


def ssh_fingerprint(pub: Path) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(pub)], check=True, capture_output=True, text=True
    ).stdout
    return out.split()[1]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("keys")
    return {
        "ada": ssh_key(directory, "ada", "-t", "ed25519"),
        "bob": ssh_key(directory, "bob", "-t", "ed25519"),
        "ecdsa": ssh_key(directory, "ecdsa", "-t", "ecdsa", "-b", "256"),
        "rsa2048": ssh_key(directory, "rsa2048", "-t", "rsa", "-b", "2048"),
        "ada_private": directory / "ada",
    }


@pytest.fixture(scope="module")
def openpgp(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An ed25519 OpenPGP key made by gpg, exported in armour, and gpg's fingerprint of it."""
    home = tmp_path_factory.mktemp("gnupg")
    os.chmod(home, 0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}

    def gpg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["gpg", *args], check=True, capture_output=True, text=True, env=env)

    gpg(
        "--batch",
        "--passphrase",
        "",
        "--quick-gen-key",
        "Gale Reviewer <gale@example.org>",
        "ed25519",
        "sign",
        "never",
    )
    listing = gpg("--with-colons", "--list-keys", "gale@example.org")
    fingerprint = next(
        line.split(":")[9] for line in listing.stdout.splitlines() if line.startswith("fpr:")
    )
    armour = gpg("--armor", "--export", "gale@example.org").stdout
    path = home / "gale.asc"
    path.write_text(armour)
    return path, fingerprint


@pytest.fixture
def gov(repo: Path) -> Path:
    """A repository as `synthgov init` leaves it, with a comment the user added."""
    (repo / "policy").mkdir()
    (repo / "policy" / "policy.yaml").write_bytes((TEMPLATES / "policy.yaml").read_bytes())
    registry = (TEMPLATES / "reviewers.yaml").read_text()
    registry = registry.replace(
        "schema_version: 1\n", "# team note: keys rotate yearly\nschema_version: 1\n"
    )
    (repo / "policy" / "reviewers.yaml").write_text(registry)
    (repo / "policy" / "reviewers.yaml").chmod(0o644)
    return repo


def registry_of(repo: Path) -> Registry:
    model = governance.load(repo, "policy/reviewers.yaml", Registry).model
    return model


def add(
    synthgov: Synthgov,
    repo: Path,
    reviewer: str,
    key: Path,
    *roles: str,
    extra: tuple[str, ...] = (),
) -> Result:
    role_args = [arg for role in roles or ("privacy-reviewer",) for arg in ("--role", role)]
    return synthgov(
        "reviewer",
        "add",
        reviewer,
        "--name",
        f"{reviewer.title()} Example",
        "--email",
        f"{reviewer}@example.org",
        *role_args,
        "--key",
        str(key),
        *extra,
        cwd=repo,
    )


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_ssh_key_registered_with_ssh_keygen_fingerprint(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path]
) -> None:
    before = (gov / "policy/reviewers.yaml").read_text()
    result = add(synthgov, gov, "ada", keys["ada"], "privacy-reviewer", "data-owner")
    assert result.code == 0, result.err
    expected = ssh_fingerprint(keys["ada"])
    assert expected in result.err
    reviewer = registry_of(gov).reviewer("ada")
    assert reviewer is not None and reviewer.roles == ["privacy-reviewer", "data-owner"]
    assert reviewer.keys[0].type == "ssh" and reviewer.keys[0].fingerprint == expected
    assert "ada@host" not in reviewer.keys[0].public_key  # the key's comment is not published
    after = (gov / "policy/reviewers.yaml").read_text()
    head = before[: before.index("reviewers: []")]
    assert after.startswith(head + "reviewers:\n  - id: ada\n")  # comments kept byte for byte
    assert synthgov("validate", cwd=gov).code == 0


def test_second_reviewer_appends_below_the_first(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path]
) -> None:
    assert add(synthgov, gov, "ada", keys["ada"]).code == 0
    before = (gov / "policy/reviewers.yaml").read_bytes()
    assert add(synthgov, gov, "bob", keys["bob"], "data-owner").code == 0
    after = (gov / "policy/reviewers.yaml").read_bytes()
    assert after.startswith(before) and after[len(before) :].startswith(b"  - id: bob\n")
    assert [r.id for r in registry_of(gov).reviewers] == ["ada", "bob"]
    assert stat.S_IMODE((gov / "policy/reviewers.yaml").stat().st_mode) == 0o644


def test_openpgp_key_fingerprint_equals_gpg(
    synthgov: Synthgov, gov: Path, openpgp: tuple[Path, str]
) -> None:
    path, fingerprint = openpgp
    result = add(synthgov, gov, "gale", path, "policy-admin")
    assert result.code == 0, result.err
    key = registry_of(gov).reviewers[0].keys[0]
    assert (key.type, key.fingerprint) == ("openpgp", fingerprint)
    assert key.public_key.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n")
    assert synthgov("validate", cwd=gov).code == 0


def test_ecdsa_key_accepted(synthgov: Synthgov, gov: Path, keys: dict[str, Path]) -> None:
    assert add(synthgov, gov, "eve", keys["ecdsa"]).code == 0
    assert registry_of(gov).reviewers[0].keys[0].fingerprint == ssh_fingerprint(keys["ecdsa"])


def test_user_layout_in_the_middle_is_kept(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path]
) -> None:
    assert add(synthgov, gov, "ada", keys["ada"]).code == 0
    path = gov / "policy/reviewers.yaml"
    text = path.read_text().replace("schema_version: 1\n", "") + (
        "    # ada's second key goes here next year\n\n# end of the list\nschema_version: 1  # v1\n"
    )
    path.write_text(text)
    assert add(synthgov, gov, "bob", keys["bob"]).code == 0
    after = path.read_text()
    assert after.replace(after[after.index("  - id: bob") : after.index("    # ada's")], "") == text
    assert [r.id for r in registry_of(gov).reviewers] == ["ada", "bob"]


def test_crlf_registry_stays_crlf(synthgov: Synthgov, gov: Path, keys: dict[str, Path]) -> None:
    path = gov / "policy/reviewers.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert add(synthgov, gov, "ada", keys["ada"]).code == 0
    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert registry_of(gov).reviewers[0].id == "ada"


def test_missing_reviewers_key_is_added(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path]
) -> None:
    path = gov / "policy/reviewers.yaml"
    path.write_text("schema_version: 1  # no reviewers yet")
    assert add(synthgov, gov, "ada", keys["ada"]).code == 0
    assert path.read_text().startswith(
        "schema_version: 1  # no reviewers yet\nreviewers:\n  - id: ada\n"
    )


def test_flow_style_list_is_not_rewritten(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path]
) -> None:
    assert add(synthgov, gov, "ada", keys["ada"]).code == 0
    ada = registry_of(gov).reviewers[0].keys[0]
    path = gov / "policy/reviewers.yaml"
    path.write_text(
        "schema_version: 1\nreviewers: [{id: ada, name: Ada, email: ada@example.org, "
        f'roles: [data-owner], keys: [{{type: ssh, public_key: "{ada.public_key}", '
        f'fingerprint: "{ada.fingerprint}"}}]}}]\n'
    )
    before = path.read_bytes()
    result = add(synthgov, gov, "bob", keys["bob"])
    assert result.code == 2
    assert "paste the block printed above" in one_line(result.err)
    assert result.out.startswith("  - id: bob\n")
    assert path.read_bytes() == before


def test_rsa_2048_refused(synthgov: Synthgov, gov: Path, keys: dict[str, Path]) -> None:
    before = (gov / "policy/reviewers.yaml").read_bytes()
    result = add(synthgov, gov, "rob", keys["rsa2048"])
    assert result.code == 2
    assert one_line(result.err) == (
        f"{keys['rsa2048']}: not a usable ssh public key: RSA keys need at least 3072 bits, got 2048"
    )
    assert (gov / "policy/reviewers.yaml").read_bytes() == before


def test_private_key_refused(synthgov: Synthgov, gov: Path, keys: dict[str, Path]) -> None:
    result = add(synthgov, gov, "ada", keys["ada_private"])
    assert result.code == 2 and "PRIVATE key" in one_line(result.err)
    assert "PRIVATE" not in (gov / "policy/reviewers.yaml").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "expected one SSH public key line"),
        (b"ssh-ed25519 AAAA\nssh-ed25519 BBBB\n", "expected one SSH public key line"),
        (b"ssh-ed25519 !!!notbase64\n", "not valid base64"),
        (b"\xff\xfe", "not text"),
        (b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n", "exactly one armoured"),
    ],
)
def test_unusable_key_files(
    synthgov: Synthgov, gov: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "key.pub"
    path.write_bytes(content)
    result = add(synthgov, gov, "ada", path)
    assert result.code == 2
    assert message in one_line(result.err)


def test_oversized_key_file_refused(synthgov: Synthgov, gov: Path, tmp_path: Path) -> None:
    path = tmp_path / "big.pub"
    path.write_bytes(b"ssh-ed25519 " + b"A" * 70_000)
    result = add(synthgov, gov, "ada", path)
    assert result.code == 2 and "larger than 64 KiB" in one_line(result.err)


def test_duplicate_id_and_duplicate_key_refused(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path]
) -> None:
    assert add(synthgov, gov, "ada", keys["ada"]).code == 0
    before = (gov / "policy/reviewers.yaml").read_bytes()
    same_id = add(synthgov, gov, "ada", keys["bob"])
    assert same_id.code == 2
    assert (
        one_line(same_id.err)
        == "policy/reviewers.yaml: reviewer ada already exists; nothing was changed"
    )
    same_key = add(synthgov, gov, "mallory", keys["ada"])
    assert same_key.code == 2
    assert f"key {ssh_fingerprint(keys['ada'])} is already registered to ada" in one_line(
        same_key.err
    )
    assert (gov / "policy/reviewers.yaml").read_bytes() == before


def test_validity_window(synthgov: Synthgov, gov: Path, keys: dict[str, Path]) -> None:
    window = ("--valid-after", "2026-01-01", "--valid-before", "2027-06-30T12:00:00+02:00")
    assert add(synthgov, gov, "ada", keys["ada"], extra=window).code == 0
    key = registry_of(gov).reviewers[0].keys[0]
    assert (
        key.valid_after is not None and key.valid_after.isoformat() == "2026-01-01T00:00:00+00:00"
    )
    assert (
        key.valid_before is not None and key.valid_before.isoformat() == "2027-06-30T10:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--valid-after", "2027-01-01", "--valid-before", "2026-01-01"), "--valid-before: "),
        (("--valid-after", "yesterday"), "--valid-after: 'yesterday' is not an ISO 8601 time"),
        (("--valid-before", "2026-02-30"), "--valid-before: '2026-02-30' is not a real date"),
    ],
)
def test_bad_validity_options(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path], extra: tuple[str, ...], message: str
) -> None:
    result = add(synthgov, gov, "ada", keys["ada"], extra=extra)
    assert result.code == 2 and one_line(result.err).startswith(message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("../x", "--email", "a@example.org"), "ID: '../x' is not a valid id"),
        (("ada", "--email", "not-an-email"), "--email: "),
        (("ada", "--email", "a@example.org", "--role", "Privacy Reviewer"), "--role: "),
    ],
)
def test_bad_options(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path], args: tuple[str, ...], message: str
) -> None:
    reviewer, *rest = args
    roles = () if "--role" in rest else ("--role", "data-owner")
    result = synthgov(
        "reviewer",
        "add",
        reviewer,
        "--name",
        "N",
        *rest,
        *roles,
        "--key",
        str(keys["ada"]),
        cwd=gov,
    )
    assert result.code == 2 and one_line(result.err).startswith(message)


def test_unknown_role_warns(synthgov: Synthgov, gov: Path, keys: dict[str, Path]) -> None:
    result = add(synthgov, gov, "ada", keys["ada"], "privacy-reviwer")
    assert result.code == 0
    assert (
        "warning: role privacy-reviwer is not required anywhere in policy/policy.yaml" in result.err
    )


def test_missing_registry_asks_for_init(
    synthgov: Synthgov, repo: Path, keys: dict[str, Path]
) -> None:
    result = add(synthgov, repo, "ada", keys["ada"])
    assert result.code == 2
    assert "run `synthgov init` first" in one_line(result.err)
    assert not (repo / "policy").exists()


def test_invalid_registry_is_reported_and_left_alone(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path]
) -> None:
    path = gov / "policy/reviewers.yaml"
    path.write_text("schema_version: 1\nreviewers: []\nreviewers: []\n")
    result = add(synthgov, gov, "ada", keys["ada"])
    assert result.code == 2
    assert one_line(result.err).startswith("policy/reviewers.yaml:3:1: duplicate key 'reviewers'")
    assert path.read_text() == "schema_version: 1\nreviewers: []\nreviewers: []\n"


def test_symlinked_registry_is_refused(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_bytes((gov / "policy/reviewers.yaml").read_bytes())
    (gov / "policy/reviewers.yaml").unlink()
    (gov / "policy/reviewers.yaml").symlink_to(outside)
    before = outside.read_bytes()
    result = add(synthgov, gov, "ada", keys["ada"])
    assert result.code == 2 and "symbolic link" in one_line(result.err)
    assert outside.read_bytes() == before and (gov / "policy/reviewers.yaml").is_symlink()


def test_an_export_of_several_keys_is_refused_not_cut_to_the_first(
    synthgov: Synthgov,
    gov: Path,
    openpgp: tuple[Path, str],
    tmp_path: Path,
) -> None:
    home = openpgp[0].parent
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Second Key <second@example.org>",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    both = subprocess.run(
        ["gpg", "--armor", "--export", "gale@example.org", "second@example.org"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    path = tmp_path / "both.asc"
    path.write_text(both)
    before = (gov / "policy/reviewers.yaml").read_bytes()
    result = add(synthgov, gov, "gale", path, "privacy-reviewer")
    assert result.code == 2
    assert "the armour holds several primary keys; export exactly one" in result.err
    assert (gov / "policy/reviewers.yaml").read_bytes() == before


def test_a_truncated_openpgp_packet_is_refused_not_a_crash(
    synthgov: Synthgov, gov: Path, tmp_path: Path
) -> None:
    import base64

    body = base64.b64encode(bytes([0xC6, 0xC0])).decode()
    path = tmp_path / "short.asc"
    path.write_text(
        f"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{body}\n-----END PGP PUBLIC KEY BLOCK-----\n"
    )
    result = add(synthgov, gov, "gale", path, "privacy-reviewer")
    assert result.code == 2
    assert "not a usable openpgp public key: truncated packet" in result.err


def test_every_address_and_the_login_are_recorded_for_authorship(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path]
) -> None:
    extra = (
        "--also-email",
        "ada@home.example",
        "--also-email",
        "A.Lindqvist@Old.example",
        "--login",
        "ada-l",
    )
    result = add(synthgov, gov, "ada", keys["ada"], extra=extra)
    assert result.code == 0, result.err
    reviewer = registry_of(gov).reviewer("ada")
    assert reviewer is not None and reviewer.login == "ada-l"
    assert reviewer.emails == ["ada@home.example", "A.Lindqvist@Old.example"]
    assert reviewer.addresses == {"ada@example.org", "ada@home.example", "a.lindqvist@old.example"}
    assert synthgov("validate", cwd=gov).code == 0


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--login", "ada lindqvist"), "--login: 'ada lindqvist' is not a code-host login"),
        (("--also-email", "not-an-address"), "--also-email: "),
    ],
    ids=["login", "address"],
)
def test_a_bad_login_or_address_is_refused_and_nothing_is_written(
    synthgov: Synthgov, gov: Path, keys: dict[str, Path], extra: tuple[str, ...], expected: str
) -> None:
    before = (gov / "policy/reviewers.yaml").read_bytes()
    result = add(synthgov, gov, "ada", keys["ada"], extra=extra)
    assert result.code == 2 and one_line(result.err).startswith(expected)
    assert (gov / "policy/reviewers.yaml").read_bytes() == before
