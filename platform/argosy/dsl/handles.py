"""The handles that stand for values inside a pipeline being defined.

Handles are placeholders: they cannot be looked at, iterated or branched on, because their
values exist only when the pipeline runs. The handle of a step's output also orders steps that
pass no data: ``b.after(a)``, or ``a >> b``, makes ``b`` wait for ``a``; ``b.after(a,
on="failed")`` makes ``b`` a failure handler of ``a``; ``b.on_exit()`` an exit handler of the
run. Comparing a parameter or an output with a constant gives a `ConditionHandle`, which
``with when(...)`` (`argosy.dsl.flow`) turns into a condition on every step called in its block.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, NoReturn, Self, TypeVar

from argosy import ir
from argosy.dsl._context import Builder, current
from argosy.errors import PipelineError

T = TypeVar("T")


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

    def _arithmetic(self, *_: object) -> NoReturn:
        self._refuse("computed with (+ - * / // % **)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _arithmetic
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _arithmetic
    __mod__ = __rmod__ = __pow__ = __rpow__ = __neg__ = _arithmetic


class _Comparable:
    """A value conditions can test: ``x == "heads"`` is a `ConditionHandle`, not a bool."""

    pipeline: str
    description: str

    def subject(self) -> ir.OutputInput | ir.ParameterInput:
        raise NotImplementedError

    def _compare(self, op: ir.Operator, value: object) -> ConditionHandle:
        if isinstance(value, Handle):
            raise PipelineError(
                f"cannot compare {self.description} with {value.description}: a condition "
                "compares a value with a constant; compute the comparison in a step and test "
                "its output",
                pipeline=self.pipeline,
            )  # fmt: skip
        try:
            condition = ir.Condition(subject=self.subject(), op=op, value=value)  # type: ignore[arg-type]
        except ValueError:
            raise PipelineError(
                f"a condition on {self.description} compares with {value!r}, which is not a "
                "JSON value; compare with a number, string, boolean or None",
                pipeline=self.pipeline,
            ) from None  # fmt: skip
        return ConditionHandle(self.pipeline, condition)

    def __eq__(self, value: object) -> ConditionHandle:  # type: ignore[override]
        return self._compare("==", value)

    def __ne__(self, value: object) -> ConditionHandle:  # type: ignore[override]
        return self._compare("!=", value)

    def __lt__(self, value: object) -> ConditionHandle:
        return self._compare("<", value)

    def __le__(self, value: object) -> ConditionHandle:
        return self._compare("<=", value)

    def __gt__(self, value: object) -> ConditionHandle:
        return self._compare(">", value)

    def __ge__(self, value: object) -> ConditionHandle:
        return self._compare(">=", value)

    def __hash__(self) -> int:
        return hash((type(self), self.pipeline, self.description))


@dataclass(frozen=True, eq=False)
class ConditionHandle:
    """``value OP constant`` while a pipeline is defined: give it to ``with when(...)``."""

    pipeline: str
    condition: ir.Condition

    def __invert__(self) -> ConditionHandle:
        """The opposite condition, for the other branch: ``with when(~heads):``."""
        return ConditionHandle(self.pipeline, self.condition.negated())

    def __bool__(self) -> bool:
        raise PipelineError(
            f"the condition {self.condition.describe()} has no value while the pipeline is being "
            "defined, so `if` cannot test it; write `with argosy.when(...):` around the steps "
            "that run only when it holds",
            pipeline=self.pipeline,
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class ParameterHandle(_Comparable, Handle):
    """A pipeline parameter."""

    name: str

    def subject(self) -> ir.ParameterInput:
        return ir.ParameterInput(name=self.name)


_OUTCOMES: tuple[ir.Outcome, ...] = ("failed", "any_succeeded", "all_failed", "finished")


@dataclass(frozen=True)
class StepHandle(Handle):
    """What a step call returns: its output, and the step to order others around.

    A step returning a NamedTuple or a dataclass has named outputs: ``out.model`` (or
    ``out["model"]``) is the handle of that one output, which a step can read alone.
    """

    step: str
    outputs: tuple[str, ...] = ()
    """The step's named outputs (none when it returns one value)."""
    field: str | None = None
    """The named output this handle stands for, or None for the whole output."""

    def __getattr__(self, name: str) -> Self:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.output(name)

    def __getitem__(self, key: object) -> Self:
        if not isinstance(key, str):
            self._refuse("indexed by position; name an output (out.model or out['model'])")
        return self.output(key)

    def output(self, name: str) -> Self:
        """The handle of the step's named output ``name``."""
        where = {"pipeline": self.pipeline, "step": self.step}
        if self.field is not None:
            raise PipelineError(
                f"{self.description} is one output already; it has no output {name!r}", **where
            )
        if name not in self.outputs:
            if not self.outputs:
                raise PipelineError(
                    f"returns one value, so it has no output {name!r}; to name several, annotate "
                    "its return type with a NamedTuple or a dataclass",
                    **where,
                )
            raise PipelineError(
                f"has no output {name!r}; its outputs are {', '.join(self.outputs)}", **where
            )
        described = "output" if isinstance(self, OutputHandle) else "outputs (one per task)"
        return replace(self, field=name, description=f"{described} {name!r} of step {self.step!r}")

    def _builder(self, method: str) -> Builder:
        builder = current()
        if builder is None or builder.pipeline != self.pipeline:
            raise PipelineError(
                f".{method}() works while the @pipeline function of this step is being defined",
                pipeline=self.pipeline, step=self.step,
            )  # fmt: skip
        return builder

    def after(
        self,
        *others: StepHandle | list[StepHandle],
        on: ir.Outcome | Literal["succeeded"] = ("succeeded"),
    ) -> Self:
        """Run this step only once every step in ``others`` has succeeded; returns this handle.

        Nothing passes between them; a mapped step waits for all its tasks, and is waited for
        as a whole. When one of them fails, this step is skipped, like a step reading it.
        ``on`` waits for another outcome: ``"failed"`` (a failure handler: it runs only when
        they failed), ``"any_succeeded"`` or ``"all_failed"`` (of a map's tasks), or
        ``"finished"`` (whatever happened, skipped included).
        """
        builder = self._builder("after")
        if on != "succeeded" and on not in _OUTCOMES:
            raise PipelineError(
                f"after(..., on={on!r}) is not an outcome; use one of succeeded, "
                f"{', '.join(_OUTCOMES)}",
                pipeline=self.pipeline, step=self.step,
            )  # fmt: skip
        before = []
        for other in _flatten(others):
            if not isinstance(other, StepHandle) or other.pipeline != self.pipeline:
                raise PipelineError(
                    f"cannot run after {described(other)}; .after() and >> take what calls "
                    "of steps of this pipeline return (or lists of them)",
                    pipeline=self.pipeline, step=self.step,
                )  # fmt: skip
            before.append(other.step)
        builder.order(self.step, before, None if on == "succeeded" else on)
        return self

    def on_exit(self) -> Self:
        """Make this step an exit handler: it runs once every other step of the run has ended,
        whether the run succeeded or not (Argo ``onExit``, KFP ``ExitHandler``). Give it
        ``argosy.run_status()`` as an argument to learn how the run went."""
        builder = self._builder("on_exit")
        for step in builder.steps:
            if self.step in step.upstream and not step.exit:
                raise PipelineError(
                    f"cannot become an exit handler: step {step.name!r} waits for it; make this "
                    "the last thing the pipeline does",
                    pipeline=self.pipeline, step=self.step,
                )  # fmt: skip
        builder.update(self.step, exit=True)
        return self

    def with_resources(
        self,
        *,
        cpu: Handle | float | str | None = None,
        memory: Handle | str | None = None,
        gpu: Handle | int | None = None,
    ) -> Self:
        """Resources of this call decided when it runs: each a pipeline parameter, the output of
        an unmapped step, or for a mapped step the fan-in of another map over the same items
        (task i gets item i); constants are taken as they are. Returns this handle."""
        builder = self._builder("with_resources")
        step = next(s for s in builder.steps if s.name == self.step)
        static: dict[str, Any] = {}
        dynamic = dict(step.resources_from)
        for name, value in (("cpu", cpu), ("memory", memory), ("gpu", gpu)):
            if value is None:
                continue
            if isinstance(value, Handle):
                dynamic[name] = _resource_source(self, name, value)
            else:
                static[name] = value
        try:
            resources = ir.Resources.model_validate({**step.resources.model_dump(), **static})
        except ValueError as error:
            raise PipelineError(
                f"bad resources: {error}", pipeline=self.pipeline, step=self.step
            ) from None
        builder.update(self.step, resources=resources, resources_from=dynamic)
        return self

    def __rshift__(self, then: T) -> T:
        """``a >> b``: ``b`` runs after ``a``; ``a >> [b, c]``: both do. Returns ``then``."""
        for handle in _flatten([then]):
            if not isinstance(handle, StepHandle):
                raise PipelineError(
                    f"cannot order {described(handle)} after step {self.step!r}; >> takes "
                    "what calls of steps return (or lists of them)",
                    pipeline=self.pipeline,
                )  # fmt: skip
            handle.after(self)
        return then

    def __rrshift__(self, first: list[StepHandle]) -> Self:
        """``[a, b] >> c``: ``c`` runs after ``a`` and ``b``."""
        return self.after(first)


