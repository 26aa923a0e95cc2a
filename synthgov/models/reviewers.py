"""policy/reviewers.yaml: who may approve, in which roles, with which keys, when.

A reviewer is identified by the key that signed, never by a name or email (BRIEF §9), so
a fingerprint may appear once in the whole registry and must be the key's own.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from synthgov.errors import UnusableKeyError
from synthgov.models.common import (
    Email,
    FieldError,
    Model,
    Name,
    SchemaVersion,
    Slug,
    Text,
    Timestamp,
)
from synthgov.signing.keys import parse_public_key

Login = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9_])?(?:\[bot\])?$"),
    Field(description="A code-host login (GitHub, GitLab), compared without regard to case."),
]


class Key(Model):
    type: Literal["ssh", "openpgp"]
    public_key: str = Field(min_length=1, max_length=20_000)
    fingerprint: str = Field(
        pattern=r"^(?:SHA256:[A-Za-z0-9+/]{43}|[0-9A-F]{40}|[0-9A-F]{64})$",
        description="SHA256:… for SSH (as ssh-keygen -l prints), 40/64 hex digits for OpenPGP.",
    )
    valid_after: Timestamp | None = None
    valid_before: Timestamp | None = None
    revoked_at: Timestamp | None = None
    revocation_reason: Text | None = None

    @model_validator(mode="after")
    def _key_matches_fingerprint(self) -> "Key":
        if self.type == "ssh" and len(self.public_key.split()) != 2:
            raise FieldError(
                ("public_key",),
                "store the key as '<type> <base64>' only, without a comment or other lines",
            )
        try:
            parsed = parse_public_key(self.type, self.public_key)
        except UnusableKeyError as exc:
            raise FieldError(("public_key",), str(exc)) from None
        if parsed.fingerprint != self.fingerprint:
            raise FieldError(
                ("fingerprint",),
                f"{self.fingerprint} is not the key's; its fingerprint is {parsed.fingerprint}",
            )
        if self.valid_after and self.valid_before and self.valid_after >= self.valid_before:
            raise FieldError(("valid_before",), "must be after valid_after")
        if (self.revoked_at is None) != (self.revocation_reason is None):
            raise ValueError("revoked_at and revocation_reason go together")
        return self

    def is_valid_at(self, now: datetime) -> bool:
        """Usable at the checker's clock: inside its window and not revoked by then."""
        if self.valid_after is not None and now < self.valid_after:
            return False
        if self.valid_before is not None and now >= self.valid_before:
            return False
        return self.revoked_at is None or now < self.revoked_at


class Reviewer(Model):
    id: Slug
    name: Name
    email: Email
    emails: list[Email] | None = Field(
        None,
        description="Every other address the reviewer writes or commits under (aliases, old "
        "addresses): a release authored under any of them cannot be approved by the reviewer.",
    )
    login: Login | None = Field(
        None,
        description="The reviewer's code-host login; `check --pr-author LOGIN` makes the "
        "reviewer an author of every release of that pull request.",
    )
    roles: list[Slug] = Field(min_length=1)
    keys: list[Key] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_roles(self) -> "Reviewer":
        if len(set(self.roles)) != len(self.roles):
            raise FieldError(("roles",), "has duplicates")
        return self

    @property
    def addresses(self) -> frozenset[str]:
        """Every address of the reviewer, case-folded: what authorship is matched on."""
        return frozenset(e.casefold() for e in [self.email, *(self.emails or ())])


class Registry(Model):
    schema_version: SchemaVersion
    reviewers: list[Reviewer] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> "Registry":
        seen_ids: set[str] = set()
        owners: dict[str, str] = {}
        for i, reviewer in enumerate(self.reviewers):
            if reviewer.id in seen_ids:
                raise FieldError(("reviewers", i, "id"), f"duplicate reviewer id {reviewer.id}")
            seen_ids.add(reviewer.id)
            for j, key in enumerate(reviewer.keys):
                other = owners.get(key.fingerprint)
                if other is not None:
                    raise FieldError(
                        ("reviewers", i, "keys", j, "fingerprint"),
                        f"key {key.fingerprint} is registered more than once ({other}, {reviewer.id})",
                    )
                owners[key.fingerprint] = reviewer.id
        return self

    def reviewer(self, reviewer_id: str) -> Reviewer | None:
        return next((r for r in self.reviewers if r.id == reviewer_id), None)

    def holders(self, role: str) -> list[Reviewer]:
        return [r for r in self.reviewers if role in r.roles]

    def with_address(self, addresses: set[str] | frozenset[str]) -> list[Reviewer]:
        """Reviewers any of whose addresses is in `addresses` (case-folded)."""
        return [r for r in self.reviewers if r.addresses & addresses]

    def with_login(self, logins: set[str] | frozenset[str]) -> list[Reviewer]:
        """Reviewers whose code-host login is in `logins` (case-folded)."""
        return [r for r in self.reviewers if r.login and r.login.casefold() in logins]
