"""The docs match the code: the file-format pages are generated from the models (and must
match what is committed); the snippets that build on the test suite run as written."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from synthgov.models import KINDS
from tests.helpers.cli import Synthgov
from tests.helpers.git import sha

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_docs_are_up_to_date_with_the_models() -> None:
    """`docs/generate.py --check` validates every example and diffs every generated page."""
    done = subprocess.run(
        [sys.executable, str(DOCS / "generate.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (
        "docs/ is out of date with the models; run `.venv/bin/python docs/generate.py`\n"
        + done.stderr
    )


def test_every_kind_has_a_page() -> None:
    missing = [kind for kind in KINDS if not (DOCS / "files" / f"{kind}.md").is_file()]
    assert missing == []
    index = (DOCS / "files" / "README.md").read_text(encoding="utf-8")
    assert [kind for kind in KINDS if f"]({kind}.md)" not in index] == []


def test_the_docs_import_only_test_helpers_that_exist() -> None:
    """A snippet in the docs that builds on the test suite imports names tests/helpers has."""
    blocks = [
        block
        for page in [ROOT / "README.md", *DOCS.rglob("*.md")]
        for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    ]
    imports = [
        node
        for block in blocks
        for node in ast.walk(ast.parse(block))
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "tests"
    ]
    assert imports, "docs/auditors.md's worked audit builds on tests.helpers"
    for node in imports:
        assert node.module is not None and node.module.startswith("tests.helpers"), node.module
        module = importlib.import_module(node.module)
        assert [a.name for a in node.names if not hasattr(module, a.name)] == [], node.module


def test_the_worked_audit_in_the_auditors_guide_finds_what_the_guide_says(
    synthgov: Synthgov, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/auditors.md's snippet builds its history; the audit exits 1 with one finding,
    policy.unapproved at the last commit, and the release passes."""
    page = (DOCS / "auditors.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```python\n(.*?)```", page, re.S)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/auditors.md", "exec"), namespace)
    repo: Path = namespace["repo"]
    result = synthgov("audit", "--out", str(tmp_path / "pack"), cwd=repo)
    assert result.code == 1, result.err
    data = json.loads((tmp_path / "pack" / "audit.json").read_text())
    findings = [(f["kind"], f["commit"]) for f in data["findings"]]
    assert findings == [("policy.unapproved", sha(repo))]
    assert [(r["release"], r["verdict"]) for r in data["releases"]] == [("claims@1.10", "pass")]
