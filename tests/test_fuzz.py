"""Property tests: whatever bytes a governance file holds, `validate` answers 0 or 2, never crashes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import samples
from tests.helpers.cli import Synthgov

PATHS = [path for _, path, _ in samples.DOCUMENTS]
TEXTS = {path: text for _, path, text in samples.DOCUMENTS}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["no", "1.10", "012", "2025-01-15", ".nan", "~", "<<", "&a", "*a"]),
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    for path in PATHS:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(TEXTS[path])
    return tmp_path


def _check(synthgov: Synthgov, tree: Path, path: str, raw: bytes) -> None:
    for other in PATHS:  # every example starts from the valid tree
        (tree / other).write_text(TEXTS[other])
    (tree / path).write_bytes(raw)
    result = synthgov("validate", cwd=tree)
    assert result.code in (0, 2)
    assert "internal error" not in result.err, result.err
    assert "Traceback" not in result.out + result.err
    if result.code == 2:
        assert result.out.strip(), "exit 2 must say what is wrong"
        for line in result.out.splitlines():
            assert line.split(":", 1)[0] in PATHS, line


@SETTINGS
@given(path=st.sampled_from(PATHS), raw=st.binary(max_size=300))
def test_arbitrary_bytes(synthgov: Synthgov, tree: Path, path: str, raw: bytes) -> None:
    _check(synthgov, tree, path, raw)


@SETTINGS
@given(path=st.sampled_from(PATHS), data=documents)
def test_arbitrary_yaml_documents(synthgov: Synthgov, tree: Path, path: str, data: object) -> None:
    _check(synthgov, tree, path, yaml.safe_dump(data).encode())


@SETTINGS
@given(path=st.sampled_from(PATHS), cut=st.integers(0, 10_000), insert=st.binary(max_size=8))
def test_mutated_valid_documents(
    synthgov: Synthgov, tree: Path, path: str, cut: int, insert: bytes
) -> None:
    raw = TEXTS[path].encode()
    at = cut % (len(raw) + 1)
    _check(synthgov, tree, path, raw[:at] + insert + raw[at + len(insert) :])
