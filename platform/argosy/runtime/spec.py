"""`TaskSpec`: everything that names one attempt of one task, as plain data.

The local scheduler sends it to a warm worker; the Argo compiler spells it as the arguments of
``python -m argosy task``. Both end in `argosy.runtime.run_task`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, field_validator

from argosy.metadata.schemas import task_id
from argosy.ownership import MAX_TAGS, OwnerName, ProjectName, Tag


class TaskSpec(BaseModel):
    """One attempt of one task: which pipeline, step, run and item, with which parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pipeline: str
    """Reference `argosy.dsl.load_pipeline` understands (``file.py[:name]`` or ``module:name``)."""
    step: str
    run_id: str
    index: int = Field(default=0, ge=0)
    """Item of the mapped argument this task takes (0 for an unmapped step)."""
    attempt: int = Field(default=0, ge=0)
    """0 for the first try, 1 for the first retry, ..."""
    params: dict[str, JsonValue] = Field(default_factory=dict)
    """Run parameters; missing ones take their defaults."""
    cache: bool = False
    """Caching for the whole run (``--cache``), on top of steps declared ``cache=True``."""
    gpu_fallback: bool = False
    """The step asks for a GPU that is not there and runs on the CPU instead."""
    code_package: str | None = None
    """Digest of a code package to fetch and import before the pipeline is loaded."""
    run_status: Literal["succeeded", "failed"] | None = None
    """How the run went, for an exit handler (``argosy.run_status()``)."""
    project: ProjectName | None = None
    """The run's project (`argosy.ownership`); a pod records the run with it."""
    owner: OwnerName | None = None
    """The run's owner, ``user:<name>`` or ``production``."""
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    """The tags the run started with (tags added later are in the metadata, not here)."""
    scheduled_time: AwareDatetime | None = None
    """When the CronWorkflow that started the run meant it to start; None for other runs."""

    @field_validator("run_status", mode="before")
    @classmethod
    def _outcome(cls, status: object) -> object:
        """Argo's ``Succeeded``, ``Failed`` and ``Error`` read as succeeded or failed."""
        if isinstance(status, str):
            return "succeeded" if status.lower() == "succeeded" else "failed"
        return status

    @field_validator("scheduled_time", mode="before")
    @classmethod
    def _scheduled(cls, value: object) -> object:
        return parse_scheduled_time(value) if isinstance(value, str) else value

    @property
    def task_id(self) -> str:
        return task_id(self.run_id, self.step, self.index)


def parse_scheduled_time(text: str) -> datetime | None:
    """The time in Argo's ``{{workflow.scheduledTime}}``: RFC 3339 as Go writes it
    (``2026-01-02T03:00:00Z``, ``...+01:00``, fractions of seconds too), UTC when it names no
    offset. None for an empty value, or for the tag itself: Argo leaves it unresolved in a
    workflow no CronWorkflow started. ValueError for any other text.
    """
    text = text.strip()
    if not text or text.startswith("{{"):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 time such as 2026-01-02T03:00:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = ["TaskSpec", "parse_scheduled_time"]
