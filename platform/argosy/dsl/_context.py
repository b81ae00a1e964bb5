"""The pipeline being defined right now, and the handles that stand for values inside it.

While a ``@pipeline`` function runs to build its IR, a `Builder` sits on a ContextVar; calling
a step records a step with the builder and returns a handle instead of running the function.
Handles are placeholders: they cannot be looked at, iterated or branched on, because their
values exist only when the pipeline runs. The handle of a step's output also orders steps that
pass no data: ``b.after(a)``, or ``a >> b``, makes ``b`` wait for ``a``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NoReturn, Self, TypeVar

from argosy import ir
from argosy.errors import PipelineError

T = TypeVar("T")

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

    def claim_name(self, name: str) -> str:
        """``name``, given with ``step.named(name)``; PipelineError if invalid or taken."""
        if not ir.NAME_PATTERN.match(name):
            raise PipelineError(
                "is not a valid step name: start with a lower-case letter, then lower-case "
                "letters, digits and underscores (63 characters at most)",
                pipeline=self.pipeline, step=name,
            )  # fmt: skip
        if any(step.name == name for step in self.steps):
            raise PipelineError(
                "is already the name of a step of this pipeline; give this call another one "
                "with .named(...)",
                pipeline=self.pipeline, step=name,
            )  # fmt: skip
        return name

    def order(self, name: str, before: list[str]) -> None:
        """Make step ``name`` wait for the steps ``before``; PipelineError on a cycle."""
        steps = {step.name: step for step in self.steps}
        for other in before:
            cycle = ir.waiting_chain(steps, other, name)
            if cycle:
                raise PipelineError(
                    f"cannot run after step {other!r}, which waits for it: "
                    f"{' -> '.join([name, *cycle])} would be a cycle",
                    pipeline=self.pipeline, step=name,
                )  # fmt: skip
        index = next(i for i, step in enumerate(self.steps) if step.name == name)
        after = self.steps[index].after
        update = after + [other for other in before if other not in after]
        self.steps[index] = self.steps[index].model_copy(update={"after": update})

    def ordered_steps(self) -> list[ir.Step]:
        """The steps in definition order, moved only as far as `after` needs: upstream first."""
        steps = {step.name: step for step in self.steps}
        placed: dict[str, ir.Step] = {}

        def place(step: ir.Step) -> None:
            for upstream in step.upstream:
                if upstream not in placed:
                    place(steps[upstream])
            placed[step.name] = step

        for step in self.steps:
            if step.name not in placed:
                place(step)
        return list(placed.values())

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
class StepHandle(Handle):
    """What a step call returns: its output, and the step to order others around."""

    step: str

    def after(self, *others: StepHandle | list[StepHandle]) -> Self:
        """Run this step only once every step in ``others`` has succeeded; returns this handle.

        Nothing passes between them; a mapped step waits for all its tasks, and is waited for
        as a whole. When one of them fails, this step is skipped, like a step reading it.
        """
        builder = current()
        if builder is None or builder.pipeline != self.pipeline:
            raise PipelineError(
                ".after() orders steps while their @pipeline function is being defined",
                pipeline=self.pipeline, step=self.step,
            )  # fmt: skip
        before = []
        for other in _flatten(others):
            if not isinstance(other, StepHandle) or other.pipeline != self.pipeline:
                raise PipelineError(
                    f"cannot run after {_described(other)}; .after() and >> take what calls "
                    "of steps of this pipeline return (or lists of them)",
                    pipeline=self.pipeline, step=self.step,
                )  # fmt: skip
            before.append(other.step)
        builder.order(self.step, before)
        return self

    def __rshift__(self, then: T) -> T:
        """``a >> b``: ``b`` runs after ``a``; ``a >> [b, c]``: both do. Returns ``then``."""
        for handle in _flatten([then]):
            if not isinstance(handle, StepHandle):
                raise PipelineError(
                    f"cannot order {_described(handle)} after step {self.step!r}; >> takes "
                    "what calls of steps return (or lists of them)",
                    pipeline=self.pipeline,
                )  # fmt: skip
            handle.after(self)
        return then

    def __rrshift__(self, first: list[StepHandle]) -> Self:
        """``[a, b] >> c``: ``c`` runs after ``a`` and ``b``."""
        return self.after(first)


def _described(value: object) -> str:
    return value.description if isinstance(value, Handle) else repr(value)


def _flatten(values: Iterable[object]) -> list[object]:
    """Handles in ``values``, lists and tuples of them opened one level."""
    return [
        item for value in values for item in (value if isinstance(value, list | tuple) else [value])
    ]


@dataclass(frozen=True)
class OutputHandle(StepHandle):
    """The output of an unmapped step."""


@dataclass(frozen=True)
class FanInHandle(StepHandle):
    """The outputs of all tasks of a mapped step: a list in map order."""


__all__ = [
    "Builder",
    "FanInHandle",
    "Handle",
    "OutputHandle",
    "ParameterHandle",
    "StepHandle",
    "building",
    "current",
]