def described(value: object) -> str:
    return value.description if isinstance(value, Handle) else repr(value)


def _flatten(values: Iterable[object]) -> list[object]:
    """Handles in ``values``, lists and tuples of them opened one level."""
    return [
        item for value in values for item in (value if isinstance(value, list | tuple) else [value])
    ]


def _resource_source(handle: StepHandle, name: str, value: Handle) -> ir.Subject | ir.FanInInput:
    if isinstance(value, ParameterHandle):
        return ir.ParameterInput(name=value.name)
    if isinstance(value, OutputHandle):
        return ir.OutputInput(step=value.step, field=value.field)
    if isinstance(value, FanInHandle):
        return ir.FanInInput(step=value.step, field=value.field)
    raise PipelineError(
        f"cannot take {name} from {value.description}; give a parameter, a step's output, or "
        "a map's fan-in",
        pipeline=handle.pipeline, step=handle.step, argument=name,
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class OutputHandle(_Comparable, StepHandle):
    """The output of an unmapped step."""

    def subject(self) -> ir.OutputInput:
        return ir.OutputInput(step=self.step, field=self.field)


@dataclass(frozen=True)
class FanInHandle(StepHandle):
    """The outputs of all tasks of a mapped step: a list in map order."""


HANDLE_ATTRIBUTES = frozenset(
    {name for name in dir(OutputHandle) + dir(FanInHandle) if not name.startswith("_")}
    | {f.name for f in fields(OutputHandle)}
)
"""Names a step's outputs cannot take: ``out.<name>`` is the handle's own attribute."""

__all__ = [
    "HANDLE_ATTRIBUTES",
    "ConditionHandle",
    "FanInHandle",
    "Handle",
    "OutputHandle",
    "ParameterHandle",
    "StepHandle",
    "described",
]
