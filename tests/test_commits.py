"""Signed commits: git's payload rule, agreement with `git verify-commit`, and strictness.

Commits are made by real git (`commit -S` with ssh-keygen or gpg), in SHA-1 and SHA-256
repositories; malleated ones are written with `git hash-object --literally` from edited
raw bytes. Where git says Good but the commit id is malleable, synthgov refuses
(signing.md §4.3, attack 22).
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthgov.errors import SignatureError
from synthgov.signing import commits, keys, sshsig
from synthgov.signing.commits import split_signed
from synthgov.signing.openpgp import Keyring


def run_git(
    cwd: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def raw_commit(repo: Path, rev: str = "HEAD") -> bytes:
    return run_git(repo, "cat-file", "commit", rev).stdout


def write_commit(repo: Path, raw: bytes) -> str:
    done = run_git(repo, "hash-object", "-t", "commit", "-w", "--literally", "--stdin", stdin=raw)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().strip()


def git_verifies(repo: Path, rev: str) -> bool:
    return run_git(repo, "verify-commit", rev).returncode == 0


def git_payload(repo: Path, rev: str) -> bytes:
    """What git itself hands to the verifier: `git verify-commit -v` prints it."""
    done = run_git(repo, "verify-commit", "-v", rev)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """(private key file, public key blob) made by ssh-keygen."""
    directory = tmp_path_factory.mktemp("commit-keys")
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "id")], check=True
    )
    line = (directory / "id.pub").read_text()
    (directory / "allowed_signers").write_text(f"author@example.org {line}")
    return directory / "id", base64.b64decode(line.split()[1])


@pytest.fixture(scope="module")
def gpg_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """(GNUPGHOME, primary fingerprint, armoured public key) of an ed25519 key made by gpg;
    the gpg-agent it starts is stopped afterwards."""
    home = tmp_path_factory.mktemp("commit-gnupg")
    os.chmod(home, 0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Gale <gale@example.org>",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    armour = subprocess.run(
        ["gpg", "--armor", "--export", "gale@example.org"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    yield home, keys.parse_openpgp_public_key(armour).fingerprint, armour
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def make_repo(path: Path, ssh_key: tuple[Path, bytes], object_format: str = "sha1") -> Path:
    path.mkdir()
    run_git(path, "init", "-q", "-b", "main", f"--object-format={object_format}")
    for key, value in (
        ("gpg.format", "ssh"),
        ("user.signingkey", str(ssh_key[0])),
        ("gpg.ssh.allowedSignersFile", str(ssh_key[0].parent / "allowed_signers")),
    ):
        run_git(path, "config", key, value)
    (path / "file.txt").write_text("data\n")
    run_git(path, "add", "file.txt")
    return path


def commit(
    repo: Path,
    message: str = "add data\n\nwith a body\n",
    *args: str,
    env: dict[str, str] | None = None,
) -> str:
    done = run_git(repo, "commit", "-q", "--allow-empty", "-m", message, *args, env=env)
    assert done.returncode == 0, done.stderr
    return run_git(repo, "rev-parse", "HEAD").stdout.decode().strip()


@pytest.fixture
def signed(tmp_path: Path, ssh_key: tuple[Path, bytes]) -> Path:
    """A repository whose HEAD is an SSH-signed commit."""
    repo = make_repo(tmp_path / "repo", ssh_key)
    commit(repo, "add data\n\nwith a body\n", "-S")
    return repo


def sign_raw(unsigned: bytes, ssh_key: tuple[Path, bytes], before: bytes) -> bytes:
    """Sign a raw commit as `git commit -S` does, but put the `gpgsig` header before the
    header line starting with `before`: a layout git cannot be asked to make."""
    armored = sshsig.sign_with_ssh_keygen(ssh_key[0], unsigned, "git").encode()
    header = b"gpgsig " + armored.rstrip(b"\n").replace(b"\n", b"\n ") + b"\n"
    at = unsigned.index(b"\n" + before) + 1
    return unsigned[:at] + header + unsigned[at:]


# --- agreement with git -----------------------------------------------------------------------


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_ssh_signed_commit_verifies_as_git_does(
    tmp_path: Path, ssh_key: tuple[Path, bytes], object_format: str
) -> None:
    repo = make_repo(tmp_path / "repo", ssh_key, object_format)
    sha = commit(repo, "add data\n\nwith a body\n", "-S")
    raw = raw_commit(repo, sha)
    header = b"gpgsig-sha256 " if object_format == "sha256" else b"gpgsig "
    assert header in raw
    got = split_signed(raw)
    assert got.format == "sshsig"
    assert got.payload == git_payload(repo, sha)
    assert got.signature.startswith(b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH")
    assert got.signature.endswith(b"\n-----END SSH SIGNATURE-----\n")
    assert (got.author_email, got.committer_email) == ("author@example.org", "author@example.org")
    sshsig.verify(got.signature, got.payload, namespace="git", public_key=ssh_key[1])
    assert git_verifies(repo, sha)


def test_openpgp_signed_commit_verifies_as_git_does(
    tmp_path: Path, ssh_key: tuple[Path, bytes], gpg_key: tuple[Path, str, str]
) -> None:
    home, fingerprint, armour = gpg_key
    repo = make_repo(tmp_path / "repo", ssh_key)
    env = {"GNUPGHOME": str(home)}
    done = run_git(
        repo,
        "-c",
        "gpg.format=openpgp",
        "-c",
        f"user.signingkey={fingerprint}",
        "commit",
        "-q",
        "-S",
        "-m",
        "add data",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    got = split_signed(raw_commit(repo))
    assert got.format == "openpgp"
    assert got.signature.startswith(b"-----BEGIN PGP SIGNATURE-----\n\n")  # " " line unprefixed
    with Keyring([armour]) as keyring:
        assert keyring.verify(got.signature, got.payload) == fingerprint
        with pytest.raises(SignatureError, match=r"^bad signature"):
            keyring.verify(got.signature, got.payload.replace(b"add data", b"add dato"))
    assert run_git(repo, "verify-commit", "HEAD", env=env).returncode == 0


def test_author_and_committer_emails_come_from_the_signed_bytes(
    tmp_path: Path, ssh_key: tuple[Path, bytes]
) -> None:
    repo = make_repo(tmp_path / "repo", ssh_key)
    commit(
        repo,
        "x",
        "-S",
        env={"GIT_AUTHOR_EMAIL": "ann@example.org", "GIT_COMMITTER_EMAIL": "carl@example.org"},
    )
    got = split_signed(raw_commit(repo))
    assert (got.author_email, got.committer_email) == ("ann@example.org", "carl@example.org")
    assert commits.author_emails(raw_commit(repo)) == ("ann@example.org", "carl@example.org")


def test_signature_header_amid_other_headers_splits_as_git_does(
    tmp_path: Path, ssh_key: tuple[Path, bytes]
) -> None:
    """A custom header after `gpgsig` stays in the payload, byte for byte (attack 23)."""
    repo = make_repo(tmp_path / "repo", ssh_key)
    raw = raw_commit(repo, commit(repo))
    head, message = raw.split(b"\n\n", 1)
    unsigned = head + b"\nx-custom-header value\n continued\n\n" + message
    sha = write_commit(repo, sign_raw(unsigned, ssh_key, before=b"x-custom-header"))
    assert b"\n -----END SSH SIGNATURE-----\nx-custom-header value\n" in raw_commit(repo, sha)
    got = split_signed(raw_commit(repo, sha))
    assert got.payload == unsigned == git_payload(repo, sha)
    sshsig.verify(got.signature, got.payload, namespace="git", public_key=ssh_key[1])


# --- strictness: git says Good, synthgov refuses ---------------------------------------------


def test_extra_gpgsig_sha256_header_rejected_though_git_says_good(signed: Path) -> None:
    raw = raw_commit(signed)
    malleated = raw.replace(b"\ngpgsig ", b"\ngpgsig-sha256 junk\n continued\ngpgsig ", 1)
    sha = write_commit(signed, malleated)
    assert sha != run_git(signed, "rev-parse", "HEAD").stdout.decode().strip()
    assert git_verifies(signed, sha)
    with pytest.raises(SignatureError) as caught:
        split_signed(raw_commit(signed, sha))
    assert str(caught.value) == (
        "the commit carries another signature header (gpgsig-sha256) beside gpgsig; "
        "extra signature headers change the commit id without touching what was signed"
    )


def test_duplicate_gpgsig_header_rejected_though_git_says_good(signed: Path) -> None:
    raw = raw_commit(signed)
    head, message = raw.split(b"\n\n", 1)
    signature = b"\ngpgsig " + head.split(b"\ngpgsig ", 1)[1]
    sha = write_commit(signed, head + signature + b"\n\n" + message)
    assert git_verifies(signed, sha)
    with pytest.raises(
        SignatureError, match=r"^the commit has 2 gpgsig headers; a signed commit has one$"
    ):
        split_signed(raw_commit(signed, sha))


def test_made_up_gpgsig_header_rejected_though_git_says_good(signed: Path) -> None:
    malleated = raw_commit(signed).replace(b"\ngpgsig ", b"\ngpgsig-foo bar\ngpgsig ", 1)
    sha = write_commit(signed, malleated)
    assert git_verifies(signed, sha)
    with pytest.raises(SignatureError, match=r"another signature header \(gpgsig-foo\)"):
        split_signed(raw_commit(signed, sha))


def test_plain_gpgsig_in_a_sha256_repository_is_the_other_header(
    tmp_path: Path, ssh_key: tuple[Path, bytes]
) -> None:
    repo = make_repo(tmp_path / "repo", ssh_key, "sha256")
    raw = raw_commit(repo, commit(repo, "x", "-S"))
    malleated = raw.replace(b"\ngpgsig-sha256 ", b"\ngpgsig junk\ngpgsig-sha256 ", 1)
    sha = write_commit(repo, malleated)
    assert git_verifies(repo, sha)
    with pytest.raises(
        SignatureError, match=r"another signature header \(gpgsig\) beside gpgsig-sha256"
    ):
        split_signed(raw_commit(repo, sha))


def test_sha1_style_signature_in_a_sha256_repository_is_not_a_signature(
    tmp_path: Path, ssh_key: tuple[Path, bytes]
) -> None:
    repo = make_repo(tmp_path / "repo", ssh_key, "sha256")
    raw = raw_commit(repo, commit(repo, "x", "-S")).replace(b"\ngpgsig-sha256 ", b"\ngpgsig ", 1)
    with pytest.raises(
        SignatureError, match=r"^the commit is not signed \(no gpgsig-sha256 header\)$"
    ):
        split_signed(raw)


# --- refused for other reasons -----------------------------------------------------------------


def test_tampered_commit_rejected_like_git(signed: Path, ssh_key: tuple[Path, bytes]) -> None:
    sha = write_commit(signed, raw_commit(signed).replace(b"with a body", b"with a bodY"))
    assert not git_verifies(signed, sha)
    got = split_signed(raw_commit(signed, sha))
    with pytest.raises(SignatureError, match=r"^bad signature"):
        sshsig.verify(got.signature, got.payload, namespace="git", public_key=ssh_key[1])


def test_unsigned_commit_rejected(tmp_path: Path, ssh_key: tuple[Path, bytes]) -> None:
    repo = make_repo(tmp_path / "repo", ssh_key)
    raw = raw_commit(repo, commit(repo, "x", "--no-gpg-sign"))
    with pytest.raises(SignatureError, match=r"^the commit is not signed \(no gpgsig header\)$"):
        split_signed(raw)
    assert commits.author_emails(raw) == ("author@example.org", "author@example.org")


def test_unsupported_signature_format_rejected(signed: Path) -> None:
    raw = raw_commit(signed).replace(b"BEGIN SSH SIGNATURE", b"BEGIN SIGNED MESSAGE", 1)
    with pytest.raises(SignatureError, match=r"neither an SSH nor an OpenPGP signature"):
        split_signed(raw)


MALFORMED = {
    "not a commit": (b"object 1234\ntype commit\n\nmsg", "^not a commit object"),
    "short tree id": (b"tree 4b825dc6\nauthor a <a@x> 1 +0000\n\n", "^not a commit object"),
    "no committer": (
        b"tree " + b"a" * 40 + b"\nauthor A <a@x> 1 +0000\n\nmsg\n",
        "^the commit does not have exactly one author and one committer$",
    ),
    "two authors": (
        b"tree " + b"a" * 40 + b"\nauthor A <a@x> 1 +0000\nauthor B <b@x> 1 +0000\n"
        b"committer C <c@x> 1 +0000\n\nmsg\n",
        "^the commit does not have exactly one",
    ),
    "author without email": (
        b"tree " + b"a" * 40 + b"\nauthor A 1 +0000\ncommitter C <c@x> 1 +0000\n\n",
        "^the commit's author line has no <email>$",
    ),
    "email not UTF-8": (
        b"tree " + b"a" * 40 + b"\nauthor A <\xff@x> 1 +0000\ncommitter C <c@x> 1 +0000\n\n",
        "^the commit's author email is not UTF-8$",
    ),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_commit_rejected(name: str) -> None:
    raw, reason = MALFORMED[name]
    with pytest.raises(SignatureError, match=reason):
        commits.author_emails(raw)


def test_headers_in_the_message_are_not_headers() -> None:
    """Only the header block counts: a `gpgsig` or `author` line in the message is text."""
    raw = (
        b"tree " + b"a" * 40 + b"\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 1 +0000\n\n"
        b"subject\n\nauthor M <m@x> 1 +0000\ngpgsig -----BEGIN SSH SIGNATURE-----\n"
    )
    assert commits.author_emails(raw) == ("a@x", "c@x")
    with pytest.raises(SignatureError, match=r"^the commit is not signed"):
        split_signed(raw)
