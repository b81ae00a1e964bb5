"""Writing task attempts in bulk: attempts, their tasks, artifacts, events, metrics, cache entries.

`record` writes a batch of `TaskRecord`s inside the caller's transaction with a handful of
multi-row statements, whatever the batch size. Idempotent: an attempt already recorded with the
same outcome changes nothing, a running attempt is finished, and a contradicting outcome raises
`Conflict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from argosy.errors import Conflict, NotFound
from argosy.metadata import database, queries
from argosy.metadata.models import (
    ArtifactRow,
    AttemptRow,
    CacheEntryRow,
    EventRow,
    MetricRow,
    RunRow,
    TaskRow,
    utcnow,
)
from argosy.metadata.schemas import TaskRecord, TaskStatus
from argosy.store.base import ArtifactInfo

_CHUNK = 500
"""Keys per ``IN (...)`` list, well under SQLite's bound-parameter limit."""

_FINISH_ATTEMPT = (
    update(AttemptRow)
    .where(
        AttemptRow.task_id == bindparam("key_task_id"),
        AttemptRow.attempt == bindparam("key_attempt"),
    )
    .values(
        {column: bindparam(column) for column in queries.ATTEMPT_COLUMNS if column != "started_at"}
        | {"started_at": func.coalesce(bindparam("started_at"), AttemptRow.started_at)}
    )
)
"""Record the end of an attempt that was recorded as running."""


def record(connection: Connection, tasks: Sequence[TaskRecord]) -> None:
    """Record ``tasks`` (attempts of tasks of recorded runs) in the open transaction."""
    batch = {(task.task_id, task.attempt): task for task in tasks}
    _require_runs(connection, {task.run_id for task in batch.values()})
    recorded = _recorded_attempts(connection, {key[0] for key in batch})
    fresh: list[TaskRecord] = []
    finished: list[TaskRecord] = []
    for key, task in batch.items():
        before = recorded.get(key)
        if before is None:
            fresh.append(task)
        elif before.status == TaskStatus.RUNNING and task.status != TaskStatus.RUNNING:
            finished.append(task)
        elif before.status != TaskStatus.RUNNING and task.status != TaskStatus.RUNNING:
            _check_same_outcome(before, task)
    _write_attempts(connection, fresh, finished)


def _require_runs(connection: Connection, run_ids: set[str]) -> None:
    known = set(connection.execute(select(RunRow.id).where(RunRow.id.in_(run_ids))).scalars())
    missing = run_ids - known
    if missing:
        raise NotFound(
            f"no run {', '.join(sorted(missing))}; record the run (create_run) before its tasks"
        )


def _recorded_attempts(connection: Connection, task_ids: set[str]) -> dict:
    recorded: dict[tuple[str, int], Any] = {}
    ordered = sorted(task_ids)
    for start in range(0, len(ordered), _CHUNK):
        query = select(
            AttemptRow.task_id,
            AttemptRow.attempt,
            AttemptRow.status,
            AttemptRow.output_digest,
            AttemptRow.cache_hit,
            AttemptRow.cloned_from,
        ).where(AttemptRow.task_id.in_(ordered[start : start + _CHUNK]))
        for row in connection.execute(query):
            recorded[row.task_id, row.attempt] = row
    return recorded


def _write_attempts(
    connection: Connection, fresh: list[TaskRecord], finished: list[TaskRecord]
) -> None:
    written = fresh + finished
    if not written:
        return
    artifacts = {
        info.digest: info
        for task in written
        for info in [task.output, *task.named_outputs.values(), *(i.artifact for i in task.inputs)]
        if info is not None
    }
    database.insert_ignore(  # in digest order, so concurrent batches lock rows alike
        connection, ArtifactRow, [artifact_row(artifacts[digest]) for digest in sorted(artifacts)]
    )
    _upsert_tasks(connection, written)
    database.insert_ignore(connection, AttemptRow, [_attempt_row(task) for task in fresh])
    if finished:
        connection.execute(
            _FINISH_ATTEMPT,
            [
                _attempt_row(task) | {"key_task_id": task.task_id, "key_attempt": task.attempt}
                for task in finished
            ],
        )
    database.insert_ignore(connection, EventRow, [row for t in written for row in _events(t)])
    metrics = [
        {"task_id": t.task_id, "attempt": t.attempt, "run_id": t.run_id, "name": k, "value": v}
        for t in written
        for k, v in t.metrics.items()
    ]
    database.insert_ignore(connection, MetricRow, metrics)
    cached = [
        {"cache_key": t.cache_key, "task_id": t.task_id, "attempt": t.attempt}
        for t in written
        if t.cache_key and t.status == TaskStatus.SUCCEEDED
    ]
    if cached:
        statement = database.insert(connection, CacheEntryRow)
        statement = statement.on_conflict_do_update(
            index_elements=[CacheEntryRow.cache_key],
            set_={
                "task_id": statement.excluded.task_id,
                "attempt": statement.excluded.attempt,
                "created_at": statement.excluded.created_at,
            },
        )
        connection.execute(statement, cached)


