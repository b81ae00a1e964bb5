"""`EmbeddedReader`: listing and finding runs on the embedded SQLite database, without SQLAlchemy.

``argosy runs`` spent about 0.3 s of its 0.4 s importing SQLAlchemy and building its models, to
read one page of the runs table. On a plain ``sqlite:///`` URL `open_reader` gives this reader,
which answers `list_runs`, `get_run` and `find_runs` (listing runs, and finding one by id,
prefix or pipeline) through sqlite3 (`argosy.metadata.embedded_file`), as
`argosy.metadata.queries` does through SQLAlchemy: the same filters, order, pages, cursors and
lost runs (`argosy.metadata.run_listing`); a test compares the two on one database, filter by
filter. Every other query goes to the file's `Repository`, opened on first use.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from argosy.metadata.embedded_file import EmbeddedFile, parsed_time, stored
from argosy.metadata.run_listing import (
    as_read,
    decode_cursor,
    encode_cursor,
    id_range,
    lost_before,
    no_run,
    page_size,
    tags_by_run,
)
from argosy.metadata.schemas import RunPublic, RunsPublic, RunStatus

_COLUMNS = (
    "id",
    "pipeline",
    "pipeline_version",
    "pipeline_ref",
    "parameters",
    "status",
    "backend",
    "started_at",
    "finished_at",
    "resumed_from",
    "workflow_name",
    "namespace",
    "error",
    "project",
    "owner",
)
"""The columns of `RunPublic` (its tags are rows of their own)."""
_SELECT = f"SELECT {', '.join(_COLUMNS)}, heartbeat_at, created_at FROM runs"
_STATUS = "CASE WHEN status = 'running' AND heartbeat_at < ? THEN 'failed' ELSE status END"
"""The status a run reads as: failed when it is lost (`argosy.metadata.liveness`)."""
_TAGGED = "EXISTS (SELECT 1 FROM run_tags WHERE run_tags.run_id = runs.id AND run_tags.tag = ?)"

Condition = tuple[str, tuple[Any, ...]]
"""A SQL condition and the values of its ``?`` placeholders."""


class EmbeddedReader:
    """Runs on the SQLite database at ``url`` (a plain ``sqlite:///`` URL), read through
    sqlite3; the rest of `MetadataReader` through a `Repository` of the same file."""

    def __init__(self, url: str, *, lost_after: float = 60.0) -> None:
        self._file = EmbeddedFile(url, lost_after=lost_after)
        self.url = url

    def __getattr__(self, name: str) -> Any:
        """What this reader does not answer itself: the file's `Repository`'s."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._file.repository(), name)

    def close(self) -> None:
        self._file.close()

    def list_runs(
        self,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
        *,
        project: str | None = None,
        owner: str | None = None,
        tags: Sequence[str] = (),
        id_prefix: str | None = None,
    ) -> RunsPublic:
        """As `Repository.list_runs`: one page, newest first, with the count of all pages."""
        limit = page_size(limit)
        cutoff = lost_before(self._file.lost_after)
        conditions: list[Condition] = []
        if id_prefix is not None:
            found = id_range(id_prefix)
            conditions.append(("0", ()) if found is None else ("id >= ? AND id < ?", found))
        for column, value in (("pipeline", pipeline), ("project", project), ("owner", owner)):
            if value is not None:
                conditions.append((f"{column} = ?", (value,)))
        if status is not None:
            conditions.append((f"{_STATUS} = ?", (stored(cutoff), RunStatus(status).value)))
        conditions += [(_TAGGED, (tag,)) for tag in dict.fromkeys(tags)]
        after = list(conditions)
        if cursor:  # an empty cursor (``?cursor=``) means the first page
            created_at, run_id = decode_cursor(cursor)
            at = stored(created_at)
            after.append(("(created_at < ? OR (created_at = ? AND id < ?))", (at, at, run_id)))
        with self._file.reading() as connection:
            rows = connection.execute(
                f"{_SELECT}{_where(after)} ORDER BY created_at DESC, id DESC LIMIT ?",
                (*_values(after), limit + 1),
            ).fetchall()
            (count,) = connection.execute(
                f"SELECT count(*) FROM runs{_where(conditions)}", _values(conditions)
            ).fetchone()
            page = rows[:limit]
            data = _runs(connection, page, cutoff)
        last = page[-1] if len(rows) > limit else None
        next_cursor = None if last is None else encode_cursor(_time(last["created_at"]), last["id"])
        return RunsPublic(data=data, next_cursor=next_cursor, count=count)

    def get_run(self, run_id: str) -> RunPublic:
        """As `Repository.get_run`: the run, a lost one as failed; `NotFound` if there is none."""
        with self._file.reading() as connection:
            rows = connection.execute(f"{_SELECT} WHERE id = ?", (run_id,)).fetchall()
            if not rows:
                raise no_run(run_id)
            return _runs(connection, rows, lost_before(self._file.lost_after))[0]

    def find_runs(self, prefix: str, limit: int = 10) -> list[RunPublic]:
        return self.list_runs(id_prefix=prefix, limit=limit).data


def _runs(
    connection: sqlite3.Connection, rows: list[sqlite3.Row], cutoff: datetime
) -> list[RunPublic]:
    """``rows`` as readers see them, each with its tags."""
    tags: dict[str, list[str]] = {}
    if rows:
        tags = tags_by_run(
            connection.execute(
                f"SELECT run_id, tag FROM run_tags WHERE run_id IN ({', '.join('?' * len(rows))})",
                [row["id"] for row in rows],
            )
        )
    return [
        as_read(
            RunPublic.model_validate(_fields(row) | {"tags": tags.get(row["id"], [])}),
            parsed_time(row["heartbeat_at"]),
            cutoff,
        )
        for row in rows
    ]


def _where(conditions: list[Condition]) -> str:
    return "".join(
        (" WHERE " if number == 0 else " AND ") + f"({sql})"
        for number, (sql, _) in enumerate(conditions)
    )


def _values(conditions: list[Condition]) -> tuple[Any, ...]:
    return tuple(value for _, values in conditions for value in values)


def _fields(row: sqlite3.Row) -> dict[str, Any]:
    fields = {column: row[column] for column in _COLUMNS}
    fields["parameters"] = json.loads(fields["parameters"])
    fields["started_at"] = parsed_time(fields["started_at"])
    fields["finished_at"] = parsed_time(fields["finished_at"])
    return fields


def _time(text: str) -> datetime:
    found = parsed_time(text)
    assert found is not None, "created_at is never null"
    return found


__all__ = ["EmbeddedReader"]
