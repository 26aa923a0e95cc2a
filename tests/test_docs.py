"""The file-format docs are generated from the models; they must match what is committed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from synthgov.models import KINDS

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
