"""Read queries of a run's tasks: one page of them, the summary of each step, a task's attempts.

A run may hold 100,000 tasks, so nothing here loads them all unless asked to. `task_page`
reads one page in pipeline order (the steps as the IR lists them, each by index), filtered by
step and status: one count per step says which steps the page spans, an index range of each
picks the page's task ids (skipping by index alone, not by joined rows), and only those tasks
are read, with their output, inputs, named outputs and metrics. `run_steps` adds up each
step's tasks with one ``GROUP BY`` in the database. Functions over an open `Connection`, used
by `Repository`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, extract, func, select

from argosy.errors import MetadataError, NotFound
from argosy.metadata.models import (
    ArtifactRow,
    AttemptRow,
    EventRow,
    MetricRow,
    PipelineVersionRow,
    RunRow,
    TaskRow,
)
from argosy.metadata.queries import (
    ARTIFACT_COLUMNS,
    DESCRIBED,
    artifact_info,
    attempt_fields,
    output_event,
)
from argosy.metadata.run_views import StepSummary, TasksPage
from argosy.metadata.schemas import TaskInput, TaskPublic, TaskRecord, TaskStatus
from argosy.store.base import ArtifactInfo

_CHUNK = 500
"""Task ids per ``IN (...)`` list, well under SQLite's bound-parameter limit."""
_STATUS_ORDER = {status: n for n, status in enumerate(TaskStatus)}

_TASKS = (
    select(TaskRow, *ARTIFACT_COLUMNS, *DESCRIBED)
    .outerjoin(ArtifactRow, ArtifactRow.digest == TaskRow.output_digest)
    .outerjoin(EventRow, output_event(TaskRow.id, TaskRow.output_digest))
)
"""Tasks with their output, as the task said it (name, metadata)."""


def pipeline_steps(connection: Connection, run_id: str) -> dict[str, bool]:
    """The steps of the run's pipeline in IR order, each with whether it is mapped; NotFound
    for an unknown run."""
    found = connection.execute(
        select(PipelineVersionRow.ir)
        .join(RunRow, RunRow.pipeline_version == PipelineVersionRow.digest)
        .where(RunRow.id == run_id)
    ).one_or_none()
    if found is None:
        raise NotFound(f"no run {run_id}; `argosy runs` lists the recorded runs")
    steps = (found.ir or {}).get("steps", [])
    return {step["name"]: step.get("mapped") is not None for step in steps}


def task_page(
    connection: Connection,
    run_id: str,
    *,
    step: str | None = None,
    statuses: Sequence[TaskStatus | str] = (),
    limit: int | None = None,
    offset: int = 0,
    inputs: bool = True,
) -> TasksPage:
    """The run's tasks (latest attempt of each) in pipeline order, of ``step`` and in one of
    ``statuses`` when given, ``limit`` of them (None: all) from the ``offset``-th on; without
    what they read when not ``inputs``."""
    if (limit is not None and limit < 0) or offset < 0:
        raise MetadataError(f"limit ({limit}) and offset ({offset}) cannot be negative")
    steps = pipeline_steps(connection, run_id)
    where = [TaskRow.run_id == run_id]
    wanted = TaskStatus.parse(statuses)
    if wanted:
        where.append(TaskRow.status.in_([status.value for status in wanted]))
    scope = [*where, TaskRow.step == step] if step is not None else where
    counted = select(TaskRow.step, func.count()).where(*scope).group_by(TaskRow.step)
    counts: dict[str, int] = {name: count for name, count in connection.execute(counted)}
    if step is not None and step not in steps and step not in counts:
        known = ", ".join(steps) or "none"
        raise MetadataError(f"run {run_id} has no step {step!r}; its steps are {known}")
    order = [*steps, *sorted(counts.keys() - steps)]
    rows: list[Any] = []
    for name, skip, take in _windows(counts, order, offset, limit):
        window = select(TaskRow.id).where(*where, TaskRow.step == name).order_by(TaskRow.index)
        window = window.limit(take).offset(skip) if skip else window.limit(take)
        query = _TASKS.where(TaskRow.id.in_(window)).order_by(TaskRow.index)
        rows += connection.execute(query).all()
    whole_run = step is None and not wanted and limit is None and offset == 0
    count = sum(counts.values())
    ends = offset + len(rows)
    return TasksPage(
        data=_tasks_public(connection, run_id, rows, whole_run=whole_run, inputs=inputs),
        count=count,
        next_offset=ends if rows and ends < count else None,
    )


