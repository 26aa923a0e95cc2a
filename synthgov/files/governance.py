"""Governance files by path: classify, load safely, validate, and check the path agrees.

The adapter every command uses to read a governance file from the working tree. The
cross-file rules (a card may only tighten the policy, a waiver's horizon) are in
`consistency`; this module answers "is this one file valid where it stands?".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, overload

from pydantic import BaseModel

from synthgov.errors import InputError, Problem
from synthgov.files import layout
from synthgov.files.layout import Release
from synthgov.files.loading import Loaded, ModelT, parse_document, validate
from synthgov.files.paths import read_bytes
from synthgov.models import KINDS


def _identity(kind: str, ids: dict[str, str], model: Any) -> list[tuple[tuple[str, ...], str]]:
    """(field path, message) for every content field that disagrees with the file's path."""
    expected: dict[str, tuple[tuple[str, ...], Any]] = {}
    if kind == "card":
        expected = {"dataset": (("id",), model.id)}
    elif kind in ("manifest", "report"):
        expected = {"dataset": (("dataset",), model.dataset)}
        if kind == "manifest":
            expected["version"] = (("version",), model.version)
    elif kind == "approval":
        subject = ids.get("subject") or (
            "waiver"
            if "waiver" in ids
            else "release"
            if "version" in ids
            else "card"
            if "dataset" in ids
            else "policy"
        )
        expected = {
            "subject": (("subject",), model.subject),
            "release": (("release",), model.release),
            "waiver": (("waiver",), model.waiver),
            "role": (("role",), model.role),
            "reviewer": (("reviewer",), model.reviewer),
        }
        if subject == "card":
            expected["dataset"] = (("dataset",), model.dataset)
    elif kind == "waiver":
        expected = {"release": (("release",), model.release), "waiver": (("id",), model.id)}
    elif kind in ("revocation", "revalidation"):
        expected = {"release": (("release",), model.release)}
    elif kind == "ledger":
        expected = {"source": (("source",), model.source)}
    found: dict[str, str | None] = dict(ids)
    if kind == "approval":
        found = {"release": None, "waiver": None, **found, "subject": subject}
    if "version" in found and kind in ("approval", "waiver", "revocation", "revalidation"):
        found["release"] = str(Release(ids["dataset"], ids["version"]))
        del found["dataset"], found["version"]
    problems = []
    for name, (field, value) in expected.items():
        if name in found and found[name] != value:
            problems.append(
                (field, f"{'.'.join(field)}: is {value!r} but the file's path says {found[name]!r}")
            )
    return problems


@overload
def load_bytes(raw: bytes, path: str, kind: None = None) -> Loaded[BaseModel]: ...
@overload
def load_bytes(raw: bytes, path: str, kind: type[ModelT]) -> Loaded[ModelT]: ...
def load_bytes(raw: bytes, path: str, kind: type[BaseModel] | None = None) -> Loaded[Any]:
    """Parse and validate one governance file's bytes (from the working tree or a commit)
    as the model `kind` (`load_bytes(raw, path, Card) -> Loaded[Card]`), or as whatever
    kind its path names when `kind` is None.

    Raises:
        InputError: not a governance path, unsafe, malformed, invalid, or misplaced.
    """
    placed = layout.classify(path)
    if kind is None:
        if placed is None:
            raise InputError.at(path, "not a governance file (see docs/files/ for the layout)")
        kind = KINDS[placed.kind]
    doc = parse_document(raw, path)
    model = validate(doc, kind)
    if placed is not None and KINDS[placed.kind] is kind:
        mismatches = _identity(placed.kind, placed.ids, model)
        if mismatches:
            raise InputError([Problem(doc.locate(field), message) for field, message in mismatches])
    return Loaded(model, doc)


@overload
def load(root: Path, path: str, kind: None = None) -> Loaded[BaseModel]: ...
@overload
def load(root: Path, path: str, kind: type[ModelT]) -> Loaded[ModelT]: ...
def load(root: Path, path: str, kind: type[BaseModel] | None = None) -> Loaded[Any]:
    """Load one governance file from the working tree (no symlinks, size-limited), as
    `load_bytes` does.

    Raises:
        InputError: not a governance path, unreadable, unsafe, invalid, or misplaced.
    """
    raw = read_bytes(root, path)  # first: a symlink is reported as one, whatever its name
    return load_bytes(raw, path, kind)
