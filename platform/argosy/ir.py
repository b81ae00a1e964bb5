"""The pipeline intermediate representation: what a pipeline *is*, as plain data.

`dsl` builds it, `backends/local` schedules it, `backends/argo` compiles it and `runtime`
executes one step of it. It imports nothing else of Argosy's but `errors` and `quantities`, and
validates itself on construction, so a `Pipeline` that exists is a well-formed DAG whose errors,
when it is not, name the pipeline, the step and the argument at fault.

Models are frozen and JSON round-trip exactly; `Pipeline.digest()` is the sha256 of canonical
JSON and serves as the pipeline version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from argosy import quantities
from argosy.errors import PipelineError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
"""Step and parameter names: Python identifiers in lower case, short enough for Kubernetes."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _empty(value: Any) -> bool:
    """Whether an optional field holds nothing (left out of the JSON, keeping digests)."""
    return value is None or value is False or not value


class Resources(_Model):
    """What one task of a step needs from the machine or the cluster."""

    cpu: float = 1.0
    """CPU cores (or millicores, ``"500m"``); the local backend gives a task ``ceil(cpu)`` slots."""
    memory: str | None = None
    """Kubernetes memory quantity (``"4Gi"``); requested and limited on the cluster."""
    gpu: int = 0
    """Number of GPUs (``nvidia.com/gpu`` on the cluster, ``CUDA_VISIBLE_DEVICES`` locally)."""
    gpu_type: str | None = None
    """Name of a GPU profile (node selector and tolerations come from configuration)."""

    @field_validator("cpu", mode="before")
    @classmethod
    def _cores(cls, cpu: Any) -> Any:
        return quantities.cpu_cores(cpu) if isinstance(cpu, str) else cpu

    @model_validator(mode="after")
    def _check(self) -> Resources:
        if self.cpu <= 0:
            raise ValueError(f"cpu must be positive, got {self.cpu}")
        if self.gpu < 0:
            raise ValueError(f"gpu must be zero or more, got {self.gpu}")
        if self.gpu_type is not None and self.gpu == 0:
            raise ValueError(f"gpu_type={self.gpu_type!r} given but gpu=0; ask for gpu=1 or more")
        if self.memory is not None:
            quantities.memory_bytes(self.memory)
        return self

    @property
    def memory_bytes(self) -> int | None:
        """The memory request in bytes, or None when none was given."""
        return None if self.memory is None else quantities.memory_bytes(self.memory)


class Retry(_Model):
    """How often a failed task is tried again, and how long to wait between tries."""

    limit: int = 0
    """Retries after the first attempt (so ``limit + 1`` attempts at most)."""
    backoff_seconds: float = 1.0
    """Wait before the first retry."""
    backoff_factor: float = 2.0
    """Each further wait is the previous one times this."""
    max_backoff_seconds: float = 300.0
    """No wait is longer than this."""

    def own(self, attempt: int) -> int:
        """The try of a task that attempt number ``attempt`` is: a sub-pipeline run again as
        a whole numbers its tasks' attempts on, ``limit + 1`` per run of it."""
        return attempt % (self.limit + 1)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (1 is the first retry)."""
        if attempt <= 0:
            return 0.0
        return min(
            self.backoff_seconds * self.backoff_factor ** (attempt - 1), self.max_backoff_seconds
        )


class ParameterInput(_Model):
    """An argument bound to a pipeline parameter."""

    kind: Literal["parameter"] = "parameter"
    name: str


class OutputInput(_Model):
    """An argument bound to the output of an upstream step that is not mapped."""

    kind: Literal["output"] = "output"
    step: str


class FanInInput(_Model):
    """An argument bound to the outputs of every task of a mapped step, as a list in map order."""

    kind: Literal["fan_in"] = "fan_in"
    step: str


class LiteralInput(_Model):
    """An argument bound to a constant written in the pipeline definition."""

    kind: Literal["literal"] = "literal"
    value: JsonValue


class OneOfInput(_Model):
    """An argument bound to the output of whichever of several steps ran (the join after an
    if/else): the first of ``steps``, in order, that succeeded."""

    kind: Literal["one_of"] = "one_of"
    steps: list[str] = Field(min_length=2)


class RunStatusInput(_Model):
    """An argument bound to the run's outcome so far, ``"succeeded"`` or ``"failed"``: what an
    exit handler is told."""

    kind: Literal["run_status"] = "run_status"


Input = Annotated[
    ParameterInput | OutputInput | FanInInput | LiteralInput | OneOfInput | RunStatusInput,
    Field(discriminator="kind"),
]

Subject = Annotated[ParameterInput | OutputInput, Field(discriminator="kind")]
"""What a condition or a run-time resource reads: a parameter, or an unmapped step's output."""

