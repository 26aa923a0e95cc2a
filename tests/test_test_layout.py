"""The test suite's own layout: test modules share builders through tests/helpers (typed) and
fixtures through conftest.py, never by importing one another; no bare `# type: ignore`."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from tests.helpers import ROOT

TESTS = ROOT / "tests"
HELPERS = "tests.helpers"


def _dotted(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _test_modules() -> set[str]:
    """The dotted names of every test module and conftest under tests/."""
    found = {*TESTS.rglob("test_*.py"), *TESTS.rglob("conftest.py")}
    return {_dotted(path) for path in found}


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules `node` (in `module`) may import: `from a import b` may be module a.b."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = module.split(".")[: -node.level] if node.level else []
    base = ".".join([*package, *([node.module] if node.module else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _in_helpers(name: str) -> bool:
    return name == HELPERS or name.startswith(HELPERS + ".")


def forbidden_imports(module: str, source: str, test_modules: set[str]) -> list[str]:
    """`line: module` for each import in `source` (the text of `module`) of a test module
    or conftest (by its dotted or bare name), or of anything in tests/ outside tests.helpers."""
    bare = {name.rsplit(".", 1)[1] for name in test_modules}
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imports = [[alias.name] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imports = [_imported(module, node)]
        else:
            continue
        for base, *members in imports:
            a_test_module = any(n in test_modules or n in bare for n in (base, *members))
            outside_helpers = (base == "tests" or base.startswith("tests.")) and not (
                _in_helpers(base) or (base == "tests" and all(map(_in_helpers, members)))
            )
            if a_test_module or outside_helpers:
                found.append(f"{node.lineno}: {base}")
    return found


def bare_type_ignores(source: str) -> list[int]:
    """The lines of `source` with a `# type: ignore` that names no error code."""
    comments = (
        tok
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    )
    return [tok.start[0] for tok in comments if re.search(r"type:\s*ignore(?!\[)", tok.string)]


def test_no_test_module_imports_another() -> None:
    """Builders live in tests/helpers and fixtures in conftest.py; a test module that imports
    another couples their fates (and runs the other's module-level code)."""
    test_modules = _test_modules()
    found = {
        str(path.relative_to(ROOT)): bad
        for path in sorted(TESTS.rglob("*.py"))
        if (bad := forbidden_imports(_dotted(path), path.read_text(), test_modules))
    }
    assert found == {}, "import builders from tests.helpers, not from test modules"


def test_no_bare_type_ignore_in_tests() -> None:
    """A `# type: ignore` names its error code, so that it hides only that error."""
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if (lines := bare_type_ignores(path.read_text()))
    }
    assert found == {}


def test_the_layout_checks_find_what_they_forbid() -> None:
    """The two walks above are not vacuous: each form of the forbidden is found."""
    modules = {"tests.test_check", "tests.metrics.test_rows", "tests.conftest"}
    here = "tests.metrics.test_other"
    bad = [
        "from tests.test_check import make_base",
        "from tests import test_check",
        "import tests.test_check",
        "from tests.conftest import ROOT",
        "from .test_rows import ROWS",
        "from . import test_rows",
        "from test_check import make_base",
        "import test_check",
        "from tests.metrics.tables import make_tables",
        "def f() -> None:\n    from tests.test_check import write",
    ]
    for source in bad:
        assert forbidden_imports(here, source, modules), source
    good = [
        "from tests.helpers import samples",
        "from tests.helpers.repos import make_base",
        "import tests.helpers.git",
        "from synthgov import check",
    ]
    for source in good:
        assert forbidden_imports(here, source, modules) == [], source
    assert bare_type_ignores("x = 1  # type: ignore\ny = 2  # type:ignore  # why\n") == [1, 2]
    assert bare_type_ignores('x = 1  # type: ignore[arg-type]\ns = "# type: ignore"\n') == []
