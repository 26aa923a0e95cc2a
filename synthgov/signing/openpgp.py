"""OpenPGP signatures, checked by gpg in a throwaway home that holds only registry keys.

OpenPGP done right in process means subkey bindings, back-signatures, expiry and
revocation packets (signing.md §5); gpg already does all of that, so this adapter hands it
a private, temporary keyring with nothing but the base registry's public keys and reads
its machine-readable status lines. The trust database of such a home means nothing:
identity comes from the registry, hence `--trust-model always` and the primary key's
fingerprint as the answer (a subkey signs for its primary). Before gpg sees a signature it
must be one armoured, detached, binary-document signature packet: inline-signed data must
never stand in for the payload we hand gpg (gpg 2.2 refuses that too; this check does not
depend on gpg's version), and text mode would let line endings differ. Expiry and
revocation inside the key are gpg's verdict at the current time; registry validity windows
are the caller's. `sign_with_gpg` at the bottom signs with the user's own gpg for
`synthgov approve`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import weakref
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from synthgov.errors import SignatureError, UnusableKeyError, VerifierUnavailable, printable
from synthgov.signing import keys
from synthgov.signing.sshsig import armour_body

MIN_RSA_BITS = keys.MIN_RSA_BITS
_BEGIN = b"-----BEGIN PGP SIGNATURE-----"
_END = b"-----END PGP SIGNATURE-----"
_ARMOUR_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9-]*: [ -~]*")
_FINGERPRINT = re.compile(r"[0-9A-F]{40}|[0-9A-F]{64}")
_SIGNATURE_PACKET = 2
_BINARY_DOCUMENT = 0x00
_WEAK_HASHES = {1: "MD5", 2: "SHA-1", 3: "RIPEMD-160"}  # RFC 9580 §9.5
_RSA, _DSA = {1, 2, 3}, {16, 17, 20}  # RSA variants; Elgamal and DSA
#: Status keywords that make a signature count for nothing, with the reason given.
_REFUSED = {
    "BADSIG": "bad signature: it does not match the signed payload",
    "EXPKEYSIG": "made by an expired key or expired subkey",
    "REVKEYSIG": "made by a revoked key",
    "EXPSIG": "the signature itself has expired",
    "NO_PUBKEY": "unknown key: not among the registry's OpenPGP keys",
}
#: ERRSIG return codes (libgpg-error) with their reason.
_ERRSIG = {"9": _REFUSED["NO_PUBKEY"], "4": "unsupported public-key or hash algorithm"}


def _armour_bytes(armored: bytes | str) -> bytes:
    if isinstance(armored, str):
        try:
            return armored.encode("ascii")
        except UnicodeEncodeError:
            raise SignatureError("the signature holds non-ASCII characters") from None
    return bytes(armored)


def _packet(data: bytes) -> tuple[int, bytes]:
    """The one packet `data` holds: (tag, body)."""
    try:
        tag, body, size = keys.packet(data)
    except (UnusableKeyError, IndexError):
        raise SignatureError("malformed OpenPGP packet in the signature") from None
    if size != len(data):
        raise SignatureError("the armour holds more than one OpenPGP packet")
    return tag, body


def check_detached(armored: bytes | str) -> bytes:
    """The armour bytes, once they are known to hold exactly one detached binary signature.

    Raises:
        SignatureError: not exactly one `BEGIN PGP SIGNATURE` block, bad base64 or
            checksum, anything but one signature packet (inline data, compressed or several
            signatures), a text-mode signature, an old (v3) packet, or MD5/SHA-1/RIPEMD-160.
    """
    data = _armour_bytes(armored)
    body = armour_body(data, _BEGIN, _END, 4)
    while body and _ARMOUR_HEADER.fullmatch(body[0]):  # Version:, Comment:
        body.pop(0)
    if not body or body.pop(0) != b"":
        raise SignatureError("the signature's armour lacks the empty line after its headers")
    checksum = body.pop()[1:] if body and body[-1].startswith(b"=") else None
    try:
        if not body or not all(body):
            raise binascii.Error("empty line")
        blob = base64.b64decode(b"".join(body), validate=True)
        crc = base64.b64decode(checksum, validate=True) if checksum is not None else None
    except binascii.Error:
        raise SignatureError("the signature is not valid base64") from None
    if crc is not None and int.from_bytes(crc, "big") != keys.crc24(blob):
        raise SignatureError("the signature's armour checksum does not match")
    tag, packet = _packet(blob)
    if tag != _SIGNATURE_PACKET:
        raise SignatureError("the armour holds no detached signature packet")
    if len(packet) < 4 or packet[0] not in (4, 5, 6):
        raise SignatureError("only version 4, 5 or 6 OpenPGP signatures are accepted")
    if packet[1] != _BINARY_DOCUMENT:
        raise SignatureError(
            f"signature type 0x{packet[1]:02x} is not a binary-document signature (0x00); "
            "text-mode signatures are not accepted"
        )
    if packet[3] in _WEAK_HASHES:
        raise SignatureError(f"{_WEAK_HASHES[packet[3]]} signatures are not accepted")
    return data


def _remove(home: Path) -> None:
    """Stop what gpg started in `home` (gpg-agent, dirmngr), then delete it."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["gpgconf", "--homedir", str(home), "--kill", "all"],
            capture_output=True,
            check=False,
            timeout=30,
        )
    shutil.rmtree(home, ignore_errors=True)


