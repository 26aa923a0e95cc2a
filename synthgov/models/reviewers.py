"""policy/reviewers.yaml: who may approve, in which roles, with which keys, when.

A reviewer is identified by the key that signed, never by a name or email (BRIEF §9), so
a fingerprint may appear once in the whole registry and must be the key's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from synthgov.keys import UnusableKeyError, parse_public_key
from synthgov.models.common import Email, Model, Name, SchemaVersion, Slug, Text, Timestamp


class Key(Model):
    type: Literal["ssh", "openpgp"]
    public_key: str = Field(min_length=1, max_length=20_000)
    fingerprint: str = Field(
        description="SHA256:… for SSH (as ssh-keygen -l prints), 40/64 hex digits for OpenPGP."
    )
    valid_after: Timestamp | None = None
    valid_before: Timestamp | None = None
    revoked_at: Timestamp | None = None
    revocation_reason: Text | None = None

    @model_validator(mode="after")
    def _key_matches_fingerprint(self) -> Key:
        try:
            parsed = parse_public_key(self.type, self.public_key)
        except UnusableKeyError as exc:
            raise ValueError(f"public_key: {exc}") from None
        if parsed.fingerprint != self.fingerprint:
            raise ValueError(
                f"fingerprint {self.fingerprint} is not the key's; its fingerprint is {parsed.fingerprint}"
            )
        if self.valid_after and self.valid_before and self.valid_after >= self.valid_before:
            raise ValueError("valid_after must be before valid_before")
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
    roles: list[Slug] = Field(min_length=1)
    keys: list[Key] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_roles(self) -> Reviewer:
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("roles has duplicates")
        return self


class Registry(Model):
    schema_version: SchemaVersion
    reviewers: list[Reviewer] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Registry:
        ids = [r.id for r in self.reviewers]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate reviewer ids: {', '.join(sorted({i for i in ids if ids.count(i) > 1}))}")
        owners: dict[str, str] = {}
        for reviewer in self.reviewers:
            for key in reviewer.keys:
                other = owners.setdefault(key.fingerprint, reviewer.id)
                if other != reviewer.id or sum(k.fingerprint == key.fingerprint for k in reviewer.keys) > 1:
                    raise ValueError(
                        f"key {key.fingerprint} is registered more than once ({other}, {reviewer.id})"
                    )
        return self

    def reviewer(self, reviewer_id: str) -> Reviewer | None:
        return next((r for r in self.reviewers if r.id == reviewer_id), None)

    def holders(self, role: str) -> list[Reviewer]:
        return [r for r in self.reviewers if role in r.roles]
