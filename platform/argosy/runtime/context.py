"""The running task's context: what a step reads about itself (`current`), and where
`log_metric` puts what it reports.

`argosy.runtime.run_task` opens both around the user's function, in `ContextVar` s, so the
many tasks a warm worker runs one after another never see each other's: `running_task` sets
the `TaskContext` made from the task's `TaskSpec`, `collecting_metrics` the dict metrics go in.
Outside a running step, `current.is_running` is False and its fields raise PipelineError.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from argosy.errors import PipelineError

if TYPE_CHECKING:
    from argosy import ir
    from argosy.runtime.spec import TaskSpec

_metrics: ContextVar[dict[str, float] | None] = ContextVar("argosy_task_metrics", default=None)


@dataclass(frozen=True, kw_only=True)
class TaskContext:
    """What a running step can know about its task (``argosy.current``).

    A field named as one of `TaskSpec`'s is copied from the spec (`of`), so a new one is one
    line here once the spec has it.
    """

    run_id: str
    """The run's id (on Argo, its Workflow's name)."""
    pipeline: str
    """The pipeline's name (a sub-pipeline's steps see the pipeline that was run)."""
    step: str
    """The step's name (``<call>__<step>`` inside a sub-pipeline)."""
    index: int
    """The item of a mapped step this task takes (0 for an unmapped step)."""
    attempt: int
    """0 for the first try of the task, 1 for its first retry, ... (Argo's ``{{retries}}``);
    a sub-pipeline run again as a whole starts its tasks from 0 again."""
    run_status: Literal["succeeded", "failed"] | None
    """How the run went, in an exit handler (``.on_exit()``); None in any other step."""
    scheduled_time: datetime | None
    """When the schedule meant this run to start (timezone-aware), for a run a CronWorkflow
    started; None for any other run."""
    project: str | None
    """The run's project (``@pipeline(project=...)`` or ``--project``), or None."""
    owner: str | None
    """Whose run it is, Metaflow's namespace: ``user:<name>`` or ``production``."""
    tags: list[str]
    """The tags the run started with (tags added later are in the metadata only)."""

    @classmethod
    def of(cls, spec: TaskSpec, pipeline: ir.Pipeline) -> TaskContext:
        """The context of the task ``spec`` names, in ``pipeline``."""
        given = type(spec).model_fields
        copied = {f.name: getattr(spec, f.name) for f in fields(cls) if f.name in given}
        derived = {
            "pipeline": pipeline.name,
            "attempt": pipeline.step(spec.step).retry.own(spec.attempt),
        }
        return cls(**(copied | derived))


_task: ContextVar[TaskContext | None] = ContextVar("argosy_task_context", default=None)
_FIELDS = tuple(f.name for f in fields(TaskContext))


class Current:
    """``argosy.current``: the context of the step that is running, read like Metaflow's.

    ``current.run_id``, ``.pipeline``, ``.step``, ``.index``, ``.attempt``, ``.run_status``,
    ``.scheduled_time``, ``.project``, ``.owner`` and ``.tags`` (see `TaskContext`), and
    ``.tempdir``, exist only while Argosy runs a step, locally or in a pod;
    ``current.is_running`` says whether one is.
    """

    @property
    def is_running(self) -> bool:
        """Whether Argosy is running a step here (in this thread) now."""
        return _task.get() is not None

    @property
    def tempdir(self) -> Path:
        """A directory of the running task's own, to write the files and folders it returns
        (``Path`` outputs) in; removed once the task's output is stored."""
        from argosy.runtime.scratch import tempdir

        return tempdir()

    def __getattr__(self, name: str) -> Any:
        if name not in _FIELDS:
            raise AttributeError(
                f"argosy.current has no {name!r}; it has is_running, tempdir, {', '.join(_FIELDS)}"
            )
        context = _task.get()
        if context is None:
            raise PipelineError(
                f"argosy.current.{name} only exists while Argosy runs a step (argosy run, "
                ".run(), or a pod on Argo); check argosy.current.is_running first where the "
                "code also runs outside one"
            )
        return getattr(context, name)

    def __dir__(self) -> list[str]:
        return ["is_running", "tempdir", *_FIELDS]

    def __repr__(self) -> str:
        context = _task.get()
        return f"argosy.current({context or 'no step is running'})"


current = Current()


@contextmanager
def running_task(context: TaskContext) -> Iterator[TaskContext]:
    """Make ``context`` what `current` reads for the duration."""
    token = _task.set(context)
    try:
        yield context
    finally:
        _task.reset(token)


def log_metric(name: str, value: float) -> None:
    """Record ``name = value`` on the task that is running (the last value of a name wins)."""
    metrics = _metrics.get()
    if metrics is None:
        raise PipelineError(
            f"log_metric({name!r}, ...) was called outside a running task; metrics can only be "
            "logged by a step while Argosy runs it (argosy run, .run(), or on the cluster)"
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PipelineError(
            f"metric {name!r} must be a number, got {type(value).__name__} {value!r}"
        ) from None
    if not math.isfinite(number):
        raise PipelineError(f"metric {name!r} must be finite, got {number}")
    metrics[str(name)] = number


@contextmanager
def collecting_metrics() -> Iterator[dict[str, float]]:
    """Make `log_metric` record into the yielded dict for the duration."""
    metrics: dict[str, float] = {}
    token = _metrics.set(metrics)
    try:
        yield metrics
    finally:
        _metrics.reset(token)


__all__ = [
    "Current",
    "TaskContext",
    "collecting_metrics",
    "current",
    "log_metric",
    "running_task",
]
