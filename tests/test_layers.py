"""The layers of synthgov, read from its own source: commands sit on the core, never on
each other, and no module reaches into another's private names.

A command parses options, calls the core, renders and returns the exit code; the
decision, the review of approvals and the domain logic live below it, where `audit`,
`status` and the next command can reach them without importing a command (issue 16).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import synthgov

PACKAGE = Path(synthgov.__file__).parent
#: The entry points, the only modules above the commands: the command line, and the
#: demo (`make demo`), which drives the command line as a user would.
ENTRY = frozenset({"synthgov.cli", "synthgov.__main__", "synthgov.demo"})


@dataclass(frozen=True)
class Import:
    importer: str  # the module that imports, e.g. "synthgov.commands.check"
    module: str  # the module imported from, e.g. "synthgov.decision.run"
    name: str | None  # the name taken from it (`from module import name`), else None
    line: int

    def __str__(self) -> str:
        taken = f" ({self.name})" if self.name else ""
        return f"{self.importer}:{self.line} imports {self.module}{taken}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports() -> list[Import]:
    """Every import statement of every synthgov module, at any depth (function-local
    imports included), with `from synthgov import x` resolved to module `synthgov.x`
    when x is a module."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found += [Import(importer, a.name, None, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = _absolute(importer, is_package, node)
                for alias in node.names:
                    submodule = f"{module}.{alias.name}"
                    if _exists(submodule):
                        found.append(Import(importer, submodule, None, node.lineno))
                    else:
                        found.append(Import(importer, module, alias.name, node.lineno))
    return found


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:]) if "." in module else Path()
    if not module.startswith("synthgov"):
        return False
    return (PACKAGE / relative).with_suffix(".py").is_file() or (
        PACKAGE / relative / "__init__.py"
    ).is_file()


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_imports_are_found() -> None:
    """The walk sees what the layers rest on (a walk that saw nothing would pass all)."""
    found = {(i.importer, i.module) for i in _imports()}
    assert ("synthgov.cli", "synthgov.commands.check") in found
    assert ("synthgov.commands.check", "synthgov.decision.run") in found


def test_no_command_imports_another_command() -> None:
    """Logic two commands share belongs in the core, beside its model."""
    found = [
        str(i)
        for i in _imports()
        if _within(i.importer, "synthgov.commands")
        and _within(i.module, "synthgov.commands")
        and i.importer != i.module
    ]
    assert found == []


def test_no_core_module_imports_a_command_or_the_cli() -> None:
    """The core never reaches up: audit, status and the next command call the decision,
    not `check`."""
    found = [
        str(i)
        for i in _imports()
        if i.importer not in ENTRY
        and not _within(i.importer, "synthgov.commands")
        and (_within(i.module, "synthgov.commands") or _within(i.module, "synthgov.cli"))
    ]
    assert found == []


def test_no_command_imports_the_cli() -> None:
    """The command line wires the commands; a command does not wire itself back."""
    found = [
        str(i)
        for i in _imports()
        if _within(i.importer, "synthgov.commands") and _within(i.module, "synthgov.cli")
    ]
    assert found == []


def test_no_module_imports_a_private_name_of_another() -> None:
    """A name with a leading underscore is its module's own: one that others need is
    made public (and documented) where it lives."""
    found = [
        str(i)
        for i in _imports()
        if _within(i.module, "synthgov")
        and i.module != i.importer
        and i.name is not None
        and i.name.startswith("_")
        and not (i.name.startswith("__") and i.name.endswith("__"))
    ]
    assert found == []


def _private_attributes() -> list[str]:
    """`module._name` where `module` is a synthgov module bound by `from synthgov.x import
    module` (the borrowing an import walk alone would miss)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        modules = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = _absolute(importer, path.name == "__init__.py", node)
                for alias in node.names:
                    if _exists(f"{module}.{alias.name}"):
                        modules[alias.asname or alias.name] = f"{module}.{alias.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{importer}:{node.lineno} uses {modules[node.value.id]}.{node.attr}")
    return found


def test_no_module_reaches_into_another_modules_private_names() -> None:
    """`keys._packet` from `openpgp` is the same borrowing as importing `_packet`."""
    assert _private_attributes() == []