def _windows(
    counts: dict[str, int], order: list[str], offset: int, limit: int | None
) -> list[tuple[str, int, int | None]]:
    """(step, offset in the step, how many: None for the rest) of each step a page of
    ``limit`` tasks from ``offset`` on touches, walking the steps in ``order``."""
    windows: list[tuple[str, int, int | None]] = []
    for name in order:
        count = counts.get(name, 0)
        if limit == 0:
            break
        if offset >= count:
            offset -= count
            continue
        take = None if limit is None else min(limit, count - offset)
        windows.append((name, offset, take))
        offset = 0
        if limit is not None and take is not None:
            limit -= take
    return windows


def _tasks_public(
    connection: Connection, run_id: str, rows: list[Any], *, whole_run: bool, inputs: bool
) -> list[TaskPublic]:
    """``rows`` of `_TASKS` with their named outputs, latest metrics and (when ``inputs``)
    inputs, read for those tasks only (for the whole run: by run)."""
    if whole_run:
        of_run = select(TaskRow.id).where(TaskRow.run_id == run_id)
        filters = [(EventRow.task_id.in_(of_run), MetricRow.run_id == run_id)]
    else:
        ids = [row.id for row in rows]
        chunks = [ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK)]
        filters = [(EventRow.task_id.in_(c), MetricRow.task_id.in_(c)) for c in chunks]
    read: dict[str, list[TaskInput]] = {}
    named: dict[str, dict[str, ArtifactInfo]] = {}
    metrics: dict[str, list[Any]] = {}
    for events, measured in filters:
        read |= _inputs(connection, events) if inputs else {}
        named |= _named_outputs(connection, events)
        metrics |= _metrics(connection, measured, latest_only=True)
    return [
        TaskPublic(
            id=row.id,
            run_id=row.run_id,
            step=row.step,
            index=row.index,
            attempt=row.attempt,
            attempts=row.attempts,
            output=artifact_info(row, row),
            named_outputs=named.get(row.id, {}),
            inputs=read.get(row.id, []),
            metrics={m.name: m.value for m in metrics.get(row.id, [])},
            **attempt_fields(row),
        )
        for row in rows
    ]


def run_steps(connection: Connection, run_id: str) -> list[StepSummary]:
    """A summary of each step of the run: one per step of its pipeline in IR order (those
    without tasks yet too), then any other step tasks were recorded for, by name."""
    steps = pipeline_steps(connection, run_id)
    groups: dict[str, list[Any]] = {}
    for row in connection.execute(
        select(
            TaskRow.step,
            TaskRow.status,
            func.count().label("tasks"),
            func.count(case((TaskRow.attempt > 0, 1))).label("retried"),
            func.count(case((TaskRow.cache_hit, 1))).label("cache_hits"),
            func.count(TaskRow.cloned_from).label("cloned"),
            func.sum(_duration(connection)).label("seconds"),
            func.min(TaskRow.started_at).label("started_at"),
            func.max(TaskRow.finished_at).label("finished_at"),
            func.count(TaskRow.output_digest).label("outputs"),
        )
        .where(TaskRow.run_id == run_id)
        .group_by(TaskRow.step, TaskRow.status)
    ):
        groups.setdefault(row.step, []).append(row)
    steps |= {name: False for name in sorted(groups.keys() - steps)}
    with_output = [
        name
        for name, mapped in steps.items()
        if not mapped and any(row.outputs for row in groups.get(name, []))
    ]
    outputs = _unmapped_outputs(connection, run_id, with_output) if with_output else {}
    return [
        _summary(name, mapped, groups.get(name, []), outputs.get(name))
        for name, mapped in steps.items()
    ]


def _duration(connection: Connection) -> ColumnElement[Any]:
    """A task's seconds from start to finish (NULL unless it has both)."""
    start, end = TaskRow.started_at, TaskRow.finished_at
    if connection.dialect.name == "postgresql":
        return extract("epoch", end - start)
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds by strftime, the fraction as text
    # (its date functions would round to milliseconds)
    whole = func.strftime("%s", end) - func.strftime("%s", start)
    return whole + (func.substr(end, 20) - func.substr(start, 20))


def _unmapped_outputs(
    connection: Connection, run_id: str, steps: list[str]
) -> dict[str, ArtifactInfo | None]:
    """The output of the one task of each unmapped step in ``steps``."""
    rows = connection.execute(
        select(TaskRow.step, *ARTIFACT_COLUMNS, *DESCRIBED)
        .join(ArtifactRow, ArtifactRow.digest == TaskRow.output_digest)
        .outerjoin(EventRow, output_event(TaskRow.id, TaskRow.output_digest))
        .where(TaskRow.run_id == run_id, TaskRow.step.in_(steps), TaskRow.index == 0)
    )
    return {row.step: artifact_info(row, row) for row in rows}


