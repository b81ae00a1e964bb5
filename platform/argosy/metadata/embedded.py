"""`EmbeddedSink`: the metadata writes of runs on the embedded SQLite database, without SQLAlchemy.

On the embedded database (``ARGOSY_HOME/metadata.db``, or any plain ``sqlite:///`` URL),
`open_sink` gives this sink, which speaks to SQLite through the standard library's sqlite3
(`argosy.metadata.embedded_file`): importing SQLAlchemy and building its models took about
0.3 s of the 1 s a trivial `argosy run` took. It writes the rows `argosy.metadata.writes`
makes, as `Repository` does (a test compares the two databases row by row). Writes take the
write lock up front (``BEGIN IMMEDIATE``), so the runner and the metadata service queue on one
file instead of failing. A cache look-up, which reads a whole task record back, goes through
the file's `Repository`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from argosy.errors import NotFound
from argosy.metadata import writes
from argosy.metadata.embedded_file import AS_IS, EmbeddedFile, stored
from argosy.metadata.schemas import RunCreate, RunUpdate, TaskRecord
from argosy.metadata.writes import ATTEMPT_COLUMNS, OUTCOME_COLUMNS, Row, utcnow

_CHUNK = 500
"""Keys per ``IN (...)`` list, well under SQLite's bound-parameter limit."""


