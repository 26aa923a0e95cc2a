"""Making signatures: the key a user signs with, whose registered key it is, and a signed
approval file's text.

The key is `--key FILE`, else git's `gpg.format` and `user.signingkey` (BRIEF §9): an SSH
key (private, or public with its private half in the agent) or an OpenPGP key id for the
user's gpg. Verifying is `synthgov.signing.signatures`'; this module only signs, so that
`approve` and `audit --checkpoint` sign the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from synthgov.errors import SignatureError, UsageError
from synthgov.files import layout
from synthgov.files.loading import parse_document
from synthgov.files.writing import schema_url, to_yaml
from synthgov.git.history import git_config
from synthgov.models import Approval, Registry
from synthgov.signing import canonical, sshsig
from synthgov.signing.keys import ssh_fingerprint
from synthgov.signing.openpgp import Keyring, sign_with_gpg
from synthgov.signing.signatures import APPROVAL_NAMESPACE, Signer, key_problem
from synthgov.signing.sshsig import sign_with_ssh_keygen


class UnknownKey(Exception):
    """The signing key is not a registered key valid now, so nothing it signs would count."""


@dataclass(frozen=True)
class SigningKey:
    """How to sign: an SSH key file (private, or public with its private half in the
    agent) or an OpenPGP key id for the user's gpg."""

    format: str  # "sshsig" | "openpgp"
    path: Path | None = None
    gpg_id: str | None = None

    def sign(self, message: bytes) -> str:
        if self.format == "sshsig":
            assert self.path is not None
            return sign_with_ssh_keygen(self.path, message, APPROVAL_NAMESPACE)
        return sign_with_gpg(self.gpg_id, message)

    def git_config(self) -> list[str]:
        """`-c` options that make `git commit -S` sign with this key."""
        if self.format == "sshsig":
            return ["-c", "gpg.format=ssh", "-c", f"user.signingkey={self.path}"]
        config = ["-c", "gpg.format=openpgp"]
        return config + (["-c", f"user.signingkey={self.gpg_id}"] if self.gpg_id else [])


def signing_key(root: Path, key: Path | None) -> SigningKey:
    """`--key FILE`, else git's `gpg.format` and `user.signingkey` (BRIEF §9)."""
    if key is not None:
        return SigningKey("sshsig", path=key.expanduser().absolute())
    fmt = (git_config(root, "gpg.format") or "openpgp").lower()
    configured = git_config(root, "user.signingkey")
    if fmt == "ssh":
        if configured is None:
            raise UsageError("gpg.format is ssh but user.signingkey is not set; pass --key FILE")
        if configured.startswith("key::"):
            raise UsageError(
                "user.signingkey holds a literal key; pass --key with the key file instead"
            )
        return SigningKey("sshsig", path=Path(configured).expanduser().absolute())
    if fmt != "openpgp":
        raise UsageError(f"gpg.format {fmt} is not supported; use ssh or openpgp")
    return SigningKey("openpgp", gpg_id=configured)


def identify(key: SigningKey, registry: Registry, now: datetime) -> Signer:
    """Whose registered key this is, by a probe signature's embedded key.

    Raises:
        UnknownKey: the key is not in the registry, or not valid at `now`.
        SignatureError: the key cannot sign.
    """
    probe = b"synthgov approve: which key is this?"
    armored = key.sign(probe)
    if key.format == "sshsig":
        fingerprint = ssh_fingerprint(sshsig.parse(armored).public_key)
    else:
        public = (k.public_key for r in registry.reviewers for k in r.keys if k.type == "openpgp")
        with Keyring(public) as keyring:
            try:
                fingerprint = keyring.verify(armored, probe)
            except SignatureError:
                raise UnknownKey(
                    f"your OpenPGP key is not in the base registry ({layout.REVIEWERS})"
                ) from None
    for reviewer in registry.reviewers:
        for registered in reviewer.keys:
            if registered.fingerprint == fingerprint:
                problem = key_problem(registered, now)
                if problem:
                    raise UnknownKey(f"your key {fingerprint} {problem}")
                return Signer(reviewer.id, fingerprint, "embedded")
    raise UnknownKey(
        f"your key {fingerprint} is not in the base registry ({layout.REVIEWERS}); "
        "ask a policy admin to add it"
    )


def approval_text(data: dict[str, Any], path: str) -> str:
    """An approval file's YAML, with the comment that says not to edit it."""
    comment = (
        "A signed approval written by `synthgov approve`; the signature covers every other\n"
        "field. Edit nothing: approve again with --replace instead."
    )
    return to_yaml(Approval(**data), schema_url("approval", path), comment)


def signed_text(data: dict[str, Any], path: str, fmt: str, sign: Callable[[bytes], str]) -> str:
    """The approval file's text: `data` plus a signature over its canonical payload, as the
    file will read back (the payload is computed from the written text, not from `data`)."""
    pending = approval_text({**data, "signature": {"format": fmt, "armored": "-"}}, path)
    payload = canonical.signed_payload(parse_document(pending.encode(), path).data)
    return approval_text({**data, "signature": {"format": fmt, "armored": sign(payload)}}, path)