def _upsert_tasks(connection: Connection, written: list[TaskRecord]) -> None:
    latest: dict[str, TaskRecord] = {}
    for task in written:
        if task.task_id not in latest or latest[task.task_id].attempt <= task.attempt:
            latest[task.task_id] = task
    statement = database.insert(connection, TaskRow)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[TaskRow.id],
        set_={column: getattr(new, column) for column in queries.ATTEMPT_COLUMNS}
        | {
            "attempt": new.attempt,
            "attempts": func.max(TaskRow.attempts, new.attempts)
            if connection.dialect.name == "sqlite"
            else func.greatest(TaskRow.attempts, new.attempts),
            "started_at": func.coalesce(new.started_at, TaskRow.started_at),
        },
        where=TaskRow.attempt <= new.attempt,
    )
    rows = [
        _attempt_row(task) | {"id": task_id, "attempts": task.attempt + 1}
        for task_id, task in latest.items()
    ]
    for row in rows:
        del row["task_id"]
    connection.execute(statement, rows)


def _check_same_outcome(before: Any, task: TaskRecord) -> None:
    output = task.output.digest if task.output else None
    if (before.status, before.output_digest, before.cache_hit, before.cloned_from) != (
        task.status,
        output,
        task.cache_hit,
        task.cloned_from,
    ):
        raise Conflict(
            f"task {task.task_id} attempt {task.attempt} is already recorded as {before.status} "
            f"with output {before.output_digest}; record a new attempt number instead"
        )


def artifact_row(info: ArtifactInfo) -> dict[str, Any]:
    """The artifacts row of ``info``: the bytes it describes. Its name and metadata describe one
    output, and are recorded on that output's event (`_events`)."""
    return info.model_dump(exclude={"name", "metadata"}) | {"created_at": utcnow()}


def _attempt_row(task: TaskRecord) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "attempt": task.attempt,
        "run_id": task.run_id,
        "step": task.step,
        "index": task.index,
        "status": task.status.value,
        "started_at": task.started_at,
        "finished_at": task.finished_at,
        "output_digest": task.output.digest if task.output else None,
        "cache_key": task.cache_key,
        "cache_hit": task.cache_hit,
        "cloned_from": task.cloned_from,
        "error": task.error,
        "log_key": task.log_key,
        "gpu_fallback": task.gpu_fallback,
    }


def _events(task: TaskRecord) -> list[dict[str, Any]]:
    """The task's edges; each keeps the artifact's name and metadata as the task saw them."""
    common = {"task_id": task.task_id, "run_id": task.run_id}
    rows = [
        common
        | _described(i.artifact)
        | {"kind": "input", "position": n, "argument": i.argument, "item": i.item}
        for n, i in enumerate(task.inputs)
    ]
    if task.output is not None:
        rows.append(
            common
            | _described(task.output)
            | {"kind": "output", "position": 0, "argument": None, "item": None}
        )
    rows += [
        common
        | _described(info)
        | {"kind": "output", "position": n, "argument": name, "item": None}
        for n, (name, info) in enumerate(task.named_outputs.items(), start=1)
    ]
    return rows


def _described(info: ArtifactInfo) -> dict[str, Any]:
    return {
        "artifact_digest": info.digest,
        "artifact_name": info.name,
        "artifact_metadata": info.metadata or None,
    }


__all__ = ["artifact_row", "record"]
