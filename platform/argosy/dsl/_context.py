"""The pipeline being defined right now: a `Builder` on a ContextVar.

While a ``@pipeline`` function runs to build its IR, a `Builder` sits on a ContextVar; calling
a step records a step with the builder and returns a handle (`argosy.dsl.handles`) instead of
running the function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

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
    conditions: list[ir.Condition] = field(default_factory=list)
    """The conditions of the ``with when(...)`` blocks being defined, outermost first."""
    groups: list[ir.Group] = field(default_factory=list)
    """The sub-pipelines called so far."""
    calls: list[str] = field(default_factory=list)
    """The sub-pipeline calls being defined, outermost first: their names prefix step names."""
    imports: list[ir.Import] = field(default_factory=list)
    """The outside data the pipeline imports (`argosy.importer`)."""

    @property
    def group(self) -> str | None:
        """The sub-pipeline call the steps being defined belong to (the outermost one)."""
        return self.calls[0] if self.calls else None

    def unique_name(self, wanted: str) -> str:
        """``wanted`` (after the names of the sub-pipeline calls being defined), or
        ``wanted_2``, ``wanted_3``... when a step or a sub-pipeline is used more than once."""
        taken = {step.name for step in self.steps} | {group.name for group in self.groups}
        base = "".join(f"{call}{ir.GROUP_SEPARATOR}" for call in self.calls[-1:]) + wanted
        name, n = base, 1
        while name in taken or name in self.calls:
            n += 1
            name = f"{base}_{n}"
        return name

    def claim_name(self, name: str) -> str:
        """``name``, given with ``step.named(name)``; PipelineError if invalid or taken."""
        name = "".join(f"{call}{ir.GROUP_SEPARATOR}" for call in self.calls[-1:]) + name
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

    @contextmanager
    def calling(self, name: str, pipeline: str, retry: ir.Retry) -> Iterator[None]:
        """Steps defined in this block belong to the sub-pipeline call ``name``; a call inside
        another one runs as part of the outer one (its steps only get the longer name)."""
        if not self.calls:
            self.groups.append(ir.Group(name=name, pipeline=pipeline, retry=retry))
        self.calls.append(name)
        try:
            yield
        finally:
            self.calls.pop()

    def order(self, name: str, before: list[str], on: ir.Outcome | None = None) -> None:
        """Make step ``name`` wait for the steps ``before`` to succeed (or end as ``on`` says);
        PipelineError on a cycle."""
        steps = {step.name: step for step in self.steps}
        for other in before:
            cycle = ir.waiting_chain(steps, other, name)
            if cycle:
                raise PipelineError(
                    f"cannot run after step {other!r}, which waits for it: "
                    f"{' -> '.join([name, *cycle])} would be a cycle",
                    pipeline=self.pipeline, step=name,
                )  # fmt: skip
        step = steps[name]
        if on is None:
            self.update(name, after=step.after + [o for o in before if o not in step.after])
        else:
            self.update(name, runs_on={**step.runs_on, **dict.fromkeys(before, on)})

    def update(self, name: str, **changes: Any) -> None:
        """Change fields of the recorded step ``name`` (validated as a whole when built)."""
        index = next(i for i, step in enumerate(self.steps) if step.name == name)
        self.steps[index] = self.steps[index].model_copy(update=changes)

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


__all__ = ["Builder", "building", "current"]
