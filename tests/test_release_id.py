"""A release id as one value: parsed from what a user typed, its folder, its text."""

from __future__ import annotations

import dataclasses

import pytest

from synthgov.errors import InputError
from synthgov.files.layout import Release, classify


def test_a_release_is_its_dataset_and_version() -> None:
    release = Release.parse("claims@2026.1")
    assert (release.dataset, release.version) == ("claims", "2026.1")
    assert str(release) == "claims@2026.1"
    assert release.folder == "datasets/claims/releases/2026.1"
    assert classify(f"{release.folder}/manifest.yaml") is not None
    assert Release.of("claims@2026.1") == release
    with pytest.raises(dataclasses.FrozenInstanceError):
        release.version = "2"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("claims", "'claims' is not a release; expected e.g. claims@1.0"),
        ("claims@", "'claims@' is not a release; expected e.g. claims@1.0"),
        ("claims@1..2", "'claims@1..2' is not a release; expected e.g. claims@1.0"),
        ("claims@1/2", "'claims@1/2' is not a release; expected e.g. claims@1.0"),
        ("Claims@1.0", "'Claims' is not a valid id"),
        ("../x@1.0", "'../x' is not a valid id"),
    ],
)
def test_what_is_not_a_release_is_refused_at_its_label(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        Release.parse(text, "TARGET")
    assert str(caught.value).startswith(f"TARGET: {message}")
