"""`EmbeddedSink`: the metadata writes of runs on the embedded SQLite database, without SQLAlchemy.

On the embedded database (``ARGOSY_HOME/metadata.db``, or any plain ``sqlite:///`` URL),
`open_sink` gives this sink, which speaks to SQLite through the standard library's sqlite3:
importing SQLAlchemy and building its models took about 0.3 s of the 1 s a trivial
`argosy run` took. It writes the rows `argosy.metadata.writes` makes, as `Repository` does (a
test compares the two databases row by row), in SQLite's form of what SQLAlchemy stores:
timestamps as naive UTC text with microseconds, JSON as text, booleans as 0 and 1.

Connections are set up as the Repository's are (`configure`: WAL, busy timeout, foreign keys)
and writes take the write lock up front (``BEGIN IMMEDIATE``), so the runner and the metadata
service queue on one file instead of failing. A database at another schema revision is migrated
through SQLAlchemy and Alembic on open (once); a cache look-up, which reads a whole task record
back, goes through a `Repository` opened on first use.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argosy.errors import Conflict, MetadataError, MetadataUnavailable, NotFound
from argosy.metadata import writes
from argosy.metadata.revision import SCHEMA_REVISION, require_revision
from argosy.metadata.schemas import RunCreate, RunUpdate, TaskRecord
from argosy.metadata.writes import ATTEMPT_COLUMNS, OUTCOME_COLUMNS, Row, as_utc, utcnow
from argosy.sqlite_connection import ForkSafeConnection

if TYPE_CHECKING:
    from argosy.metadata.repository import Repository

BUSY_TIMEOUT = 60.0
"""Seconds a write waits for another process's write before it fails."""
_CHUNK = 500
"""Keys per ``IN (...)`` list, well under SQLite's bound-parameter limit."""
_URL_PREFIX = "sqlite:///"


def database_path(url: str) -> Path | None:
    """The file of a plain SQLite URL (``sqlite:///path``); None for any other URL, and for
    one with query options or ``%`` escapes (the Repository reads those as SQLAlchemy does)."""
    path = url.removeprefix(_URL_PREFIX)
    if path == url or not path or path == ":memory:" or any(c in path for c in "?%"):
        return None
    return Path(path)


def configure(connection: sqlite3.Connection) -> None:
    """Set up a fresh connection to the metadata database: autocommit (transactions begin
    explicitly), a busy timeout, ``synchronous=NORMAL``, foreign keys on, WAL mode."""
    connection.isolation_level = None
    for pragma in (
        f"busy_timeout={int(BUSY_TIMEOUT * 1000)}",
        "synchronous=NORMAL",
        "foreign_keys=ON",
    ):
        connection.execute(f"PRAGMA {pragma}")
    _use_wal(connection)


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch the database file to WAL mode (once, it persists), waiting out other openers.

    SQLite answers a mode switch that races another connection with "database is locked" at
    once, without its busy handler, so retry here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while connection.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
        try:
            connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class EmbeddedSink:
    """A `MetadataSink` on the SQLite database at ``url`` (a plain ``sqlite:///`` URL)."""

    def __init__(self, url: str, *, lost_after: float = 60.0) -> None:
        path = database_path(url)
        if path is None:
            raise ValueError(f"{url!r} is not a plain sqlite:/// URL")
        self.url = url
        self._lost_after = lost_after
        self._file = ForkSafeConnection(path, _connect)
        self._repository: Repository | None = None
        self._opening = threading.Lock()
        if self._revision() != SCHEMA_REVISION:
            _migrate(url)

    def close(self) -> None:
        self._file.close()
        if self._repository is not None:
            self._repository.close()

    def check(self) -> None:
        require_revision(self._revision())

    def create_run(self, run: RunCreate) -> None:
        """As `Repository.create_run`: the same run again changes nothing, another run under
        its id is a `Conflict`."""
        recorded = self._recorded_run(run.id)
        if recorded is None:
            rows = writes.new_run(run, utcnow())
            with self._write() as connection:
                _insert_ignore(connection, "pipelines", [rows.pipeline])
                _insert_ignore(connection, "pipeline_versions", [rows.version])
                if run.pipeline_ir is not None:
                    connection.execute(
                        "UPDATE pipeline_versions SET ir = ? WHERE digest = ? AND ir IS NULL",
                        (_value(run.pipeline_ir), run.pipeline_version),
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
        with self._write() as connection:
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
        with self._write() as connection:
            touched = connection.execute(
                "UPDATE runs SET heartbeat_at = ? WHERE id = ?", (_value(utcnow()), run_id)
            ).rowcount
        if not touched:
            raise NotFound(f"no run {run_id}; create it first")

    def record_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        """As `Repository.record_tasks`: the whole batch in one transaction, idempotent."""
        if not tasks:
            return
        batch = writes.Batch.of(tasks)
        with self._write() as connection:
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
        with self._opening:
            if self._repository is None:
                from argosy.metadata.repository import Repository

                self._repository = Repository(self.url, migrate=False, lost_after=self._lost_after)
        return self._repository.find_cached(cache_key)

    def _revision(self) -> str | None:
        with self._errors(), self._file.using(create=True) as connection:
            assert connection is not None, "a file made on use is there"
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            if found is None:  # a new database
                return None
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else row[0]

    def _recorded_run(self, run_id: str) -> dict[str, Any] | None:
        columns = ", ".join(writes.RUN_CHECKED)
        with self._errors(), self._file.using(create=True) as connection:
            assert connection is not None, "a file made on use is there"
            row = connection.execute(
                f"SELECT {columns} FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
        if row is None:
            return None
        return dict(row) | {"parameters": json.loads(row["parameters"])}

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._errors(), self._file.transaction(create=True) as connection:
            assert connection is not None, "a file made on use is there"
            yield connection

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite's failures as Argosy's errors, as `argosy.metadata.database.errors` makes
        SQLAlchemy's."""
        try:
            yield
        except sqlite3.IntegrityError as error:
            raise Conflict(f"the write contradicts recorded metadata: {error}") from error
        except sqlite3.DataError as error:
            raise MetadataError(f"the database refused the values given: {error}") from error
        except sqlite3.Error as error:
            raise MetadataUnavailable(
                f"the metadata database failed ({type(error).__name__}: {error}); check that "
                f"{self.url} is reachable and migrated"
            ) from error
        except (OverflowError, UnicodeEncodeError) as error:
            raise writes.refused_value(error) from error
        except OSError as error:  # its folder cannot be made
            raise MetadataUnavailable(
                f"cannot open the metadata database {self.url} ({error}); set ARGOSY_HOME to a "
                "writable directory (or ARGOSY_DATABASE_URL to a database you can write)"
            ) from error


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT, check_same_thread=False)
    try:
        configure(connection)
    except BaseException:
        connection.close()
        raise
    connection.row_factory = sqlite3.Row
    return connection


def _migrate(url: str) -> None:
    """Bring the database to `SCHEMA_REVISION` (SQLAlchemy and Alembic are needed here only)."""
    from argosy.metadata import database

    engine = database.connect(url)
    try:
        database.migrate(engine)
    finally:
        engine.dispose()


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
    return {column: _value(value) for column, value in row.items()}


_AS_IS = frozenset({str, int, float, bool, bytes, type(None)})
"""Types sqlite3 stores as SQLAlchemy does (most values: checked first)."""


def _value(value: Any) -> Any:
    """A value in the form SQLAlchemy stores it on SQLite."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, datetime):
        return as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return json.dumps(value)
    return value


__all__ = ["BUSY_TIMEOUT", "EmbeddedSink", "configure", "database_path"]
