"""Who signed: a signature judged against the base registry at the checker's clock.

A reviewer is identified by the key that signed, never by a name, an email or a date in
the signed content (BRIEF §9). SSH signatures are verified in process (`sshsig`);
OpenPGP ones by gpg with a throwaway keyring of the registry's keys only (`openpgp`).
A key counts when it is registered on the base branch and valid at the checker's clock
(`now`, read once per run; `--at` replays another instant), whatever the commit claims.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from synthgov.errors import SignatureError, VerifierUnavailable
from synthgov.models.approval import Signature
from synthgov.models.common import format_timestamp
from synthgov.models.reviewers import Key, Registry
from synthgov.signing import commits, sshsig
from synthgov.signing.keys import parse_ssh_public_key, ssh_fingerprint
from synthgov.signing.openpgp import Keyring

APPROVAL_NAMESPACE = "synthgov-approval"
COMMIT_NAMESPACE = "git"


@dataclass(frozen=True)
class Signer:
    """A verified signature: whose registered key made it, and which carrier held it."""

    reviewer: str
    fingerprint: str
    carrier: str  # "embedded" | "commit"


def key_problem(key: Key, now: datetime) -> str | None:
    """Why a registered key does not count at `now`, or None when it does."""
    if key.revoked_at is not None and now >= key.revoked_at:
        return f"was revoked at {format_timestamp(key.revoked_at)} ({key.revocation_reason})"
    if key.valid_after is not None and now < key.valid_after:
        return f"is not valid before {format_timestamp(key.valid_after)}"
    if key.valid_before is not None and now >= key.valid_before:
        return f"expired at {format_timestamp(key.valid_before)}"
    return None


class _Keys:
    """The registry's keys by SSH key blob and by OpenPGP fingerprint, gpg's throwaway
    keyring of the OpenPGP ones (opened on the first OpenPGP check), and the signatures
    already verified with them."""

    def __init__(self, registry: Registry) -> None:
        self.ssh: dict[bytes, tuple[str, Key]] = {}
        self.pgp: dict[str, tuple[str, Key]] = {}
        for reviewer in registry.reviewers:
            for key in reviewer.keys:
                if key.type == "ssh":
                    self.ssh[parse_ssh_public_key(key.public_key).blob] = (reviewer.id, key)
                else:
                    self.pgp[key.fingerprint] = (reviewer.id, key)
        self.keyring = Keyring(key.public_key for _, key in self.pgp.values())
        #: (namespace, format, signature, payload digest) -> the registered key that made
        #: it, or why none did (`Verifier._registered`)
        self.verified: dict[tuple[str, str, bytes, bytes], tuple[str, Key] | str] = {}


@dataclass(frozen=True, init=False, eq=False)
class Verifier:
    """Verifies embedded and commit signatures with the base registry's keys only, at the
    checker's clock `now`.

    Frozen: nothing moves its clock. `at(now)` is the same keys and gpg keyring at another
    instant, so that an audit judges each commit at its own time without importing the
    registry's keys again. The keyring and the memo of verified signatures are shared:
    a signature verified at one instant is not verified again at another (only its key's
    validity is judged anew), and closing one verifier closes the keyring for all (it
    reopens on the next OpenPGP check).
    """

    now: datetime
    _keys: _Keys = field(repr=False)

    def __init__(self, registry: Registry, now: datetime) -> None:
        object.__setattr__(self, "now", now)
        object.__setattr__(self, "_keys", _Keys(registry))

    def at(self, now: datetime) -> Verifier:
        """This verifier's keys and keyring, judging at `now`."""
        moved = copy.copy(self)
        object.__setattr__(moved, "now", now)
        return moved

    def close(self) -> None:
        self._keys.keyring.close()

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _registered(
        self, fmt: str, armored: bytes, payload: bytes, namespace: str
    ) -> tuple[str, Key]:
        """The reviewer and registered key that made a signature over `payload`, whatever
        the key's state today. Each signature is verified once per verifier and its `at()`
        copies: the answer, or why there is none, is remembered for the next subject,
        command, commit or report that asks.

        Raises:
            SignatureError: malformed, bad, or no registered key (remembered), or
                `VerifierUnavailable` (not remembered).
        """
        memo = (namespace, fmt, armored, hashlib.sha256(payload).digest())
        if memo not in self._keys.verified:
            try:
                self._keys.verified[memo] = self._verify(fmt, armored, payload, namespace)
            except VerifierUnavailable:
                raise  # no answer: blocks now, asked again next time
            except SignatureError as exc:
                self._keys.verified[memo] = str(exc)
        found = self._keys.verified[memo]
        if isinstance(found, str):
            raise SignatureError(found)
        return found

    def _verify(self, fmt: str, armored: bytes, payload: bytes, namespace: str) -> tuple[str, Key]:
        if fmt == "sshsig":
            blob = sshsig.parse(armored).public_key
            found = self._keys.ssh.get(blob)
            if found is None:
                raise SignatureError(f"key {ssh_fingerprint(blob)} is not in the base registry")
            sshsig.verify(armored, payload, namespace=namespace, public_key=blob)
            return found
        fingerprint = self._keys.keyring.verify(armored, payload)
        found = self._keys.pgp.get(fingerprint)
        if found is None:  # the keyring holds registry keys only; belt and braces
            raise SignatureError(f"key {fingerprint} is not in the base registry")
        return found

    def _identify(self, fmt: str, armored: bytes, payload: bytes, namespace: str) -> Signer:
        reviewer, key = self._registered(fmt, armored, payload, namespace)
        problem = key_problem(key, self.now)
        if problem:
            raise SignatureError(f"{reviewer}'s key {key.fingerprint} {problem}")
        return Signer(reviewer, key.fingerprint, "embedded")

    def embedded(self, signature: Signature, payload: bytes) -> Signer:
        """The signer of an approval's embedded signature over its canonical payload.

        Raises:
            SignatureError: malformed, bad, unregistered or invalid key (the reason).
        """
        armored = signature.armored.encode("utf-8")
        return self._identify(signature.format, armored, payload, APPROVAL_NAMESPACE)

    def commit_signer(self, raw: bytes) -> str:
        """The reviewer whose registered key signed a commit, valid now or not: who wrote
        something is a fact about the key, whatever its state today.

        Raises:
            SignatureError: unsigned, malformed, bad, or no registered key.
        """
        signed = commits.split_signed(raw)
        found = self._registered(signed.format, signed.signature, signed.payload, COMMIT_NAMESPACE)
        return found[0]

    def commit(self, raw: bytes) -> Signer:
        """The signer of a commit, verified over its exact bytes from git.

        Raises:
            SignatureError: unsigned, malleated (extra gpgsig headers), bad, unregistered
                or invalid key.
        """
        signed = commits.split_signed(raw)
        found = self._identify(signed.format, signed.signature, signed.payload, COMMIT_NAMESPACE)
        return Signer(found.reviewer, found.fingerprint, "commit")