class Keyring:
    """A temporary gpg home holding only the given armoured public keys (from the base
    registry). Context manager; created lazily on first verify; removed on close
    (gpgconf --kill all first). Never touches the user's ~/.gnupg."""

    def __init__(self, public_keys: Iterable[str]) -> None:
        self._public_keys = list(public_keys)
        self._home: Path | None = None
        self._finalizer: weakref.finalize[[Path], Keyring] | None = None
        self._signing_keys: dict[str, tuple[int, int]] = {}  # fingerprint -> (algorithm, bits)

    def __enter__(self) -> Keyring:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _gpg(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        assert self._home is not None
        command = [
            "gpg",
            "--homedir",
            str(self._home),
            "--no-options",
            "--batch",
            "--no-tty",
            "--disable-dirmngr",
            "--no-auto-key-retrieve",
            *args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GNUPG", "GPG_"))}
        try:
            return subprocess.run(command, input=stdin, capture_output=True, check=False, env=env)
        except OSError as exc:
            raise VerifierUnavailable(f"cannot run gpg: {exc.strerror or exc}") from None

    def _open(self) -> None:
        """Create the home, import the keys in one gpg run, and note every key's size."""
        self._home = Path(tempfile.mkdtemp(prefix="synthgov-gpg-"))  # mode 0700
        self._finalizer = weakref.finalize(self, _remove, self._home)
        if self._public_keys:
            # A key gpg cannot import just leaves its signatures unverifiable: fail closed.
            self._gpg("--import", stdin="\n".join(self._public_keys).encode("utf-8"))
        listing = self._gpg("--with-colons", "--fixed-list-mode", "--list-keys").stdout
        current: tuple[int, int] | None = None
        for line in listing.decode("utf-8", "replace").splitlines():
            fields = line.split(":")
            if fields[0] in ("pub", "sub") and len(fields) > 3:
                current = (int(fields[3] or 0), int(fields[2] or 0))
            elif fields[0] == "fpr" and current is not None and len(fields) > 9:
                self._signing_keys[fields[9]] = current
                current = None

    def verify(self, armored_signature: bytes | str, payload: bytes) -> str:
        """The PRIMARY key fingerprint (40/64 upper-case hex, as keys.parse_openpgp_public_key
        gives) of a good signature over `payload`. Require exactly one GOODSIG and one
        VALIDSIG and none of BADSIG/ERRSIG/EXPSIG/EXPKEYSIG/REVKEYSIG/NO_PUBKEY. Options:
        --batch --no-tty --no-auto-key-retrieve --status-fd, --trust-model always.
        Raises SignatureError with the reason (e.g. 'expired subkey',
        'unknown key', 'bad signature')."""
        signature = check_detached(armored_signature)
        if self._home is None:
            try:
                self._open()
            except VerifierUnavailable:
                self.close()  # half-made: the next verify starts afresh
                raise
        assert self._home is not None
        signature_file = self._home / "signature.asc"
        signature_file.write_bytes(signature)
        done = self._gpg(
            "--trust-model",
            "always",
            "--status-fd",
            "1",
            "--verify",
            str(signature_file),
            "-",
            stdin=payload,
        )
        status = [
            line[len("[GNUPG:] ") :].split(" ")
            for line in done.stdout.decode("utf-8", "replace").splitlines()
            if line.startswith("[GNUPG:] ")
        ]
        seen = Counter(fields[0] for fields in status)
        for keyword, reason in _REFUSED.items():
            if seen[keyword]:
                raise SignatureError(reason)
        for fields in status:
            if fields[0] == "ERRSIG":
                code = fields[6] if len(fields) > 6 else "?"
                raise SignatureError(_ERRSIG.get(code, f"gpg cannot check it (error {code})"))
        if not status and done.returncode != 0:
            raise VerifierUnavailable(f"gpg failed (exit status {done.returncode})")
        if seen["NEWSIG"] != 1 or seen["GOODSIG"] != 1 or seen["VALIDSIG"] != 1:
            raise SignatureError("gpg did not report exactly one good signature")
        if done.returncode != 0:
            raise VerifierUnavailable(f"gpg failed (exit status {done.returncode})")
        valid = next(fields for fields in status if fields[0] == "VALIDSIG")
        if len(valid) < 11 or not _FINGERPRINT.fullmatch(valid[10]):
            raise SignatureError("gpg reported no primary key fingerprint")
        signer, hash_algorithm, signature_class = valid[1], valid[8], valid[9]
        if signature_class != "00":
            raise SignatureError(f"signature class {printable(signature_class)} is not 0x00")
        if hash_algorithm.isdigit() and int(hash_algorithm) in _WEAK_HASHES:
            raise SignatureError(f"{_WEAK_HASHES[int(hash_algorithm)]} signatures are not accepted")
        if signer not in self._signing_keys:
            raise SignatureError("gpg names a signing key that is not in the keyring")
        algorithm, bits = self._signing_keys[signer]
        if algorithm in _DSA:
            raise SignatureError("DSA and Elgamal signing keys are not accepted")
        if algorithm in _RSA and bits < MIN_RSA_BITS:
            raise SignatureError(f"the RSA signing key has {bits} bits; {MIN_RSA_BITS} needed")
        return valid[10]

    def close(self) -> None:
        """Stop gpg's helpers for this home and delete it; safe to call twice."""
        if self._finalizer is not None:
            self._finalizer()
        self._home, self._finalizer = None, None
        self._signing_keys.clear()


# --- adapter: signing with the user's own gpg -----------------------------------------


def sign_with_gpg(key_id: str | None, message: bytes) -> str:
    """Armoured detached signature by the user's own gpg (`gpg --batch --armor --detach-sign
    [-u KEY]`), for `approve` with gpg.format openpgp.

    `--no-textmode` keeps a `textmode` line in the user's gpg.conf from making a text
    signature, which Keyring.verify refuses.

    Raises:
        SignatureError: gpg's first stderr line when it fails, or why synthgov would refuse
            the signature it made (e.g. SHA-1).
    """
    user = ["-u", key_id] if key_id else []
    command = ["gpg", "--batch", "--armor", "--no-textmode", "--detach-sign", *user]
    try:
        done = subprocess.run(command, input=message, capture_output=True, check=False)
    except OSError as exc:
        raise SignatureError(f"cannot run gpg: {exc.strerror or exc}") from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.stderr.decode("utf-8", "replace").splitlines()]
        reason = next((ln for ln in lines if ln), f"exit status {done.returncode}")
        raise SignatureError(f"gpg could not sign: {printable(reason)}")
    armored = done.stdout.decode("ascii", "replace")
    try:
        check_detached(armored)
    except SignatureError as exc:
        raise SignatureError(f"gpg made a signature synthgov does not accept: {exc}") from None
    return armored
