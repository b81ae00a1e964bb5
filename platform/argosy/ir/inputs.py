"""Where a step's arguments come from (`Input`), and the conditions and outcomes it waits on."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, JsonValue

from argosy.errors import PipelineError
from argosy.ir.model import Model, empty


class ParameterInput(Model):
    """An argument bound to a pipeline parameter."""

    kind: Literal["parameter"] = "parameter"
    name: str


class OutputInput(Model):
    """An argument bound to the output of an upstream step that is not mapped."""

    kind: Literal["output"] = "output"
    step: str
    field: str | None = Field(default=None, exclude_if=empty)
    """One named output of that step (`Step.outputs`) rather than all of them."""

    def describe(self) -> str:
        return self.step if self.field is None else f"{self.step}.{self.field}"


class FanInInput(Model):
    """An argument bound to the outputs of every task of a mapped step, as a list in map order."""

    kind: Literal["fan_in"] = "fan_in"
    step: str
    field: str | None = Field(default=None, exclude_if=empty)
    """One named output of each of those tasks rather than all of them."""


class LiteralInput(Model):
    """An argument bound to a constant written in the pipeline definition."""

    kind: Literal["literal"] = "literal"
    value: JsonValue


class OneOfInput(Model):
    """An argument bound to the output of whichever of several steps ran (the join after an
    if/else): the first of ``steps``, in order, that succeeded."""

    kind: Literal["one_of"] = "one_of"
    steps: list[str] = Field(min_length=2)


class RunStatusInput(Model):
    """An argument bound to the run's outcome so far, ``"succeeded"`` or ``"failed"``: what an
    exit handler is told."""

    kind: Literal["run_status"] = "run_status"


class ImportInput(Model):
    """An argument bound to outside data the run imported when it started (`Pipeline.imports`):
    the step gets a local path to a copy of it, captured by content digest."""

    kind: Literal["import"] = "import"
    name: str


Input = Annotated[
    ParameterInput
    | OutputInput
    | FanInInput
    | LiteralInput
    | OneOfInput
    | RunStatusInput
    | ImportInput,
    Field(discriminator="kind"),
]

Subject = Annotated[ParameterInput | OutputInput, Field(discriminator="kind")]
"""What a condition or a run-time resource reads: a parameter, or an unmapped step's output."""

Operator = Literal["==", "!=", "<", "<=", ">", ">="]
_NEGATED: dict[str, Operator] = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


class Condition(Model):
    """``subject OP value``: a step runs only when it holds (Argo ``when``)."""

    subject: Subject
    op: Operator
    value: JsonValue

    def holds(self, actual: Any) -> bool:
        """Whether the condition holds for the subject's value ``actual``."""
        if self.op == "==":
            return bool(actual == self.value)
        if self.op == "!=":
            return bool(actual != self.value)
        try:
            return bool(_ORDER[self.op](actual, self.value))
        except TypeError:
            raise PipelineError(
                f"condition {self.describe()} cannot compare {actual!r} with {self.value!r}"
            ) from None

    def negated(self) -> Condition:
        return self.model_copy(update={"op": _NEGATED[self.op]})

    def describe(self) -> str:
        """The condition as a reader writes it: ``flip == 'heads'``."""
        subject = self.subject
        name = subject.name if isinstance(subject, ParameterInput) else subject.describe()
        return f"{name} {self.op} {self.value!r}"


_ORDER: dict[str, Any] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

Outcome = Literal["failed", "any_succeeded", "all_failed", "finished"]
"""What a step waits for of another besides success (`Step.runs_on`): it failed (any task, for
good); at least one task succeeded; every task failed; it finished in any way, skipped too."""


def steps_read(source: Input | Subject) -> list[str]:
    """The steps an input reads."""
    if isinstance(source, OutputInput | FanInInput):
        return [source.step]
    if isinstance(source, OneOfInput):
        return list(source.steps)
    return []


__all__ = [
    "Condition",
    "FanInInput",
    "ImportInput",
    "Input",
    "LiteralInput",
    "OneOfInput",
    "Operator",
    "Outcome",
    "OutputInput",
    "ParameterInput",
    "RunStatusInput",
    "Subject",
    "steps_read",
]
