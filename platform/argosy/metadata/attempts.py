"""Writing task attempts in bulk: attempts, their tasks, artifacts, events, metrics, cache entries.

`record` writes a batch of `TaskRecord`s inside the caller's transaction with a handful of
multi-row statements, whatever the batch size: the rows `argosy.metadata.writes` makes of it.
Idempotent: an attempt already recorded with the same outcome changes nothing, a running attempt
is finished, and a contradicting outcome raises `Conflict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from argosy.metadata import database, writes
from argosy.metadata.models import (
    ArtifactRow,
    AttemptRow,
    CacheEntryRow,
    EventRow,
    MetricRow,
    RunRow,
    TaskRow,
)
from argosy.metadata.schemas import TaskRecord
from argosy.metadata.writes import ATTEMPT_COLUMNS, OUTCOME_COLUMNS, utcnow

_CHUNK = 500
"""Keys per ``IN (...)`` list, well under SQLite's bound-parameter limit."""

_FINISH_ATTEMPT = (
    update(AttemptRow)
    .where(
        AttemptRow.task_id == bindparam("key_task_id"),
        AttemptRow.attempt == bindparam("key_attempt"),
    )
    .values(
        {column: bindparam(column) for column in ATTEMPT_COLUMNS if column != "started_at"}
        | {"started_at": func.coalesce(bindparam("started_at"), AttemptRow.started_at)}
    )
)
"""Record the end of an attempt that was recorded as running."""


def record(connection: Connection, tasks: Sequence[TaskRecord]) -> None:
    """Record ``tasks`` (attempts of tasks of recorded runs) in the open transaction."""
    batch = writes.Batch.of(tasks)
    run_ids = batch.run_ids()
    writes.require_runs(
        run_ids, connection.execute(select(RunRow.id).where(RunRow.id.in_(run_ids))).scalars()
    )
    rows = writes.attempt_rows(batch, _recorded_attempts(connection, batch.task_ids()), utcnow())
    if rows is None:
        return
    database.insert_ignore(connection, ArtifactRow, rows.artifacts)
    _upsert_tasks(connection, rows.tasks)
    database.insert_ignore(connection, AttemptRow, rows.fresh)
    if rows.finished:
        connection.execute(
            _FINISH_ATTEMPT,
            [
                row | {"key_task_id": row["task_id"], "key_attempt": row["attempt"]}
                for row in rows.finished
            ],
        )
    database.insert_ignore(connection, EventRow, rows.events)
    database.insert_ignore(connection, MetricRow, rows.metrics)
    if rows.cached:
        statement = database.insert(connection, CacheEntryRow)
        statement = statement.on_conflict_do_update(
            index_elements=[CacheEntryRow.cache_key],
            set_={
                "task_id": statement.excluded.task_id,
                "attempt": statement.excluded.attempt,
                "created_at": statement.excluded.created_at,
            },
        )
        connection.execute(statement, rows.cached)


def _recorded_attempts(connection: Connection, task_ids: list[str]) -> dict:
    recorded: dict[tuple[str, int], Any] = {}
    for start in range(0, len(task_ids), _CHUNK):
        query = select(
            AttemptRow.task_id,
            AttemptRow.attempt,
            *(getattr(AttemptRow, c) for c in OUTCOME_COLUMNS),
        ).where(AttemptRow.task_id.in_(task_ids[start : start + _CHUNK]))
        for row in connection.execute(query):
            recorded[row.task_id, row.attempt] = row._mapping
    return recorded


def _upsert_tasks(connection: Connection, rows: list[dict[str, Any]]) -> None:
    statement = database.insert(connection, TaskRow)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[TaskRow.id],
        set_={column: getattr(new, column) for column in ATTEMPT_COLUMNS}
        | {
            "attempt": new.attempt,
            "attempts": func.max(TaskRow.attempts, new.attempts)
            if connection.dialect.name == "sqlite"
            else func.greatest(TaskRow.attempts, new.attempts),
            "started_at": func.coalesce(new.started_at, TaskRow.started_at),
        },
        where=TaskRow.attempt <= new.attempt,
    )
    connection.execute(statement, rows)


__all__ = ["record"]
