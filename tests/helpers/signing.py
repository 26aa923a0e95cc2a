"""Real reviewer keys (ssh-keygen ed25519) and approvals signed over their canonical payload."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from synthgov.commands.init import REPOSITORY_PLACEHOLDER
from synthgov.files import layout
from synthgov.signing.keys import parse_ssh_public_key
from synthgov.signing.signer import signed_text
from synthgov.signing.sshsig import sign_with_ssh_keygen

NAMESPACE = "synthgov-approval"


@dataclass(frozen=True)
class Person:
    id: str
    email: str
    roles: tuple[str, ...]
    key: Path  # private key file; the public half is key.pub

    @property
    def public(self) -> str:
        return " ".join(self.key.with_suffix(".pub").read_text().split()[:2])

    @property
    def fingerprint(self) -> str:
        return parse_ssh_public_key(self.public).fingerprint

    def sign(self, message: bytes, namespace: str = NAMESPACE) -> str:
        return sign_with_ssh_keygen(self.key, message, namespace)


def make_person(folder: Path, person_id: str, *roles: str, email: str | None = None) -> Person:
    key = folder / person_id
    if not key.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", person_id, "-f", str(key)],
            check=True,
        )
    return Person(person_id, email or f"{person_id}@example.org", roles, key)


def registry_yaml(*people: Person, extra: dict[str, str] | None = None) -> str:
    """policy/reviewers.yaml; `extra` adds key fields (e.g. revoked_at) per reviewer id."""
    lines = ["schema_version: 1", "reviewers:"]
    for p in people:
        lines += [
            f"  - id: {p.id}",
            f"    name: {p.id.title()}",
            f"    email: {p.email}",
            "    roles:",
            *(f"    - {r}" for r in p.roles),
            "    keys:",
            "    - type: ssh",
            f"      public_key: {p.public}",
            f"      fingerprint: {p.fingerprint}",
        ]
        lines += [f"      {line}" for line in (extra or {}).get(p.id, "").splitlines()]
    return "\n".join(lines) + "\n"


#: The repository id of the template policy (tests.helpers.samples.POLICY), which approvals sign.
REPOSITORY = REPOSITORY_PLACEHOLDER


def approval(
    person: Person,
    role: str,
    digest: str,
    *,
    release: str | None = "claims@1.10",
    waiver: str | None = None,
    decision: str = "approve",
    signer: Person | None = None,
    namespace: str = NAMESPACE,
    signed_at: str = "2025-06-01T10:00:00Z",
    subject: str | None = None,
    dataset: str | None = None,
    repository: str | None = REPOSITORY,
) -> tuple[str, str]:
    """(path, text) of an approval signed by `signer` (default: the person); `subject`
    defaults to what `release`, `waiver` and `dataset` imply."""
    kind = subject or (
        "waiver" if waiver else "card" if dataset else "release" if release else "policy"
    )
    data: dict[str, object] = {"schema_version": 1, "subject": kind}
    if repository is not None:
        data["repository"] = repository
    if waiver:
        data["waiver"] = waiver
    if release is not None and kind in ("release", "waiver", "revocation"):
        data["release"] = release
    if dataset is not None:
        data["dataset"] = dataset
    data |= {
        "reviewer": person.id,
        "role": role,
        "decision": decision,
        "digest": digest,
        "signed_at": signed_at,
    }
    path = layout.approval_path(
        role,
        person.id,
        release if kind in ("release", "waiver", "revocation") else None,
        waiver,
        kind,
        dataset,
    )
    by = signer or person
    return path, signed_text(data, path, "sshsig", lambda m: by.sign(m, namespace))


@lru_cache(maxsize=1)
def people() -> dict[str, Person]:
    """One set of keys per test process: reviewers for every default role, and an outsider."""
    folder = Path(tempfile.mkdtemp(prefix="synthgov-keys-"))
    return {
        "ada": make_person(folder, "ada", "privacy-reviewer"),
        "bo": make_person(folder, "bo", "privacy-reviewer"),
        "chen": make_person(folder, "chen", "data-owner"),
        "dana": make_person(folder, "dana", "policy-admin"),
        "eli": make_person(folder, "eli", "policy-admin"),
        "mallory": make_person(folder, "mallory", "privacy-reviewer"),  # never registered
    }


def registered() -> list[Person]:
    return [p for name, p in people().items() if name != "mallory"]
