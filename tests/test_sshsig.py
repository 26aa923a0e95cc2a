"""SSHSIG verification against real ssh-keygen signatures, and every way a signature is refused.

Keys come from ssh-keygen once per module. FIDO (`sk-`) signatures cannot come from a real
authenticator here, so they are built with `cryptography` private keys following
PROTOCOL.u2f, and `ssh-keygen -Y check-novalidate` confirms each built signature is one
OpenSSH itself accepts, which makes the strictness tests meaningful (signing.md §4.3).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from synthgov.errors import SignatureError
from synthgov.signing import sshsig

MESSAGE = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nan approval payload\n"
APPROVAL = "synthgov-approval"
KEY_TYPES = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa-p256": ["-t", "ecdsa", "-b", "256"],
    "ecdsa-p384": ["-t", "ecdsa", "-b", "384"],
    "ecdsa-p521": ["-t", "ecdsa", "-b", "521"],
    "rsa-3072": ["-t", "rsa", "-b", "3072"],
}


@pytest.fixture(scope="module")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real key pairs made by ssh-keygen: every supported type, plus bob, RSA-2048 and DSA."""
    directory = tmp_path_factory.mktemp("sshkeys")
    for name, args in {
        **KEY_TYPES,
        "bob": ["-t", "ed25519"],
        "rsa-2048": ["-t", "rsa", "-b", "2048"],
    }.items():
        subprocess.run(
            ["ssh-keygen", "-q", *args, "-N", "", "-C", name, "-f", str(directory / name)],
            check=True,
        )
    return directory


def blob_of(keydir: Path, name: str) -> bytes:
    """The public key blob as the registry holds it."""
    return base64.b64decode((keydir / f"{name}.pub").read_text().split()[1])


def keygen_sign(key: Path, message: bytes = MESSAGE, namespace: str = "git", *opts: str) -> str:
    """A signature made by ssh-keygen itself, without synthgov's acceptance check."""
    done = subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-n", namespace, *opts, "-f", str(key)],
        input=message,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()


def keygen_accepts(tmp_path: Path, armored: str, namespace: str, message: bytes = MESSAGE) -> bool:
    """Whether `ssh-keygen -Y check-novalidate` calls the signature good (no principals)."""
    (tmp_path / "sig").write_text(armored)
    done = subprocess.run(
        ["ssh-keygen", "-Y", "check-novalidate", "-n", namespace, "-s", str(tmp_path / "sig")],
        input=message,
        capture_output=True,
    )
    return done.returncode == 0


# --- building blobs by hand, for edits and for FIDO signatures ---------------------------


