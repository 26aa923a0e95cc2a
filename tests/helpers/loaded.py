"""Typed views of loaded governance files: the loaders return Loaded[BaseModel] when the kind
is only known at run time; a test that knows the kind narrows it here."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from synthgov.loading import Loaded

ModelT = TypeVar("ModelT", bound=BaseModel)


def as_kind(loaded: Loaded[BaseModel], kind: type[ModelT]) -> Loaded[ModelT]:
    """`loaded` as a Loaded[kind], asserting that its model is one."""
    assert isinstance(loaded.model, kind), f"{type(loaded.model).__name__} is not a {kind.__name__}"
    return Loaded(loaded.model, loaded.document)
