"""SSH signatures (OpenSSH `PROTOCOL.sshsig`): strict parsing and verification in process.

A signature counts only when it is one canonical armour block of an SSHSIG version 1 blob,
under exactly the expected namespace, made by exactly the registered key blob (signing.md
§2, §4.1, attacks 24–26). Stricter than `ssh-keygen -Y verify` where that matters (§4.3):
a FIDO (`sk-`) signature needs the user-presence flag, RSA needs 3072 bits and SHA-2, and
certificates are refused, since their CA, validity and principals would be a second trust
root beside the registry. Key validity in time is the caller's business: SSHSIG carries
no timestamp. Everything here is pure except `sign_with_ssh_keygen` at the bottom, the
subprocess adapter `synthgov approve` signs with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from synthgov.errors import SignatureError, UnusableKeyError, printable
from synthgov.signing import keys

MAGIC = b"SSHSIG"
VERSION = 1
MAX_ARMOUR_BYTES = 64 * 1024  # an RSA-16384 signature is about 3 KiB of armour
_BEGIN = b"-----BEGIN SSH SIGNATURE-----"
_END = b"-----END SSH SIGNATURE-----"
HASH_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
#: The hash of each curve and RSA algorithm, by its name in `cryptography.hazmat.primitives.
#: hashes` (cryptography is imported when a signature is verified, not with the gate).
_CURVE_HASHES: dict[str, str] = {"nistp256": "SHA256", "nistp384": "SHA384", "nistp521": "SHA512"}
_RSA_HASHES: dict[str, str] = {"rsa-sha2-256": "SHA256", "rsa-sha2-512": "SHA512"}
USER_PRESENT = 0x01  # PROTOCOL.u2f: the authenticator saw a touch


@dataclass(frozen=True)
class SshSignature:
    public_key: bytes  # the embedded key blob (RFC 4253 wire form, sk- incl. application)
    namespace: str
    hash_algorithm: str  # "sha256" | "sha512"
    signature: bytes  # the inner signature blob (string alg, string sig[, flags, counter])


@dataclass(frozen=True)
class _Parsed:
    """A parsed signature with what verification needs: the key object and the raw signature."""

    sshsig: SshSignature
    key_type: str
    key: Any  # a cryptography public key
    application: bytes  # sk- keys only
    algorithm: str  # the inner signature's algorithm name
    raw: bytes  # ed25519: 64 bytes; ECDSA: DER; RSA: left-padded to the modulus length
    flags: int
    counter: int


class _Reader:
    """RFC 4251 wire format with bounds checks and no trailing bytes (as keys._Reader)."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise SignatureError(f"truncated {self.what}")
        start, self.pos = self.pos, self.pos + size
        return self.data[start : self.pos]

    def uint32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def byte(self) -> int:
        return self.take(1)[0]

    def string(self) -> bytes:
        return self.take(self.uint32())

    def text(self) -> str:
        return self.string().decode("ascii", "replace")

    def mpint(self) -> int:
        raw = self.string()
        if raw and (raw[0] & 0x80 or (raw[0] == 0 and (len(raw) == 1 or not raw[1] & 0x80))):
            raise SignatureError(f"malformed integer in the {self.what}")
        return int.from_bytes(raw, "big")

    def end(self) -> None:
        if self.pos != len(self.data):
            raise SignatureError(f"unexpected trailing bytes after the {self.what}")


def _string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def armour_body(armored: str | bytes, begin: bytes, end: bytes, min_lines: int) -> list[bytes]:
    """The lines between `begin` and `end` of exactly one ASCII armour block, with nothing
    before or after it (one final newline allowed): the framing SSH and OpenPGP share.

    Raises:
        SignatureError: not ASCII, over MAX_ARMOUR_BYTES, several blocks, or other framing.
    """
    if isinstance(armored, str):
        try:
            data = armored.encode("ascii")
        except UnicodeEncodeError:
            raise SignatureError("the signature holds non-ASCII characters") from None
    else:
        data = bytes(armored)
    if len(data) > MAX_ARMOUR_BYTES:
        raise SignatureError(f"the signature is larger than {MAX_ARMOUR_BYTES // 1024} KiB")
    if data.count(b"-----BEGIN ") > 1 or data.count(b"-----END ") > 1:
        raise SignatureError("the signature holds more than one armour block")
    lines = (data[:-1] if data.endswith(b"\n") else data).split(b"\n")
    if len(lines) < min_lines or lines[0] != begin or lines[-1] != end:
        raise SignatureError(
            f"expected one '{begin.decode()}' block and nothing before or after it"
        )
    return lines[1:-1]


def _dearmour(armored: str | bytes) -> bytes:
    """The blob of exactly one armour block in canonical base64 (one final newline allowed)."""
    body = armour_body(armored, _BEGIN, _END, 3)
    joined = b"".join(body)
    try:
        if not all(body):
            raise binascii.Error("empty line")
        blob = base64.b64decode(joined, validate=True)
    except binascii.Error:
        raise SignatureError("the signature is not valid base64") from None
    if base64.b64encode(blob) != joined:
        raise SignatureError("the signature's base64 is not canonical")
    return blob