Operator = Literal["==", "!=", "<", "<=", ">", ">="]
_NEGATED: dict[str, Operator] = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


class Condition(_Model):
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
        name = subject.name if isinstance(subject, ParameterInput) else subject.step
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

RESOURCE_FIELDS = ("cpu", "memory", "gpu")


class Parameter(_Model):
    """A typed pipeline parameter, settable per run."""

    name: str
    json_schema: dict[str, Any] = Field(default_factory=dict)
    """JSON schema of the accepted values (from the Python annotation)."""
    default: JsonValue = None
    required: bool = False
    """True when the parameter has no default and must be given."""


class Step(_Model):
    """One step of a pipeline: a function, where its arguments come from, how it runs."""

    name: str
    function: str
    """Where the code lives, ``module:qualname``."""
    code_digest: str
    """sha256 of the function's source; part of the cache key."""
    inputs: dict[str, Input] = Field(default_factory=dict)
    mapped: str | None = None
    """The argument that is fanned out over (one task per item), or None for one task."""
    resources: Resources = Field(default_factory=Resources)
    retry: Retry = Field(default_factory=Retry)
    timeout_seconds: float | None = None
    image: str | None = None
    cache: bool = False
    description: str = ""
    after: list[str] = Field(default_factory=list, exclude_if=_empty)
    """Steps that must succeed first although this step reads nothing of theirs (ordering only).
    This and the fields below are left out of the JSON while empty (or off), so a pipeline that
    does not use them keeps its digest."""
    runs_on: dict[str, Outcome] = Field(default_factory=dict, exclude_if=_empty)
    """Steps this one waits for with another outcome than success: it runs when each of them
    ended so (``on_failure`` handlers, ``any_succeeded`` after a fan-out)."""
    when: list[Condition] = Field(default_factory=list, exclude_if=_empty)
    """Conditions that must all hold, or the step is skipped (and what needs it with it)."""
    catch: bool = Field(default=False, exclude_if=_empty)
    """A task that fails for good is recorded ``caught``, its output is None, and the run goes
    on as if it had succeeded (Metaflow ``@catch``)."""
    exit: bool = Field(default=False, exclude_if=_empty)
    """An exit handler: runs once every other step has ended, whatever the run's outcome."""
    map_with: list[str] = Field(default_factory=list, exclude_if=_empty)
    """Further mapped arguments, taken item by item with `mapped` (zip) or crossed with it."""
    map_product: bool = Field(default=False, exclude_if=_empty)
    """The mapped arguments are crossed (one task per combination, the last varying fastest)
    rather than zipped."""
    max_parallel: int | None = Field(default=None, exclude_if=_empty)
    """At most this many tasks of this step at once."""
    group: str | None = Field(default=None, exclude_if=_empty)
    """The sub-pipeline call this step belongs to (`Pipeline.groups`), retried as a whole."""
    resources_from: dict[str, Subject | FanInInput] = Field(default_factory=dict, exclude_if=_empty)
    """Resources decided at run time (``cpu``, ``memory``, ``gpu``), overriding `resources`:
    the value of a parameter or an upstream output, or a fan-in read item by item."""

    @property
    def upstream(self) -> list[str]:
        """Steps that must end first: those it reads in argument order, then `after`, `runs_on`,
        the subjects of `when` and `resources_from`; each once."""
        names: list[str] = []
        sources = [*self.inputs.values(), *(c.subject for c in self.when)]
        for source in [*sources, *self.resources_from.values()]:
            names += _steps_read(source)
        names += self.after + list(self.runs_on)
        return list(dict.fromkeys(names))

    def outcome(self, upstream: str) -> Outcome | Literal["succeeded", "one_of"]:
        """What this step needs of the step ``upstream``: success unless `runs_on` says
        otherwise; ``one_of`` when it only reads it in a join (it may have been skipped)."""
        if upstream in self.runs_on:
            return self.runs_on[upstream]
        needed = {
            step
            for source in [*self.inputs.values(), *(c.subject for c in self.when)]
            for step in _steps_read(source)
            if not isinstance(source, OneOfInput)
        }
        if upstream in needed or upstream in self.after or upstream in self.resources_from_steps:
            return "succeeded"
        return "one_of"

    @property
    def resources_from_steps(self) -> list[str]:
        return [s for source in self.resources_from.values() for s in _steps_read(source)]

    @property
    def mapped_arguments(self) -> list[str]:
        """Every mapped argument, `mapped` first; empty for an unmapped step."""
        return [] if self.mapped is None else [self.mapped, *self.map_with]

    @property
    def mapped_input(self) -> Input | None:
        """The source of the (first) mapped argument, if this step is mapped."""
        return None if self.mapped is None else self.inputs[self.mapped]

    def items(self, index: int, lengths: list[int]) -> dict[str, int]:
        """The item of each mapped argument task ``index`` takes, given their ``lengths``."""
        arguments = self.mapped_arguments
        if not self.map_product:
            return dict.fromkeys(arguments, index)
        items: dict[str, int] = {}
        for argument, length in zip(reversed(arguments), reversed(lengths), strict=True):
            index, items[argument] = divmod(index, length)
        return {argument: items[argument] for argument in arguments}


