"""The verifier: the base registry's keys, judged at a clock that nothing moves."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from synthgov.errors import SignatureError
from synthgov.files.loading import parse_document, validate
from synthgov.models import Registry
from synthgov.models.approval import Signature
from synthgov.signing import sshsig
from synthgov.signing.signatures import Verifier
from tests.helpers import signing

BEFORE = datetime(2026, 9, 9, tzinfo=UTC)
AFTER = datetime(2026, 9, 11, tzinfo=UTC)
PAYLOAD = b'{"decision":"approve","release":"claims@1.10"}'


def test_a_verifier_at_another_clock_leaves_the_first_where_it_was() -> None:
    """An audit judges commit after commit with one keyring: `at` gives the later clock
    its own verifier, and the earlier one still judges at its own instant."""
    ada = signing.people()["ada"]
    text = signing.registry_yaml(ada, extra={"ada": "valid_before: '2026-09-10T00:00:00Z'"})
    registry = validate(parse_document(text.encode(), "policy/reviewers.yaml"), Registry)
    signature = Signature(format="sshsig", armored=ada.sign(PAYLOAD))
    with Verifier(registry, BEFORE) as verifier:
        later = verifier.at(AFTER)
        assert later.now == AFTER and verifier.now == BEFORE
        with pytest.raises(SignatureError, match=r"^ada's key SHA256:\S+ expired at 2026-09-10T"):
            later.embedded(signature, PAYLOAD)
        assert verifier.embedded(signature, PAYLOAD).reviewer == "ada"
        with pytest.raises(dataclasses.FrozenInstanceError):
            verifier.now = AFTER  # type: ignore[misc]


def test_a_signature_is_verified_once_whatever_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The copies `at` gives share what was verified: a signature is checked once, and
    only its key's validity is judged again at each clock."""
    ada = signing.people()["ada"]
    text = signing.registry_yaml(ada, extra={"ada": "valid_before: '2026-09-10T00:00:00Z'"})
    registry = validate(parse_document(text.encode(), "policy/reviewers.yaml"), Registry)
    signature = Signature(format="sshsig", armored=ada.sign(PAYLOAD))
    checked = []
    verify = sshsig.verify
    monkeypatch.setattr(sshsig, "verify", lambda *a, **k: checked.append(a) or verify(*a, **k))
    with Verifier(registry, BEFORE) as verifier:
        assert verifier.embedded(signature, PAYLOAD).reviewer == "ada"
        with pytest.raises(SignatureError, match="expired"):
            verifier.at(AFTER).embedded(signature, PAYLOAD)
        assert verifier.at(BEFORE).embedded(signature, PAYLOAD).reviewer == "ada"
    assert len(checked) == 1