@lru_cache(maxsize=256)
def _public_key(blob: bytes) -> tuple[str, Any, bytes]:
    """(key type, cryptography key, FIDO application) of an embedded key blob; remembered
    by blob (the keys are immutable): an audit verifies the same few keys thousands of
    times."""
    reader = _Reader(blob, "embedded key")
    key_type = reader.text()
    if key_type.endswith("-cert-v01@openssh.com"):
        raise SignatureError("certificates are not supported; sign with the registered plain key")
    if key_type == "ssh-dss":
        raise SignatureError("DSA keys are not accepted")
    if key_type not in keys.SSH_KEY_TYPES:
        raise SignatureError(f"unsupported key type {printable(key_type)!r}")
    try:  # the registry's own acceptance rules: curves, points, RSA size, trailing bytes
        keys.parse_ssh_public_key(f"{key_type} {base64.b64encode(blob).decode()}")
    except UnusableKeyError as exc:
        raise SignatureError(f"embedded key: {exc}") from None
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key: Any
    try:
        if key_type in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
            key = ed25519.Ed25519PublicKey.from_public_bytes(reader.string())
        elif key_type == "ssh-rsa":
            exponent, modulus = reader.mpint(), reader.mpint()
            key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        else:
            key = ec.EllipticCurvePublicKey.from_encoded_point(
                keys.ssh_curve(reader.text()), reader.string()
            )
    except ValueError as exc:  # e.g. an RSA exponent not below the modulus (not the reader's)
        raise SignatureError(f"embedded key: invalid {key_type} key") from exc
    application = reader.string() if key_type.startswith("sk-") else b""
    return key_type, key, application


@lru_cache(maxsize=256)
def _parse(armored: str | bytes) -> _Parsed:
    """Remembered by the armoured text (the result is frozen): a signature is parsed to
    identify its signer and again to verify it."""
    reader = _Reader(_dearmour(armored), "signature")
    if reader.take(len(MAGIC)) != MAGIC:
        raise SignatureError("not an SSH signature (no SSHSIG magic)")
    version = reader.uint32()
    if version != VERSION:
        raise SignatureError(f"SSHSIG version {version} is not supported (only {VERSION})")
    public_key, namespace_raw, reserved = reader.string(), reader.string(), reader.string()
    hash_algorithm, signature = reader.text(), reader.string()
    reader.end()
    try:
        namespace = namespace_raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("the signature's namespace is not UTF-8") from None
    if not namespace:
        raise SignatureError("the signature's namespace is empty")
    if reserved:
        raise SignatureError("the signature's reserved field is not empty")
    if hash_algorithm not in HASH_ALGORITHMS:
        raise SignatureError(
            f"hash algorithm {printable(hash_algorithm)!r} is not accepted (sha256 or sha512)"
        )
    key_type, key, application = _public_key(public_key)

    inner = _Reader(signature, "signature blob")
    algorithm = inner.text()
    if key_type == "ssh-rsa":
        if algorithm == "ssh-rsa":
            raise SignatureError("RSA signatures with SHA-1 (ssh-rsa) are not accepted")
        if algorithm not in _RSA_HASHES:
            raise SignatureError(f"signature algorithm {printable(algorithm)!r} for an RSA key")
        size = (key.key_size + 7) // 8
        raw = inner.string()
        if len(raw) > size:  # OpenSSH pads a short one, never truncates a long one
            raise SignatureError("the RSA signature is longer than the key's modulus")
        raw = raw.rjust(size, b"\0")
    elif algorithm != key_type:
        raise SignatureError(
            f"signature algorithm {printable(algorithm)!r} does not match the key type {key_type}"
        )
    elif "ed25519" in key_type:
        raw = inner.string()
        if len(raw) != 64:
            raise SignatureError("an ed25519 signature is 64 bytes")
    else:
        point = _Reader(inner.string(), "ECDSA signature")
        r, s = point.mpint(), point.mpint()
        point.end()
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

        raw = encode_dss_signature(r, s)
    flags = counter = 0
    if key_type.startswith("sk-"):
        flags, counter = inner.byte(), inner.uint32()
    inner.end()
    if key_type.startswith("sk-") and not flags & USER_PRESENT:
        raise SignatureError(
            f"the FIDO signature lacks the user-presence flag (flags 0x{flags:02x})"
        )
    sshsig = SshSignature(public_key, namespace, hash_algorithm, signature)
    return _Parsed(sshsig, key_type, key, application, algorithm, raw, flags, counter)


def parse(armored: str | bytes) -> SshSignature:
    """Dearmour and parse a signature strictly, without verifying it (§4.1 steps 1–2).

    Raises:
        SignatureError: not one canonical armour block, malformed or trailing bytes, version
            other than 1, empty namespace, non-empty reserved field, a hash other than
            sha256/sha512, a key or signature algorithm synthgov does not accept.
    """
    return _parse(armored).sshsig


