"""The pipeline being defined right now, and the handles that stand for values inside it.

While a ``@pipeline`` function runs to build its IR, a `Builder` sits on a ContextVar; calling
a step records a step with the builder and returns a handle instead of running the function.
Handles are placeholders: they cannot be looked at, iterated or branched on, because their
values exist only when the pipeline runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NoReturn

from argosy import ir
from argosy.errors import PipelineError

_active: ContextVar[Builder | None] = ContextVar("argosy_pipeline_builder", default=None)


@dataclass
class Builder:
    """Collects the steps of one pipeline while its function runs."""

    pipeline: str
    parameters: dict[str, ir.Parameter]
    steps: list[ir.Step] = field(default_factory=list)
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    """Return annotation of each step, to tell list-valued outputs apart."""

    def unique_name(self, wanted: str) -> str:
        """``wanted``, or ``wanted_2``, ``wanted_3``... when a step is used more than once."""
        taken = {step.name for step in self.steps}
        name, n = wanted, 1
        while name in taken:
            n += 1
            name = f"{wanted}_{n}"
        return name

    def add(self, step: ir.Step, function: Callable[..., Any], returns: Any) -> None:
        self.steps.append(step)
        self.functions[step.name] = function
        self.annotations[step.name] = returns


def current() -> Builder | None:
    """The builder of the pipeline being defined, or None outside a pipeline definition."""
    return _active.get()


@contextmanager
def building(builder: Builder) -> Iterator[Builder]:
    token = _active.set(builder)
    try:
        yield builder
    finally:
        _active.reset(token)


@dataclass(frozen=True)
class Handle:
    """A value that exists only when the pipeline runs."""

    pipeline: str
    description: str

    def _refuse(self, what: str) -> NoReturn:
        raise PipelineError(
            f"{self.description} has no value while the pipeline is being defined, so it cannot "
            f"be {what}; do that inside a step, or fan out with step.map()",
            pipeline=self.pipeline,
        )

    def __bool__(self) -> bool:
        self._refuse("tested with if/and/or")

    def __iter__(self) -> NoReturn:
        self._refuse("iterated over")

    def __len__(self) -> int:
        self._refuse("measured with len()")

    def __getitem__(self, key: object) -> NoReturn:
        self._refuse("indexed")


@dataclass(frozen=True)
class ParameterHandle(Handle):
    """A pipeline parameter."""

    name: str


@dataclass(frozen=True)
class OutputHandle(Handle):
    """The output of an unmapped step."""

    step: str


@dataclass(frozen=True)
class FanInHandle(Handle):
    """The outputs of all tasks of a mapped step: a list in map order."""

    step: str


__all__ = [
    "Builder",
    "FanInHandle",
    "Handle",
    "OutputHandle",
    "ParameterHandle",
    "building",
    "current",
]