def _steps_read(source: Input | Subject) -> list[str]:
    """The steps an input reads."""
    if isinstance(source, OutputInput | FanInInput):
        return [source.step]
    if isinstance(source, OneOfInput):
        return list(source.steps)
    return []


class Group(_Model):
    """A sub-pipeline called as one step of another: its steps run as a unit that is retried
    as a whole (every step of it again) when one of its branches fails."""

    name: str
    """The call's name; its steps are named ``<name>__<step>``."""
    pipeline: str
    """The name of the pipeline called."""
    retry: Retry = Field(default_factory=Retry)


GROUP_SEPARATOR = "__"
"""Between a sub-pipeline call's name and the names of its steps."""


class Pipeline(_Model):
    """A validated DAG of steps, in topological order."""

    name: str
    description: str = ""
    parameters: list[Parameter] = Field(default_factory=list)
    steps: list[Step]
    output: str | None = None
    """The step whose output is the pipeline's result."""
    max_parallel: int | None = None
    """At most this many tasks at once (Argo ``parallelism``; local worker cap)."""
    allow_pickle: bool = False
    """Steps may receive inputs stored with pickle (fitted models): unpickling runs code, so
    only for pipelines whose steps' outputs are trusted. Loads outside the run (`Client`,
    `argosy.store.load`) still ask for ``allow_pickle=True`` themselves."""
    groups: list[Group] = Field(default_factory=list, exclude_if=_empty)
    """Sub-pipelines called as steps (left out of the JSON while there are none)."""

    @model_validator(mode="after")
    def _check_graph(self) -> Pipeline:
        _validate(self)
        return self

    @cached_property
    def steps_by_name(self) -> dict[str, Step]:
        return {step.name: step for step in self.steps}

    def step(self, name: str) -> Step:
        """The step called ``name``; PipelineError if there is none."""
        try:
            return self.steps_by_name[name]
        except KeyError:
            known = ", ".join(self.steps_by_name) or "none"
            raise PipelineError(
                f"no such step; steps are: {known}", pipeline=self.name, step=name
            ) from None

    def group_steps(self, group: str) -> list[Step]:
        """The steps of sub-pipeline call ``group``, in order."""
        return [step for step in self.steps if step.group == group]

    def downstream(self, name: str) -> list[str]:
        """Steps that read the output of ``name`` or run after it, directly."""
        return [step.name for step in self.steps if name in step.upstream]

    def canonical_json(self) -> str:
        """JSON with sorted keys and no whitespace: the input of `digest`."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """A stable content digest: the pipeline version."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def _validate(pipeline: Pipeline) -> None:
    """Raise PipelineError unless the pipeline is a well-formed DAG in topological order."""
    name = pipeline.name
    if not NAME_PATTERN.match(name):
        raise PipelineError(_bad_name("pipeline name"), pipeline=name)
    if not pipeline.steps:
        raise PipelineError("a pipeline needs at least one step", pipeline=name)
    if pipeline.max_parallel is not None and pipeline.max_parallel < 1:
        raise PipelineError("max_parallel must be 1 or more", pipeline=name)
    parameters = {p.name for p in pipeline.parameters}
    for parameter in pipeline.parameters:
        if not NAME_PATTERN.match(parameter.name):
            raise PipelineError(_bad_name("parameter name"), pipeline=name, argument=parameter.name)
    seen: dict[str, Step] = {}
    for step in pipeline.steps:
        if not NAME_PATTERN.match(step.name):
            raise PipelineError(_bad_name("step name"), pipeline=name, step=step.name)
        if step.name in seen:
            raise PipelineError("two steps share this name", pipeline=name, step=step.name)
        for argument, source in step.inputs.items():
            _check_input(pipeline, step, argument, source, parameters, seen)
        for before in [*step.after, *step.runs_on]:
            _check_after(pipeline, step, before, seen)
        for condition in step.when:
            _check_input(pipeline, step, None, condition.subject, parameters, seen)
        _check_mapping(pipeline, step)
        _check_resources_from(pipeline, step, parameters, seen)
        _check_exit(pipeline, step, seen)
        if step.timeout_seconds is not None and step.timeout_seconds <= 0:
            raise PipelineError("timeout must be positive", pipeline=name, step=step.name)
        if step.retry.limit < 0:
            raise PipelineError("retries must be zero or more", pipeline=name, step=step.name)
        seen[step.name] = step
    _check_groups(pipeline)
    if pipeline.output is not None and pipeline.output not in seen:
        raise PipelineError(
            f"the pipeline's output names unknown step {pipeline.output!r}", pipeline=name
        )