def verify(
    armored: str | bytes, message: bytes, *, namespace: str, public_key: bytes
) -> SshSignature:
    """Verify `armored` over `message` with exactly `public_key` (a key blob from the registry).

    Raises:
        SignatureError: malformed, trailing bytes, second armour block, non-canonical base64,
            version != 1, wrong namespace, embedded key != public_key (byte for byte),
            unsupported/forbidden algorithm (ssh-rsa SHA-1 sig alg, DSA, sha1 hash), RSA
            modulus < 3072 bits, sk- signature without the user-presence flag (0x01), bad
            signature.
    """
    parsed = _parse(armored)
    sshsig = parsed.sshsig
    # (1) domain separation: a `git` signature is never an approval, and vice versa
    if sshsig.namespace != namespace:
        raise SignatureError(
            f"the signature's namespace is {printable(sshsig.namespace)!r}, expected {namespace!r}"
        )
    # (2) identity: the registered key, byte for byte, and only that key verifies
    if sshsig.public_key != public_key:
        raise SignatureError(
            f"the signature names key {keys.ssh_fingerprint(sshsig.public_key)}, "
            f"not the registered key {keys.ssh_fingerprint(public_key)}"
        )
    # (3) the signed data of PROTOCOL.sshsig, then the key type's own check
    digest = HASH_ALGORITHMS[sshsig.hash_algorithm](message).digest()
    signed = (
        MAGIC
        + _string(namespace.encode())
        + _string(b"")
        + _string(sshsig.hash_algorithm.encode())
        + _string(digest)
    )
    if parsed.key_type.startswith("sk-"):  # PROTOCOL.u2f: what the authenticator signed
        signed = (
            hashlib.sha256(parsed.application).digest()
            + bytes([parsed.flags])
            + parsed.counter.to_bytes(4, "big")
            + hashlib.sha256(signed).digest()
        )
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    key = parsed.key
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(parsed.raw, signed)
        elif isinstance(key, rsa.RSAPublicKey):
            digest = getattr(hashes, _RSA_HASHES[parsed.algorithm])()
            key.verify(parsed.raw, signed, padding.PKCS1v15(), digest)
        else:
            curve = "nistp256" if parsed.key_type.startswith("sk-") else parsed.key_type[-8:]
            key.verify(parsed.raw, signed, ec.ECDSA(getattr(hashes, _CURVE_HASHES[curve])()))
    except InvalidSignature:
        raise SignatureError("bad signature: it does not match the signed message") from None
    return sshsig


# --- adapter: signing with the user's key through ssh-keygen ---------------------------


def _is_public_key_file(path: Path) -> bool:
    """Whether `path` holds an SSH public key line (`ssh-ed25519 AAAA…`)."""
    try:
        with path.open("rb") as file:
            head = file.read(64)
    except OSError:
        return False
    return head.startswith((b"ssh-", b"ecdsa-sha2-", b"sk-ssh-", b"sk-ecdsa-"))


def sign_with_ssh_keygen(key_file: Path, message: bytes, namespace: str) -> str:
    """Armoured SSHSIG by `ssh-keygen -Y sign -n NAMESPACE -f KEY_FILE` over stdin.

    key_file may be a private key, or a public key whose private half is in ssh-agent
    (git's `key::`/`.pub` convention: -U when key_file ends with .pub). A passphrase is
    asked on the terminal by ssh-keygen itself.

    Raises:
        SignatureError: ssh-keygen's first stderr line when it fails, or the reason
            synthgov would not accept the signature it made (a DSA or small RSA key).
    """
    agent = ["-U"] if key_file.name.endswith(".pub") else []
    command = ["ssh-keygen", "-Y", "sign", "-n", namespace, *agent, "-f", str(key_file)]
    try:
        done = subprocess.run(command, input=message, capture_output=True, check=False)
    except OSError as exc:
        raise SignatureError(f"cannot run ssh-keygen: {exc.strerror or exc}") from None
    if done.returncode != 0:
        lines = [  # ssh-keygen frames its warnings in lines of '@'
            line.strip().strip("@").strip()
            for line in done.stderr.decode("utf-8", "replace").splitlines()
            if line.strip().strip("@") and not line.startswith("Signing ")
        ]
        reason = printable(lines[0] if lines else f"exit status {done.returncode}")
        if agent:
            raise SignatureError(
                f"cannot sign with the public key {key_file} ({reason}): pass the private key "
                "(the same path without .pub), or add it to ssh-agent"
            )
        if _is_public_key_file(key_file):
            raise SignatureError(
                f"{key_file} holds a public key; pass the private key file to sign with"
            )
        raise SignatureError(f"ssh-keygen could not sign with {key_file}: {reason}")
    armored = done.stdout.decode("ascii", "replace")
    try:
        parse(armored)
    except SignatureError as exc:
        raise SignatureError(
            f"ssh-keygen made a signature synthgov does not accept: {exc}"
        ) from None
    return armored
