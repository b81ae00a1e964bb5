"""Deleting runs' rows and the artifact rows nothing references any more, for `argosy gc`.

`delete_run` removes one run and everything recorded under it (tags, tasks, attempts, events,
metrics, and the cache entries that point at its tasks) in the caller's transaction, after
checking again, inside that transaction, that the run may go: it is not live, and no run that
stays reads its records (see `argosy.metadata.pruning`). A run that came back to life, or was
resumed since the plan was made, is left alone.

`delete_artifacts` removes artifact rows no event, task or attempt points at any more. On
Postgres it first takes a lock on ``artifacts`` that writers of task records wait for (they
insert the artifact rows they point at, skipping those that exist, then point at them): so no
writer can find a row present, lose it to this delete, and fail on its reference. SQLite's
write lock (``BEGIN IMMEDIATE``) does the same there.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, text

from argosy.metadata import liveness
from argosy.metadata.models import (
    ArtifactRow,
    AttemptRow,
    CacheEntryRow,
    EventRow,
    MetricRow,
    RunRow,
    RunTagRow,
    TaskRow,
)
from argosy.metadata.pruning import LIVE, chunks, origin_readers


@dataclass(frozen=True)
class DeletedRun:
    """What went with one run."""

    id: str
    tasks: int
    """Task rows deleted."""


def delete_run(
    connection: Connection, run_id: str, leaving: Set[str], lost_before: datetime
) -> DeletedRun | None:
    """Delete run ``run_id`` and its rows, unless it is live or a run outside ``leaving``
    (the runs this pass deletes) reads its records; None when it stays (or is gone already)."""
    status = connection.execute(
        select(liveness.status_column(lost_before)).where(RunRow.id == run_id)
    ).scalar()
    if status is None or status in LIVE:
        return None
    readers = origin_readers(connection, [run_id], lost_before)
    if any(reader not in leaving for _, reader in readers):
        return None
    tasks = select(TaskRow.id).where(TaskRow.run_id == run_id).scalar_subquery()
    count = connection.execute(
        select(func.count()).select_from(TaskRow).where(TaskRow.run_id == run_id)
    ).scalar_one()
    connection.execute(delete(CacheEntryRow).where(CacheEntryRow.task_id.in_(tasks)))
    for model in (MetricRow, EventRow, AttemptRow, TaskRow, RunTagRow):
        connection.execute(delete(model).where(model.run_id == run_id))
    connection.execute(delete(RunRow).where(RunRow.id == run_id))
    return DeletedRun(run_id, count)


def delete_artifacts(connection: Connection, digests: Iterable[str]) -> int:
    """Delete the rows of those of ``digests`` nothing points at any more; how many went."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE artifacts IN SHARE ROW EXCLUSIVE MODE"))
    unused = [
        ~select(column).where(column == ArtifactRow.digest).exists()
        for column in (EventRow.artifact_digest, TaskRow.output_digest, AttemptRow.output_digest)
    ]
    deleted = 0
    for chunk in chunks(digests):
        deleted += connection.execute(
            delete(ArtifactRow).where(ArtifactRow.digest.in_(chunk), *unused)
        ).rowcount
    return deleted


__all__ = ["DeletedRun", "delete_artifacts", "delete_run"]