def _check_input(
    pipeline: Pipeline,
    step: Step,
    argument: str | None,
    source: Input,
    parameters: set[str],
    earlier: dict[str, Step],
) -> None:
    where = {"pipeline": pipeline.name, "step": step.name, "argument": argument}
    if isinstance(source, ParameterInput) and source.name not in parameters:
        raise PipelineError(f"reads unknown pipeline parameter {source.name!r}", **where)
    if isinstance(source, RunStatusInput) and not step.exit:
        raise PipelineError(
            "reads the run's status, which only an exit handler (.on_exit()) is given", **where
        )
    for read in _steps_read(source):
        upstream = earlier.get(read)
        if upstream is None:
            raise PipelineError(
                f"reads step {read!r}, which is not defined before it (unknown step, or a cycle)",
                **where,
            )
        if not isinstance(source, FanInInput) and upstream.mapped is not None:
            raise PipelineError(f"step {read!r} is mapped; read it as a fan-in list", **where)
        if isinstance(source, FanInInput) and upstream.mapped is None:
            raise PipelineError(f"step {read!r} is not mapped; it has no fan-in", **where)
    if (
        argument in step.mapped_arguments
        and isinstance(source, LiteralInput)
        and not isinstance(source.value, list)
    ):
        raise PipelineError(
            f"is mapped over, but its value is a {type(source.value).__name__}, not a list", **where
        )


def _check_mapping(pipeline: Pipeline, step: Step) -> None:
    where = {"pipeline": pipeline.name, "step": step.name}
    for argument in step.mapped_arguments:
        if argument not in step.inputs:
            raise PipelineError(
                "the mapped argument is not one of the step's inputs", argument=argument, **where
            )
        if isinstance(step.inputs[argument], OneOfInput | RunStatusInput):
            raise PipelineError(
                "is mapped over, but a join or the run's status is not a list to map over",
                argument=argument, **where,
            )  # fmt: skip
    if len(set(step.mapped_arguments)) < len(step.mapped_arguments):
        raise PipelineError("an argument is mapped over twice", **where)
    if step.map_product and not step.map_with:
        raise PipelineError("a product map needs two or more mapped arguments", **where)
    if step.max_parallel is not None:
        if step.mapped is None:
            raise PipelineError(
                "max_parallel limits the tasks of a map; this step is not mapped (set it on "
                "the pipeline instead)",
                **where,
            )
        if step.max_parallel < 1:
            raise PipelineError("max_parallel must be 1 or more", **where)


