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


Input = Annotated[
    ParameterInput | OutputInput | FanInInput | LiteralInput, Field(discriminator="kind")
]


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
    after: list[str] = Field(default_factory=list, exclude_if=lambda names: not names)
    """Steps that must finish first although this step reads nothing of theirs (ordering only).
    Left out of the JSON while empty, so pipelines without it keep their digest."""

    @property
    def upstream(self) -> list[str]:
        """Steps that must finish first: those it reads in argument order, then `after`; unique."""
        names: list[str] = []
        for source in self.inputs.values():
            if isinstance(source, OutputInput | FanInInput) and source.step not in names:
                names.append(source.step)
        return names + [name for name in self.after if name not in names]

    @property
    def mapped_input(self) -> Input | None:
        """The source of the mapped argument, if this step is mapped."""
        return None if self.mapped is None else self.inputs[self.mapped]


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
        for before in step.after:
            _check_after(pipeline, step, before, seen)
        if step.mapped is not None and step.mapped not in step.inputs:
            raise PipelineError(
                "the mapped argument is not one of the step's inputs",
                pipeline=name, step=step.name, argument=step.mapped,
            )  # fmt: skip
        if step.timeout_seconds is not None and step.timeout_seconds <= 0:
            raise PipelineError("timeout must be positive", pipeline=name, step=step.name)
        if step.retry.limit < 0:
            raise PipelineError("retries must be zero or more", pipeline=name, step=step.name)
        seen[step.name] = step
    if pipeline.output is not None and pipeline.output not in seen:
        raise PipelineError(
            f"the pipeline's output names unknown step {pipeline.output!r}", pipeline=name
        )


def _check_input(
    pipeline: Pipeline,
    step: Step,
    argument: str,
    source: Input,
    parameters: set[str],
    earlier: dict[str, Step],
) -> None:
    where = {"pipeline": pipeline.name, "step": step.name, "argument": argument}
    if isinstance(source, ParameterInput) and source.name not in parameters:
        raise PipelineError(f"reads unknown pipeline parameter {source.name!r}", **where)
    if isinstance(source, OutputInput | FanInInput):
        upstream = earlier.get(source.step)
        if upstream is None:
            raise PipelineError(
                f"reads step {source.step!r}, which is not defined before it "
                "(unknown step, or a cycle)",
                **where,
            )
        if isinstance(source, OutputInput) and upstream.mapped is not None:
            raise PipelineError(
                f"step {source.step!r} is mapped; read it as a fan-in list", **where
            )
        if isinstance(source, FanInInput) and upstream.mapped is None:
            raise PipelineError(f"step {source.step!r} is not mapped; it has no fan-in", **where)
    if (
        step.mapped == argument
        and isinstance(source, LiteralInput)
        and not isinstance(source.value, list)
    ):
        raise PipelineError(
            f"is mapped over, but its value is a {type(source.value).__name__}, not a list", **where
        )


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
    "NAME_PATTERN",
    "FanInInput",
    "Input",
    "LiteralInput",
    "OutputInput",
    "Parameter",
    "ParameterInput",
    "Pipeline",
    "Resources",
    "Retry",
    "Step",
    "waiting_chain",
]