class EmbeddedSink:
    """A `MetadataSink` on the SQLite database at ``url`` (a plain ``sqlite:///`` URL)."""

    def __init__(self, url: str, *, lost_after: float = 60.0) -> None:
        self._file = EmbeddedFile(url, lost_after=lost_after)
        self.url = url

    def close(self) -> None:
        self._file.close()

    def check(self) -> None:
        self._file.check()

    def create_run(self, run: RunCreate) -> None:
        """As `Repository.create_run`: the same run again changes nothing, another run under
        its id is a `Conflict`."""
        recorded = self._recorded_run(run.id)
        if recorded is None:
            rows = writes.new_run(run, utcnow())
            with self._file.writing() as connection:
                _insert_ignore(connection, "pipelines", [rows.pipeline])
                _insert_ignore(connection, "pipeline_versions", [rows.version])
                if run.pipeline_ir is not None:
                    connection.execute(
                        "UPDATE pipeline_versions SET ir = ? WHERE digest = ? AND ir IS NULL",
                        (stored(run.pipeline_ir), run.pipeline_version),
                    )
                created = connection.execute(
                    _insert_statement("runs", rows.run) + " RETURNING id", _bound(rows.run)
                ).fetchone()
                if created is not None:  # only with the run: a later pod's tags would undo removals
                    _insert_ignore(connection, "run_tags", rows.tags)
            recorded = self._recorded_run(run.id)
            assert recorded is not None, "a run just recorded is there"
        writes.check_recorded_run(run, recorded)

    def update_run(self, run_id: str, update: RunUpdate) -> None:
        with self._file.writing() as connection:
            before = connection.execute(
                "SELECT status, finished_at, error FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            values = writes.run_end(run_id, before, update)
            assignments = ", ".join(f"{column} = :{column}" for column in values)
            connection.execute(
                f"UPDATE runs SET {assignments} WHERE id = :run_id",
                _bound(values | {"run_id": run_id}),
            )

    def heartbeat(self, run_id: str) -> None:
        with self._file.writing() as connection:
            touched = connection.execute(
                "UPDATE runs SET heartbeat_at = ? WHERE id = ?", (stored(utcnow()), run_id)
            ).rowcount
        if not touched:
            raise NotFound(f"no run {run_id}; create it first")

    def record_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        """As `Repository.record_tasks`: the whole batch in one transaction, idempotent."""
        if not tasks:
            return
        batch = writes.Batch.of(tasks)
        with self._file.writing() as connection:
            run_ids = sorted(batch.run_ids())
            known = connection.execute(
                f"SELECT id FROM runs WHERE id IN ({', '.join('?' * len(run_ids))})", run_ids
            ).fetchall()
            writes.require_runs(set(run_ids), (run_id for (run_id,) in known))
            recorded = _recorded_attempts(connection, batch.task_ids())
            rows = writes.attempt_rows(batch, recorded, utcnow())
            if rows is not None:
                _write_attempts(connection, rows)

    def find_cached(self, cache_key: str) -> TaskRecord | None:
        return self._file.repository().find_cached(cache_key)

    def _recorded_run(self, run_id: str) -> dict[str, Any] | None:
        columns = ", ".join(writes.RUN_CHECKED)
        with self._file.reading() as connection:
            row = connection.execute(
                f"SELECT {columns} FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
        if row is None:
            return None
        return dict(row) | {"parameters": json.loads(row["parameters"])}


def _recorded_attempts(
    connection: sqlite3.Connection, task_ids: list[str]
) -> dict[tuple[str, int], Mapping[str, Any]]:
    recorded: dict[tuple[str, int], Mapping[str, Any]] = {}
    columns = ", ".join(("task_id", "attempt", *OUTCOME_COLUMNS))
    for start in range(0, len(task_ids), _CHUNK):
        chunk = task_ids[start : start + _CHUNK]
        query = f"SELECT {columns} FROM attempts WHERE task_id IN ({', '.join('?' * len(chunk))})"
        for row in connection.execute(query, chunk):
            recorded[row["task_id"], row["attempt"]] = row
    return recorded


def _write_attempts(connection: sqlite3.Connection, rows: writes.AttemptRows) -> None:
    _insert_ignore(connection, "artifacts", rows.artifacts)
    if rows.tasks:
        updated = [*ATTEMPT_COLUMNS, "attempt"]
        assignments = [f'"{column}" = excluded."{column}"' for column in updated]
        assignments += [
            "attempts = max(tasks.attempts, excluded.attempts)",
            "started_at = coalesce(excluded.started_at, tasks.started_at)",
        ]
        upsert = (
            f"{_insert_statement('tasks', rows.tasks[0], conflict='')} ON CONFLICT (id) DO UPDATE "
            f"SET {', '.join(assignments)} WHERE tasks.attempt <= excluded.attempt"
        )
        connection.executemany(upsert, [_bound(row) for row in rows.tasks])
    _insert_ignore(connection, "attempts", rows.fresh)
    if rows.finished:
        assignments = [f'"{c}" = :{c}' for c in ATTEMPT_COLUMNS if c != "started_at"]
        assignments.append("started_at = coalesce(:started_at, started_at)")
        connection.executemany(
            f"UPDATE attempts SET {', '.join(assignments)} "
            "WHERE task_id = :task_id AND attempt = :attempt",
            [_bound(row) for row in rows.finished],
        )
    _insert_ignore(connection, "events", rows.events)
    _insert_ignore(connection, "metrics", rows.metrics)
    if rows.cached:
        upsert = (
            f"{_insert_statement('cache_entries', rows.cached[0], conflict='')} "
            "ON CONFLICT (cache_key) DO UPDATE SET task_id = excluded.task_id, "
            "attempt = excluded.attempt, created_at = excluded.created_at"
        )
        connection.executemany(upsert, [_bound(row) for row in rows.cached])


def _insert_statement(table: str, row: Row, *, conflict: str = "ON CONFLICT DO NOTHING") -> str:
    """An INSERT of rows with the keys of ``row``, named parameters, and ``conflict``."""
    columns = ", ".join(f'"{column}"' for column in row)
    values = ", ".join(f":{column}" for column in row)
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) {conflict}".rstrip()


def _insert_ignore(connection: sqlite3.Connection, table: str, rows: list[Row]) -> None:
    """Insert ``rows``, skipping those whose key is recorded already."""
    if rows:
        connection.executemany(_insert_statement(table, rows[0]), [_bound(row) for row in rows])


def _bound(row: Row) -> Row:
    """``row``'s values as they are stored (most are stored as they are: checked here, since a
    row of a fan-in's lineage can hold thousands)."""
    return {
        column: value if type(value) in AS_IS else stored(value) for column, value in row.items()
    }


__all__ = ["EmbeddedSink"]