def _check_resources_from(
    pipeline: Pipeline, step: Step, parameters: set[str], earlier: dict[str, Step]
) -> None:
    for field_name, source in step.resources_from.items():
        where = {"pipeline": pipeline.name, "step": step.name, "argument": field_name}
        if field_name not in RESOURCE_FIELDS:
            raise PipelineError(
                f"is not a resource decided at run time; those are {', '.join(RESOURCE_FIELDS)}",
                **where,
            )
        if isinstance(source, FanInInput) and step.mapped is None:
            raise PipelineError(
                f"takes a resource item by item from the fan-in of {source.step!r}, but this step "
                "is not mapped; pass an unmapped step's output or a parameter",
                **where,
            )
        _check_input(pipeline, step, field_name, source, parameters, earlier)


def _check_groups(pipeline: Pipeline) -> None:
    groups = {group.name: group for group in pipeline.groups}
    if len(groups) < len(pipeline.groups):
        raise PipelineError("two sub-pipeline calls share a name", pipeline=pipeline.name)
    for group in pipeline.groups:
        if not NAME_PATTERN.match(group.name) or group.name in pipeline.steps_by_name:
            raise PipelineError(
                f"sub-pipeline call {group.name!r} needs a valid name no step has",
                pipeline=pipeline.name,
            )
        if group.retry.limit < 0:
            raise PipelineError(
                f"sub-pipeline call {group.name!r}: retries must be zero or more",
                pipeline=pipeline.name,
            )
    for step in pipeline.steps:
        if step.group is None:
            continue
        where = {"pipeline": pipeline.name, "step": step.name}
        if step.group not in groups:
            raise PipelineError(f"belongs to unknown sub-pipeline call {step.group!r}", **where)
        if step.exit:
            raise PipelineError(
                "is an exit handler inside a sub-pipeline; make exit handlers in the pipeline "
                "that is run",
                **where,
            )


def _check_exit(pipeline: Pipeline, step: Step, earlier: dict[str, Step]) -> None:
    if step.exit:
        return
    for upstream in step.upstream:
        if upstream in earlier and earlier[upstream].exit:
            raise PipelineError(
                f"waits for exit handler {upstream!r}; only other exit handlers may (an exit "
                "handler runs once everything else has ended)",
                pipeline=pipeline.name, step=step.name,
            )  # fmt: skip


def _check_after(pipeline: Pipeline, step: Step, before: str, earlier: dict[str, Step]) -> None:
    where = {"pipeline": pipeline.name, "step": step.name}
    if before in earlier:
        return
    if before not in pipeline.steps_by_name:
        raise PipelineError(f"runs after unknown step {before!r}", **where)
    cycle = waiting_chain(pipeline.steps_by_name, before, step.name)
    if cycle:
        raise PipelineError(
            f"runs after step {before!r}, which itself waits for it: a cycle "
            f"({' -> '.join([step.name, *cycle])}, each waiting for the next)",
            **where,
        )
    raise PipelineError(f"runs after step {before!r}, which is listed after it", **where)


def waiting_chain(steps: Mapping[str, Step], start: str, goal: str) -> list[str]:
    """Steps from ``start`` to ``goal``, each waiting for the next (`Step.upstream`), or []."""
    stack: list[list[str]] = [[start]]
    seen: set[str] = set()
    while stack:
        chain = stack.pop()
        if chain[-1] == goal:
            return chain
        step = steps.get(chain[-1])
        for upstream in [] if step is None else step.upstream:
            if upstream not in seen:
                seen.add(upstream)
                stack.append([*chain, upstream])
    return []


def _bad_name(what: str) -> str:
    return (
        f"a {what} must start with a lower-case letter and hold only lower-case letters, "
        "digits and underscores (63 characters at most)"
    )


__all__ = [
    "GROUP_SEPARATOR",
    "NAME_PATTERN",
    "RESOURCE_FIELDS",
    "Condition",
    "FanInInput",
    "Group",
    "Input",
    "LiteralInput",
    "OneOfInput",
    "Operator",
    "Outcome",
    "OutputInput",
    "Parameter",
    "ParameterInput",
    "Pipeline",
    "Resources",
    "Retry",
    "RunStatusInput",
    "Step",
    "Subject",
    "waiting_chain",
]