def string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def mpint(value: int) -> bytes:
    return string(value.to_bytes((value.bit_length() + 8) // 8, "big") if value else b"")


def dearmour(armored: str) -> bytes:
    return base64.b64decode("".join(armored.strip().splitlines()[1:-1]))


def armour(blob: bytes) -> str:
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return (
        "\n".join(["-----BEGIN SSH SIGNATURE-----", *lines, "-----END SSH SIGNATURE-----"]) + "\n"
    )


def fields(blob: bytes) -> list[bytes]:
    """[magic, version, public key, namespace, reserved, hash, signature] of an SSHSIG blob."""
    out, pos = [blob[:6], blob[6:10]], 10
    while pos < len(blob):
        size = int.from_bytes(blob[pos : pos + 4], "big")
        out.append(blob[pos + 4 : pos + 4 + size])
        pos += 4 + size
    return out


def assemble(parts: list[bytes]) -> bytes:
    return parts[0] + parts[1] + b"".join(string(p) for p in parts[2:])


def edit(armored: str, index: int, value: bytes) -> str:
    """The signature with one top-level field replaced, re-armoured canonically."""
    parts = fields(dearmour(armored))
    parts[index] = value
    return armour(assemble(parts))


def signed_data(namespace: str, message: bytes, hash_name: str = "sha512") -> bytes:
    digest = hashlib.new(hash_name, message).digest()
    return (
        b"SSHSIG"
        + string(namespace.encode())
        + string(b"")
        + string(hash_name.encode())
        + string(digest)
    )


def build(key_blob: bytes, signature: bytes, namespace: str, hash_name: str = "sha512") -> str:
    return armour(
        b"SSHSIG"
        + (1).to_bytes(4, "big")
        + string(key_blob)
        + string(namespace.encode())
        + string(b"")
        + string(hash_name.encode())
        + string(signature)
    )


def fido_signature(kind: str, flags: int, message: bytes = MESSAGE) -> tuple[str, bytes]:
    """(armoured signature, key blob) of a FIDO key per PROTOCOL.u2f, made in process."""
    application, counter = b"ssh:", 7
    data = signed_data(APPROVAL, message)
    signed = (
        hashlib.sha256(application).digest()
        + bytes([flags])
        + counter.to_bytes(4, "big")
        + hashlib.sha256(data).digest()
    )
    tail = bytes([flags]) + counter.to_bytes(4, "big")
    if kind == "ed25519":
        algorithm = b"sk-ssh-ed25519@openssh.com"
        private = ed25519.Ed25519PrivateKey.generate()
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        key_blob = string(algorithm) + string(raw) + string(application)
        inner = string(private.sign(signed))
    else:
        algorithm = b"sk-ecdsa-sha2-nistp256@openssh.com"
        ecdsa = ec.generate_private_key(ec.SECP256R1())
        point = ecdsa.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        key_blob = string(algorithm) + string(b"nistp256") + string(point) + string(application)
        r, s = decode_dss_signature(ecdsa.sign(signed, ec.ECDSA(hashes.SHA256())))
        inner = string(mpint(r) + mpint(s))
    return build(key_blob, string(algorithm) + inner + tail, APPROVAL), key_blob


# --- signatures made by ssh-keygen verify -------------------------------------------------


@pytest.mark.parametrize("name", KEY_TYPES)
def test_ssh_keygen_signature_verifies(keydir: Path, name: str) -> None:
    armored = sshsig.sign_with_ssh_keygen(keydir / name, MESSAGE, APPROVAL)
    got = sshsig.verify(armored, MESSAGE, namespace=APPROVAL, public_key=blob_of(keydir, name))
    assert (got.public_key, got.namespace, got.hash_algorithm) == (
        blob_of(keydir, name),
        APPROVAL,
        "sha512",
    )
    assert got == sshsig.parse(armored)


@pytest.mark.parametrize("name", KEY_TYPES)
def test_tampered_message_rejected(keydir: Path, name: str) -> None:
    armored = keygen_sign(keydir / name)
    with pytest.raises(SignatureError, match=r"^bad signature: it does not match"):
        sshsig.verify(armored, MESSAGE + b" ", namespace="git", public_key=blob_of(keydir, name))


def test_sha256_message_hash_verifies(keydir: Path) -> None:
    armored = keygen_sign(keydir / "ed25519", MESSAGE, "git", "-O", "hashalg=sha256")
    got = sshsig.verify(armored, MESSAGE, namespace="git", public_key=blob_of(keydir, "ed25519"))
    assert got.hash_algorithm == "sha256"


def test_signature_without_a_final_newline_verifies(keydir: Path) -> None:
    armored = keygen_sign(keydir / "ed25519").rstrip("\n").encode()
    sshsig.verify(armored, MESSAGE, namespace="git", public_key=blob_of(keydir, "ed25519"))


def _rsa_signature(keydir: Path, message: bytes, algorithm: str) -> str:
    private = serialization.load_ssh_private_key((keydir / "rsa-3072").read_bytes(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    digest = {"rsa-sha2-256": hashes.SHA256(), "rsa-sha2-512": hashes.SHA512()}[algorithm]
    raw = private.sign(signed_data("git", message), padding.PKCS1v15(), digest)
    return build(blob_of(keydir, "rsa-3072"), string(algorithm.encode()) + string(raw), "git")


def test_rsa_sha2_256_signature_verifies_as_in_openssh(keydir: Path, tmp_path: Path) -> None:
    armored = _rsa_signature(keydir, MESSAGE, "rsa-sha2-256")
    assert keygen_accepts(tmp_path, armored, "git")
    sshsig.verify(armored, MESSAGE, namespace="git", public_key=blob_of(keydir, "rsa-3072"))


def test_rsa_signature_with_leading_zero_stripped_verifies_as_in_openssh(
    keydir: Path, tmp_path: Path
) -> None:
    """OpenSSH left-pads an RSA signature shorter than the modulus; so do we."""
    private = serialization.load_ssh_private_key((keydir / "rsa-3072").read_bytes(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    for n in range(5000):  # about 1 in 256 PKCS#1 signatures starts with a zero byte
        message = b"%d" % n
        raw = private.sign(signed_data("git", message), padding.PKCS1v15(), hashes.SHA512())
        if raw[0] == 0:
            break
    assert raw[0] == 0
    short = build(blob_of(keydir, "rsa-3072"), string(b"rsa-sha2-512") + string(raw[1:]), "git")
    assert keygen_accepts(tmp_path, short, "git", message)
    sshsig.verify(short, message, namespace="git", public_key=blob_of(keydir, "rsa-3072"))
    long = build(blob_of(keydir, "rsa-3072"), string(b"rsa-sha2-512") + string(b"\0" + raw), "git")
    with pytest.raises(SignatureError, match="longer than the key's modulus"):
        sshsig.verify(long, message, namespace="git", public_key=blob_of(keydir, "rsa-3072"))


# --- identity and domain separation -------------------------------------------------------


@pytest.mark.parametrize(("signed_as", "checked_as"), [("git", APPROVAL), (APPROVAL, "git")])
def test_wrong_namespace_rejected(keydir: Path, signed_as: str, checked_as: str) -> None:
    armored = keygen_sign(keydir / "ed25519", MESSAGE, signed_as)
    with pytest.raises(SignatureError) as caught:
        sshsig.verify(armored, MESSAGE, namespace=checked_as, public_key=blob_of(keydir, "ed25519"))
    assert (
        str(caught.value) == f"the signature's namespace is {signed_as!r}, expected {checked_as!r}"
    )


def test_signature_by_another_key_rejected(keydir: Path) -> None:
    armored = keygen_sign(keydir / "bob")
    with pytest.raises(
        SignatureError, match=r"^the signature names key SHA256:\S+, not the registered key SHA256:"
    ):
        sshsig.verify(armored, MESSAGE, namespace="git", public_key=blob_of(keydir, "ed25519"))


def test_swapped_embedded_key_rejected(keydir: Path) -> None:
    """Alice's signature relabelled with Bob's key: neither Bob's nor Alice's key accepts it."""
    swapped = edit(keygen_sign(keydir / "ed25519"), 2, blob_of(keydir, "bob"))
    with pytest.raises(SignatureError, match=r"^bad signature"):
        sshsig.verify(swapped, MESSAGE, namespace="git", public_key=blob_of(keydir, "bob"))
    with pytest.raises(SignatureError, match="not the registered key"):
        sshsig.verify(swapped, MESSAGE, namespace="git", public_key=blob_of(keydir, "ed25519"))


# --- downgrades ---------------------------------------------------------------------------


def test_ssh_rsa_sha1_signature_algorithm_rejected(keydir: Path) -> None:
    armored = keygen_sign(keydir / "rsa-3072")
    inner = fields(dearmour(armored))[6]
    sha1 = string(b"ssh-rsa") + inner[4 + len(b"rsa-sha2-512") :]
    with pytest.raises(
        SignatureError, match=r"^RSA signatures with SHA-1 \(ssh-rsa\) are not accepted$"
    ):
        sshsig.parse(edit(armored, 6, sha1))


def test_rsa_2048_key_rejected(keydir: Path) -> None:
    armored = keygen_sign(keydir / "rsa-2048")
    with pytest.raises(
        SignatureError, match=r"^embedded key: RSA keys need at least 3072 bits, got 2048$"
    ):
        sshsig.verify(armored, MESSAGE, namespace="git", public_key=blob_of(keydir, "rsa-2048"))
    with pytest.raises(SignatureError, match="synthgov does not accept: embedded key: RSA keys"):
        sshsig.sign_with_ssh_keygen(keydir / "rsa-2048", MESSAGE, "git")


def test_certificate_rejected(keydir: Path, tmp_path: Path) -> None:
    ca = tmp_path / "ca"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ca)], check=True)
    (tmp_path / "alice.pub").write_bytes((keydir / "ed25519.pub").read_bytes())
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-s",
            str(ca),
            "-I",
            "alice",
            "-n",
            "alice",
            str(tmp_path / "alice.pub"),
        ],
        check=True,
    )
    certificate = base64.b64decode((tmp_path / "alice-cert.pub").read_text().split()[1])
    armored = edit(keygen_sign(keydir / "ed25519"), 2, certificate)
    with pytest.raises(SignatureError, match=r"^certificates are not supported"):
        sshsig.parse(armored)


# --- FIDO keys: user presence is required ---------------------------------------------------


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa"])
@pytest.mark.parametrize("flags", [0x01, 0x05])
def test_fido_signature_with_user_presence_verifies(tmp_path: Path, kind: str, flags: int) -> None:
    armored, key_blob = fido_signature(kind, flags)
    assert keygen_accepts(tmp_path, armored, APPROVAL)  # the blob is what OpenSSH expects
    sshsig.verify(armored, MESSAGE, namespace=APPROVAL, public_key=key_blob)
    with pytest.raises(SignatureError, match=r"^bad signature"):
        sshsig.verify(armored, MESSAGE + b"x", namespace=APPROVAL, public_key=key_blob)


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa"])
def test_fido_signature_without_user_presence_rejected(tmp_path: Path, kind: str) -> None:
    """ssh-keygen calls it good; synthgov does not (signing.md §4.3, attack 25)."""
    armored, key_blob = fido_signature(kind, 0x00)
    assert keygen_accepts(tmp_path, armored, APPROVAL)
    with pytest.raises(
        SignatureError, match=r"^the FIDO signature lacks the user-presence flag \(flags 0x00\)$"
    ):
        sshsig.verify(armored, MESSAGE, namespace=APPROVAL, public_key=key_blob)


# --- malformed signatures, each with its reason --------------------------------------------

Edit = Callable[[str], "str | bytes"]
_DSA_KEY = string(b"ssh-dss") + mpint(23) + mpint(11) + mpint(4) + mpint(8)


def _line_inserted(armored: str, index: int, line: str) -> str:
    lines = armored.split("\n")
    return "\n".join([*lines[:index], line, *lines[index:]])


def _flip_padding_bits(armored: str) -> str:
    text = "".join(armored.strip().splitlines()[1:-1])
    body = text.rstrip("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet[alphabet.index(body[-1]) ^ 1]  # a bit that decoding throws away
    return "\n".join(
        [
            "-----BEGIN SSH SIGNATURE-----",
            body[:-1] + last + text[len(body) :],
            "-----END SSH SIGNATURE-----",
        ]
    )


MALFORMED: dict[str, tuple[Edit, str]] = {
    "trailing bytes in the blob": (
        lambda a: armour(dearmour(a) + b"\0"),
        "^unexpected trailing bytes after the signature$",
    ),
    "text after the armour": (
        lambda a: a + "trailing text\n",
        "^expected one '-----BEGIN SSH SIGNATURE-----' block",
    ),
    "text before the armour": (
        lambda a: "hello\n" + a,
        "^expected one '-----BEGIN SSH SIGNATURE-----' block",
    ),
    "second armour block": (lambda a: a + a, "^the signature holds more than one armour block$"),
    "two trailing newlines": (lambda a: a + "\n", "^expected one"),
    "CRLF line ends": (lambda a: a.replace("\n", "\r\n"), "^expected one"),
    "bad base64 character": (
        lambda a: a.replace("U1NI", "U1N*", 1),
        "^the signature is not valid base64$",
    ),
    "empty line inside": (
        lambda a: _line_inserted(a, 2, ""),
        "^the signature is not valid base64$",
    ),
    "missing padding": (lambda a: a.replace("=", ""), "^the signature is not valid base64$"),
    "non-canonical padding bits": (_flip_padding_bits, "^the signature's base64 is not canonical$"),
    "non-ASCII text": (
        lambda a: a.replace("BEGIN", "BEGİN"),
        "^the signature holds non-ASCII characters$",
    ),
    "larger than 64 KiB": (lambda a: a + "A" * 70_000, "^the signature is larger than 64 KiB$"),
    "truncated blob": (lambda a: armour(dearmour(a)[:-10]), "^truncated signature$"),
    "bad magic": (lambda a: edit(a, 0, b"SSHSIH"), r"^not an SSH signature \(no SSHSIG magic\)$"),
    "version 2": (
        lambda a: edit(a, 1, (2).to_bytes(4, "big")),
        r"^SSHSIG version 2 is not supported \(only 1\)$",
    ),
    "sha1 hash": (
        lambda a: edit(a, 5, b"sha1"),
        r"^hash algorithm 'sha1' is not accepted \(sha256 or sha512\)$",
    ),
    "empty namespace": (lambda a: edit(a, 3, b""), "^the signature's namespace is empty$"),
    "non-UTF-8 namespace": (
        lambda a: edit(a, 3, b"\xff"),
        "^the signature's namespace is not UTF-8$",
    ),
    "reserved field used": (
        lambda a: edit(a, 4, b"x"),
        "^the signature's reserved field is not empty$",
    ),
    "DSA key": (lambda a: edit(a, 2, _DSA_KEY), "^DSA keys are not accepted$"),
    "unknown key type": (
        lambda a: edit(a, 2, string(b"ssh-xmss@openssh.com") + string(b"k")),
        "^unsupported key type 'ssh-xmss@openssh.com'$",
    ),
    "RSA exponent above the modulus": (
        lambda a: edit(a, 2, string(b"ssh-rsa") + mpint(2**3071 + 3) + mpint(2**3071 + 1)),
        "^embedded key: invalid ssh-rsa key$",
    ),
    "key with trailing bytes": (
        lambda a: edit(a, 2, fields(dearmour(a))[2] + b"\0"),
        "^embedded key: unexpected trailing bytes in key$",
    ),
    "signature algorithm not the key's": (
        lambda a: edit(a, 6, string(b"ssh-rsa") + string(b"\0" * 64)),
        "^signature algorithm 'ssh-rsa' does not match the key type ssh-ed25519$",
    ),
    "short ed25519 signature": (
        lambda a: edit(a, 6, string(b"ssh-ed25519") + string(b"\0" * 63)),
        "^an ed25519 signature is 64 bytes$",
    ),
    "trailing bytes in the signature blob": (
        lambda a: edit(a, 6, fields(dearmour(a))[6] + b"\0"),
        "^unexpected trailing bytes after the signature blob$",
    ),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_signature_rejected(keydir: Path, name: str) -> None:
    change, reason = MALFORMED[name]
    armored = change(keygen_sign(keydir / "ed25519"))
    with pytest.raises(SignatureError, match=reason) as caught:
        sshsig.verify(armored, MESSAGE, namespace="git", public_key=blob_of(keydir, "ed25519"))
    assert "\n" not in str(caught.value)


def test_ecdsa_signature_with_non_minimal_integer_rejected(keydir: Path) -> None:
    armored = keygen_sign(keydir / "ecdsa-p256")
    inner = fields(dearmour(armored))[6]
    algorithm = string(b"ecdsa-sha2-nistp256")
    point = inner[len(algorithm) + 4 :]
    r_size = int.from_bytes(point[:4], "big")
    r, rest = point[4 : 4 + r_size], point[4 + r_size :]
    padded = string(algorithm[4:]) + string(string(b"\0\0" + r.lstrip(b"\0")) + rest)
    with pytest.raises(SignatureError, match=r"^malformed integer in the ECDSA signature$"):
        sshsig.parse(edit(armored, 6, padded))


@pytest.fixture(scope="module")
def ed25519_signature(keydir: Path) -> tuple[bytes, bytes]:
    """(armoured signature, key blob), made once for the property test."""
    return keygen_sign(keydir / "ed25519").encode(), blob_of(keydir, "ed25519")


@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
@settings(max_examples=300, deadline=None)
def test_any_changed_byte_is_refused_or_harmless(
    ed25519_signature: tuple[bytes, bytes], position: int, value: int
) -> None:
    """Whatever byte of the armour changes, the answer is the same signature or SignatureError."""
    original, key = ed25519_signature
    position %= len(original)
    changed = original[:position] + bytes([value]) + original[position + 1 :]
    try:
        got = sshsig.verify(changed, MESSAGE, namespace="git", public_key=key)
    except SignatureError as exc:
        assert "\n" not in str(exc)
    else:  # only a change that leaves the bytes as they were can pass
        assert changed == original
        assert got == sshsig.parse(original)


# --- the signing adapter --------------------------------------------------------------------


def test_sign_reports_ssh_keygens_reason(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(SignatureError) as caught:
        sshsig.sign_with_ssh_keygen(missing, MESSAGE, APPROVAL)
    assert re.fullmatch(
        rf"ssh-keygen could not sign with {re.escape(str(missing))}: Couldn't load .*",
        str(caught.value),
    )


def test_a_public_key_given_to_sign_says_to_pass_the_private_one(
    keydir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `.pub` without its private half in ssh-agent, or a public key under another name,
    names the mistake rather than ssh-keygen's "Couldn't get agent socket"."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(SignatureError, match=r"pass the private key \(the same path without"):
        sshsig.sign_with_ssh_keygen(keydir / "ed25519.pub", MESSAGE, APPROVAL)
    renamed = tmp_path / "ed25519-key"
    renamed.write_bytes((keydir / "ed25519.pub").read_bytes())
    renamed.chmod(0o600)
    with pytest.raises(SignatureError) as caught:
        sshsig.sign_with_ssh_keygen(renamed, MESSAGE, APPROVAL)
    assert (
        str(caught.value) == f"{renamed} holds a public key; pass the private key file to sign with"
    )


def test_sign_with_public_key_uses_ssh_agent(
    keydir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's `.pub` convention: the private half lives in ssh-agent (ssh-keygen -U)."""
    public = keydir / "ed25519.pub"
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(SignatureError, match=r"cannot sign with the public key .*agent.*\): pass"):
        sshsig.sign_with_ssh_keygen(public, MESSAGE, APPROVAL)
    socket = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if socket.exists():
                break
            time.sleep(0.02)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))
        subprocess.run(["ssh-add", "-q", str(keydir / "ed25519")], check=True, capture_output=True)
        armored = sshsig.sign_with_ssh_keygen(public, MESSAGE, APPROVAL)
    finally:
        os.kill(agent.pid, signal.SIGTERM)
        agent.wait()
    sshsig.verify(armored, MESSAGE, namespace=APPROVAL, public_key=blob_of(keydir, "ed25519"))
