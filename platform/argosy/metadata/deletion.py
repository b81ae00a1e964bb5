"""Deleting runs' rows and the artifact rows nothing references any more, for `argosy gc`.

`delete_run` removes one run and everything recorded under it (tags, tasks, attempts, events,
metrics, and the cache entries that point at its tasks; found through its tasks, by key) in the
caller's transaction, after
checking again, inside that transaction, that the run may go: it is not live, and no run that
stays reads its records (see `argosy.metadata.pruning`). A run that came back to life, or was
resumed since the plan was made, is left alone.

`delete_artifacts` removes artifact rows no event, task or attempt points at any more (the
events' references are a foreign key, found by index; the outputs of tasks and attempts are
looked for in one pass over each table). On Postgres it first takes a lock on ``artifacts``
that writers of task records wait for (they insert the artifact rows they point at, skipping
those that exist, then point at them): so no writer can find a row present, lose it to this
delete, and then point at nothing. SQLite's write lock (``BEGIN IMMEDIATE``) does the same
there.
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
from argosy.metadata.references import outputs_among


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
    tasks = select(TaskRow.id).where(TaskRow.run_id == run_id)
    count = connection.execute(
        select(func.count()).select_from(TaskRow).where(TaskRow.run_id == run_id)
    ).scalar_one()
    for model in (CacheEntryRow, MetricRow, EventRow, AttemptRow):  # by task: their keys
        connection.execute(delete(model).where(model.task_id.in_(tasks)))
    connection.execute(delete(TaskRow).where(TaskRow.run_id == run_id))
    connection.execute(delete(RunTagRow).where(RunTagRow.run_id == run_id))
    connection.execute(delete(RunRow).where(RunRow.id == run_id))
    return DeletedRun(run_id, count)


def delete_artifacts(connection: Connection, digests: Iterable[str]) -> int:
    """Delete the rows of those of ``digests`` nothing points at any more; how many went."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE artifacts IN SHARE ROW EXCLUSIVE MODE"))
    unused = set(digests)
    unused -= outputs_among(connection, unused)
    events = select(EventRow.task_id).where(EventRow.artifact_digest == ArtifactRow.digest)
    deleted = 0
    for chunk in chunks(unused):
        deleted += connection.execute(
            delete(ArtifactRow).where(ArtifactRow.digest.in_(chunk), ~events.exists())
        ).rowcount
    return deleted


__all__ = ["DeletedRun", "delete_artifacts", "delete_run"]
