"""Public keys of reviewers: strict parsing and fingerprints, in process, bytes in.

SSH keys (`ssh-ed25519 AAAA… comment`) are parsed with a bounds-checked reader and
their points or moduli checked with `cryptography`; the fingerprint is what
`ssh-keygen -l` and git's `%GK` print. OpenPGP keys are read from their ASCII armour far
enough to compute the primary key's fingerprint (v4: SHA-1, v6: SHA-256, RFC 9580 §5.5.4).
Weak algorithms are refused: DSA, RSA under 3072 bits (signing.md attack 24).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from synthgov.errors import UnusableKeyError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

MIN_RSA_BITS = 3072

#: SSH curve name -> its class in `cryptography.hazmat.primitives.asymmetric.ec`.
SSH_CURVES = {"nistp256": "SECP256R1", "nistp384": "SECP384R1", "nistp521": "SECP521R1"}
SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


@dataclass(frozen=True)
class PublicKey:
    type: str  # "ssh" or "openpgp"
    algorithm: str
    fingerprint: str
    blob: bytes  # SSH: the key blob; OpenPGP: the primary key packet body


class _Reader:
    """RFC 4251 wire format with bounds checks and no trailing bytes."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def string(self) -> bytes:
        if self.pos + 4 > len(self.data):
            raise UnusableKeyError("truncated key")
        size = int.from_bytes(self.data[self.pos : self.pos + 4], "big")
        start, self.pos = self.pos + 4, self.pos + 4 + size
        if self.pos > len(self.data):
            raise UnusableKeyError("truncated key")
        return self.data[start : self.pos]

    def mpint(self) -> int:
        raw = self.string()
        if raw and (raw[0] & 0x80 or (raw[0] == 0 and len(raw) > 1 and not raw[1] & 0x80)):
            raise UnusableKeyError("malformed integer in key")
        return int.from_bytes(raw, "big")

    def end(self) -> None:
        if self.pos != len(self.data):
            raise UnusableKeyError("unexpected trailing bytes in key")


def ssh_fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def ssh_curve(name: str) -> ec.EllipticCurve:
    """The curve of an SSH curve name of `SSH_CURVES`; cryptography is imported here, when
    a key is checked or a signature verified, so that a gate without them starts faster.

    Raises:
        KeyError: not a curve of `SSH_CURVES`.
    """
    from cryptography.hazmat.primitives.asymmetric import ec

    curve: ec.EllipticCurve = getattr(ec, SSH_CURVES[name])()
    return curve


def parse_ssh_public_key(text: str) -> PublicKey:
    """Parse one `authorized_keys`-style line (`type base64 [comment]`).

    Raises:
        UnusableKeyError: unknown or weak algorithm, malformed encoding, invalid point.
    """
    fields = text.strip().split()
    if len(fields) < 2:
        raise UnusableKeyError("expected an SSH public key line: '<type> <base64> [comment]'")
    if any(not c.isprintable() for c in text.strip()):
        raise UnusableKeyError("the key line holds control or invisible characters")
    algorithm, body = fields[0], fields[1]
    if algorithm == "ssh-dss":
        raise UnusableKeyError("DSA keys are not accepted; use ed25519")
    if algorithm not in SSH_KEY_TYPES:
        raise UnusableKeyError(f"unsupported SSH key type {algorithm!r}")
    try:
        blob = base64.b64decode(body, validate=True)
    except binascii.Error:
        raise UnusableKeyError("the key is not valid base64") from None
    reader = _Reader(blob)
    if reader.string() != algorithm.encode():
        raise UnusableKeyError("the key's type does not match its encoded type")
    if algorithm in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        if len(reader.string()) != 32:
            raise UnusableKeyError("an ed25519 key is 32 bytes")
    elif "ecdsa" in algorithm:
        curve_name = reader.string().decode("ascii", "replace")
        if not algorithm.startswith("sk-") and algorithm != f"ecdsa-sha2-{curve_name}":
            raise UnusableKeyError("the key's curve does not match its type")
        if curve_name not in SSH_CURVES or (
            algorithm.startswith("sk-") and curve_name != "nistp256"
        ):
            raise UnusableKeyError(f"unsupported curve {curve_name!r}")
        from cryptography.hazmat.primitives.asymmetric import ec

        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ssh_curve(curve_name), reader.string())
        except ValueError:
            raise UnusableKeyError("the key's point is not on its curve") from None
    else:  # ssh-rsa
        exponent, modulus = reader.mpint(), reader.mpint()
        if exponent < 3 or exponent % 2 == 0:
            raise UnusableKeyError("invalid RSA exponent")
        if modulus.bit_length() < MIN_RSA_BITS:
            raise UnusableKeyError(
                f"RSA keys need at least {MIN_RSA_BITS} bits, got {modulus.bit_length()}"
            )
    if algorithm.startswith("sk-"):
        reader.string()  # application, usually "ssh:"
    reader.end()
    return PublicKey("ssh", algorithm, ssh_fingerprint(blob), blob)


