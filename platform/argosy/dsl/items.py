"""``each(values).field``: a map that takes one field of each item (Hera's ``{{item.cpu}}``).

``train.map(lr=each(configs).lr, depth=each(configs).depth)`` fans out over ``configs`` (a list
of dicts, as a constant, a parameter or a step's output) and gives task i ``configs[i]["lr"]``
and ``configs[i]["depth"]``: the arguments are mapped together, item by item
(`ir.Step.item_fields`). The field is picked when the task runs, so only indices cross Argo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argosy.dsl._context import current
from argosy.dsl.handles import Handle
from argosy.errors import PipelineError


@dataclass(frozen=True)
class ItemField:
    """Field ``field`` of each item of ``source``: an argument of ``step.map(...)``."""

    source: Any
    """What is mapped over: a handle or a constant list."""
    field: str

    @property
    def description(self) -> str:
        return f"field {self.field!r} of each item"


class Each:
    """The items of a list, whose fields become mapped arguments: ``each(configs).lr``."""

    def __init__(self, source: Any) -> None:
        self._source = source

    def __getattr__(self, name: str) -> ItemField:
        if name.startswith("_"):
            raise AttributeError(name)
        return ItemField(self._source, name)

    def __getitem__(self, name: str) -> ItemField:
        if not isinstance(name, str):
            raise PipelineError(f"each(...)[{name!r}]: name a field of the items, as a string")
        return ItemField(self._source, name)


def each(values: Any) -> Each:
    """The items of ``values`` (a list, a list parameter, a step's list output or a fan-in), so
    that ``step.map(x=each(values).x)`` gives each task field ``x`` of its item."""
    if current() is None:
        raise PipelineError("each() picks fields of mapped items inside a @pipeline function")
    if isinstance(values, Each | ItemField):
        raise PipelineError("each() takes the list itself: each(configs).lr")
    if not isinstance(values, Handle | list):
        raise PipelineError(
            f"each() takes a list to map over, not a {type(values).__name__}",
            pipeline=current().pipeline,  # type: ignore[union-attr]
        )
    return Each(values)


__all__ = ["Each", "ItemField", "each"]
