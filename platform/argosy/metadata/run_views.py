"""The shapes that keep a wide run readable: per-step summaries (`StepSummary`, in the
`RunDetail` of ``GET /api/v1/runs/{id}``) and tasks a page at a time (`TasksPage`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from argosy.metadata.schemas import Answer, RunPublic, TaskPublic, TaskStatus
from argosy.store.base import ArtifactInfo

TASK_PAGE, MAX_TASK_PAGE = 1000, 10_000
"""Tasks one `TasksPage` of the REST API holds by default, and at most."""


class TasksPage(Answer):
    """One page of a run's tasks in pipeline order; ask from `next_offset` for the next."""

    data: list[TaskPublic]
    count: int
    """Tasks matching the filters, over all pages."""
    next_offset: int | None = None
    """None on the last page."""


class StepSummary(Answer):
    """What the tasks of one step of a run add up to, computed by the database."""

    name: str
    mapped: bool = False
    """The step maps over a list: one task per item."""
    tasks: int = 0
    """Tasks recorded (a step that has not run yet has none)."""
    statuses: dict[TaskStatus, int] = Field(default_factory=dict)
    """Tasks in each status (their latest attempt's), in the order `TaskStatus` lists them."""
    retried: int = 0
    """Tasks whose latest attempt is not their first."""
    cache_hits: int = 0
    cloned: int = 0
    """Tasks a resume cloned from the run it resumed."""
    seconds: float | None = None
    """The tasks' durations added up (None while none has finished)."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    """When its first task started and its last one finished."""
    output: ArtifactInfo | None = None
    """The output of an unmapped step's task (None for a mapped step: see `outputs`)."""
    outputs: int = 0
    """Tasks with an output."""


class RunDetail(RunPublic):
    """A run with a summary of each of its steps (``GET /api/v1/runs/{id}``)."""

    steps: list[StepSummary] = Field(default_factory=list)
    """One per step of the pipeline, in pipeline order, those without tasks yet included."""


__all__ = ["MAX_TASK_PAGE", "TASK_PAGE", "RunDetail", "StepSummary", "TasksPage"]