# --- OpenPGP --------------------------------------------------------------------------

_ARMOR = re.compile(
    r"-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(?P<body>.*?)-----END PGP PUBLIC KEY BLOCK-----",
    re.DOTALL,
)
_PGP_ALGORITHMS = {
    1: "rsa",
    2: "rsa",
    3: "rsa",
    18: "ecdh",
    19: "ecdsa",
    22: "eddsa",
    25: "x25519",
    27: "ed25519",
    28: "ed448",
}


def crc24(data: bytes) -> int:
    """The OpenPGP armour checksum (RFC 4880 §6.1); `openpgp` checks signatures' with it."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def _dearmor(text: str) -> bytes:
    found = _ARMOR.findall(text)
    if len(found) != 1:
        raise UnusableKeyError("expected exactly one 'BEGIN PGP PUBLIC KEY BLOCK' armour")
    lines = found[0].splitlines()
    while lines and ":" in lines[0]:  # armour headers, e.g. "Comment: ..."
        lines.pop(0)
    lines = [line.strip() for line in lines if line.strip()]
    checksum = None
    if lines and lines[-1].startswith("="):
        checksum = lines.pop()
    try:
        data = base64.b64decode("".join(lines), validate=True)
        if checksum is not None and int.from_bytes(base64.b64decode(checksum[1:]), "big") != crc24(
            data
        ):
            raise UnusableKeyError("the armour checksum does not match")
    except binascii.Error:
        raise UnusableKeyError("the armour is not valid base64") from None
    return data


def _packets(data: bytes) -> list[tuple[int, bytes]]:
    """Every packet of a transferable public key, as (tag, body)."""
    found = []
    while data:
        tag, body, size = packet(data)
        found.append((tag, body))
        data = data[size:]
    return found


def packet(data: bytes) -> tuple[int, bytes, int]:
    """The first packet: (tag, body, bytes it occupies)."""
    if not data or not data[0] & 0x80:
        raise UnusableKeyError("not an OpenPGP packet")
    head = data[0]
    if head & 0x40:  # new format
        tag, pos = head & 0x3F, 1
        if pos >= len(data):
            raise UnusableKeyError("truncated packet")
        first = data[pos]
        if first < 192:
            length, pos = first, pos + 1
        elif first < 224:
            length, pos = ((first - 192) << 8) + data[pos + 1] + 192, pos + 2
        elif first == 255:
            length, pos = int.from_bytes(data[pos + 1 : pos + 5], "big"), pos + 5
        else:
            raise UnusableKeyError("partial-length key packets are not allowed")
    else:
        tag, kind = (head >> 2) & 0x0F, head & 0x03
        if kind == 3:
            raise UnusableKeyError("indeterminate-length key packets are not allowed")
        size = 1 << kind
        length, pos = int.from_bytes(data[1 : 1 + size], "big"), 1 + size
    body = data[pos : pos + length]
    if len(body) != length:
        raise UnusableKeyError("truncated packet")
    return tag, body, pos + length


def parse_openpgp_public_key(text: str) -> PublicKey:
    """Fingerprint of the primary key of an ASCII-armoured OpenPGP public key.

    Raises:
        UnusableKeyError: not one armoured public key, unsupported version, weak algorithm.
    """
    try:
        packets = _packets(_dearmor(text))
    except IndexError:  # a length field that runs past the end
        raise UnusableKeyError("truncated packet") from None
    tag, body = packets[0]
    if tag != 6:
        raise UnusableKeyError("the armour does not start with a public-key packet")
    if sum(1 for t, _ in packets if t == 6) > 1:
        raise UnusableKeyError("the armour holds several primary keys; export exactly one")
    version = body[0] if body else 0
    if version == 4:
        algo_at, digest = 5, hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body)
    elif version == 6:
        algo_at, digest = 5, hashlib.sha256(b"\x9b" + len(body).to_bytes(4, "big") + body)
    else:
        raise UnusableKeyError(f"OpenPGP key version {version} is not supported (use v4 or v6)")
    if len(body) <= algo_at:
        raise UnusableKeyError("truncated public-key packet")
    algorithm = _PGP_ALGORITHMS.get(body[algo_at])
    if algorithm is None:
        raise UnusableKeyError(f"OpenPGP public-key algorithm {body[algo_at]} is not accepted")
    if algorithm == "rsa":
        offset = algo_at + 1 + (4 if version == 6 else 0)
        bits = int.from_bytes(body[offset : offset + 2], "big")
        if bits < MIN_RSA_BITS:
            raise UnusableKeyError(f"RSA keys need at least {MIN_RSA_BITS} bits, got {bits}")
    return PublicKey("openpgp", algorithm, digest.hexdigest().upper(), body)


def parse_public_key(kind: str, text: str) -> PublicKey:
    """Dispatch on the registry's key `type` (ssh | openpgp)."""
    if kind == "ssh":
        return parse_ssh_public_key(text)
    if kind == "openpgp":
        return parse_openpgp_public_key(text)
    raise UnusableKeyError(f"unknown key type {kind!r}")
