"""Pydantic shapes of metadata records, shared by the repository, the service and the client.

The write side (`RunCreate`, `RunUpdate`, `TaskRecord`) is what the runtime and the backends send
through a `MetadataSink`; the read side (``*Public``) is what queries return. No SQLAlchemy here:
the tables live in `argosy.metadata.models` and are never a request or a response.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from argosy.store.base import ArtifactInfo


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not run because an upstream task failed."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


def task_id(run_id: str, step: str, index: int) -> str:
    """The derived id of a task: the same run, step and index always give the same id."""
    return f"{run_id}.{step}.{index}"


class RunCreate(_Record):
    """A run as it starts. Creating the same run id twice is a no-op."""

    id: str = Field(min_length=1, max_length=128)
    pipeline: str = Field(min_length=1, max_length=128)
    pipeline_version: str = Field(min_length=1, max_length=64)
    """`ir.Pipeline.digest()`."""
    pipeline_ir: dict[str, Any] | None = None
    """The IR as JSON, stored once per version."""
    parameters: dict[str, JsonValue] = Field(default_factory=dict)
    backend: str = "local"
    """``local`` or ``argo``."""
    status: RunStatus = RunStatus.RUNNING
    resumed_from: str | None = None
    """The run this one resumes (its finished tasks were cloned)."""
    workflow_name: str | None = None
    namespace: str | None = None
    started_at: datetime | None = None


class RunUpdate(_Record):
    """A change of a run's status."""

    status: RunStatus
    finished_at: datetime | None = None
    error: str | None = None


class TaskInput(_Record):
    """One argument a task read: the artifact, and the item index when it took one item of it."""

    argument: str
    artifact: ArtifactInfo
    item: int | None = None


class TaskRecord(_Record):
    """One attempt of one task. Idempotent on (run_id, step, index, attempt)."""

    run_id: str
    step: str
    index: int = 0
    attempt: int = 0
    status: TaskStatus
    started_at: datetime | None = None
    finished_at: datetime | None = None
    inputs: list[TaskInput] = Field(default_factory=list)
    output: ArtifactInfo | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    cache_key: str | None = None
    cache_hit: bool = False
    """The output was taken from an earlier task with the same cache key."""
    cloned_from: str | None = None
    """Task id this record was cloned from by a resume (nothing was recomputed)."""
    error: str | None = None
    log_key: str | None = None
    gpu_fallback: bool = False
    """The step asked for a GPU and ran without one (``--gpu-fallback``)."""

    @property
    def task_id(self) -> str:
        return task_id(self.run_id, self.step, self.index)


__all__ = [
    "RunCreate",
    "RunStatus",
    "RunUpdate",
    "TaskInput",
    "TaskRecord",
    "TaskStatus",
    "task_id",
]
