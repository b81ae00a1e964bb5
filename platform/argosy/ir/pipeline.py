"""A whole pipeline (`Pipeline`): its parameters, steps, sub-pipeline calls, schedule, digest."""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from typing import Any

from pydantic import Field, JsonValue, model_validator

from argosy.errors import PipelineError
from argosy.ir.imports import Import
from argosy.ir.model import Model, empty
from argosy.ir.resources import Retry
from argosy.ir.schedule import Schedule
from argosy.ir.step import Step
from argosy.ir.validate import validate


class Parameter(Model):
    """A typed pipeline parameter, settable per run."""

    name: str
    json_schema: dict[str, Any] = Field(default_factory=dict)
    """JSON schema of the accepted values (from the Python annotation)."""
    default: JsonValue = None
    required: bool = False
    """True when the parameter has no default and must be given."""


class Group(Model):
    """A sub-pipeline called as one step of another: its steps run as a unit that is retried
    as a whole (every step of it again) when one of its branches fails."""

    name: str
    """The call's name; its steps are named ``<name>__<step>``."""
    pipeline: str
    """The name of the pipeline called."""
    retry: Retry = Field(default_factory=Retry)


GROUP_SEPARATOR = "__"
"""Between a sub-pipeline call's name and the names of its steps."""


class Pipeline(Model):
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
    groups: list[Group] = Field(default_factory=list, exclude_if=empty)
    """Sub-pipelines called as steps (left out of the JSON while there are none)."""
    imports: list[Import] = Field(default_factory=list, exclude_if=empty)
    """Outside data the run copies into the store when it starts (`argosy.importer`)."""
    project: str | None = Field(default=None, exclude_if=empty)
    """The project its runs belong to unless a run names another (`argosy.ownership`)."""
    schedule: Schedule | None = Field(default=None, exclude_if=empty)
    """When Argo starts the pipeline on its own (a CronWorkflow); None: only when asked."""

    @model_validator(mode="after")
    def _check_graph(self) -> Pipeline:
        validate(self)
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


__all__ = ["GROUP_SEPARATOR", "Group", "Parameter", "Pipeline"]