def _summary(name: str, mapped: bool, rows: list[Any], output: ArtifactInfo | None) -> StepSummary:
    """One step's summary from its rows of the ``GROUP BY step, status`` query."""
    rows = sorted(rows, key=lambda row: _STATUS_ORDER[TaskStatus(row.status)])
    seconds = [float(row.seconds) for row in rows if row.seconds is not None]
    started = [row.started_at for row in rows if row.started_at is not None]
    finished = [row.finished_at for row in rows if row.finished_at is not None]
    return StepSummary(
        name=name,
        mapped=mapped,
        tasks=sum(row.tasks for row in rows),
        statuses={TaskStatus(row.status): row.tasks for row in rows},
        retried=sum(row.retried for row in rows),
        cache_hits=sum(row.cache_hits for row in rows),
        cloned=sum(row.cloned for row in rows),
        seconds=sum(seconds) if seconds else None,
        started_at=min(started, default=None),
        finished_at=max(finished, default=None),
        output=output,
        outputs=sum(row.outputs for row in rows),
    )


def attempt_records(connection: Connection, where: Any) -> list[TaskRecord]:
    """Every attempt ``where`` selects, first to last, with its inputs and metrics."""
    rows = connection.execute(
        select(AttemptRow, *ARTIFACT_COLUMNS, *DESCRIBED)
        .outerjoin(ArtifactRow, ArtifactRow.digest == AttemptRow.output_digest)
        .outerjoin(EventRow, output_event(AttemptRow.task_id, AttemptRow.output_digest))
        .where(where)
        .order_by(AttemptRow.attempt)
    ).all()
    if not rows:
        return []
    task_ids = {row.task_id for row in rows}
    inputs = _inputs(connection, EventRow.task_id.in_(task_ids))
    metrics = _metrics(connection, MetricRow.task_id.in_(task_ids), latest_only=False)
    records = []
    for row in rows:
        records.append(
            TaskRecord(
                run_id=row.run_id,
                step=row.step,
                index=row.index,
                attempt=row.attempt,
                inputs=inputs.get(row.task_id, []),
                output=artifact_info(row, row),
                metrics={
                    m.name: m.value
                    for m in metrics.get(row.task_id, [])
                    if m.attempt == row.attempt
                },
                **attempt_fields(row),
            )
        )
    return records


def _inputs(connection: Connection, where: Any) -> dict[str, list[TaskInput]]:
    rows = connection.execute(
        select(EventRow.task_id, EventRow.argument, EventRow.item, *ARTIFACT_COLUMNS, *DESCRIBED)
        .join(ArtifactRow, ArtifactRow.digest == EventRow.artifact_digest)
        .where(where, EventRow.kind == "input")
        .order_by(EventRow.task_id, EventRow.position)
    )
    inputs: dict[str, list[TaskInput]] = {}
    for row in rows:
        inputs.setdefault(row.task_id, []).append(
            TaskInput(argument=row.argument or "", artifact=artifact_info(row, row), item=row.item)
        )
    return inputs


def _named_outputs(connection: Connection, where: Any) -> dict[str, dict[str, ArtifactInfo]]:
    """The named outputs of each task (its output edges after the first), by task id."""
    rows = connection.execute(
        select(EventRow.task_id, EventRow.argument, *ARTIFACT_COLUMNS, *DESCRIBED)
        .join(ArtifactRow, ArtifactRow.digest == EventRow.artifact_digest)
        .where(where, EventRow.kind == "output", EventRow.position > 0)
        .order_by(EventRow.task_id, EventRow.position)
    )
    named: dict[str, dict[str, ArtifactInfo]] = {}
    for row in rows:
        artifact = artifact_info(row, row)
        if artifact is not None and row.argument is not None:
            named.setdefault(row.task_id, {})[row.argument] = artifact
    return named


def _metrics(connection: Connection, where: Any, *, latest_only: bool) -> dict:
    query = select(MetricRow).where(where)
    if latest_only:
        query = query.join(
            TaskRow, and_(TaskRow.id == MetricRow.task_id, TaskRow.attempt == MetricRow.attempt)
        )
    grouped: dict[str, list[Any]] = {}
    for metric in connection.execute(query.order_by(MetricRow.name)):
        grouped.setdefault(metric.task_id, []).append(metric)
    return grouped


__all__ = [
    "attempt_records",
    "pipeline_steps",
    "run_steps",
    "task_page",
]
