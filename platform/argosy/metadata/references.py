"""What the runs that stay reference, for the mark of `argosy gc`: every artifact recorded, and
the runs whose store records may name artifacts the metadata does not.

The metadata names most of what runs use: each artifact a task wrote or read is a row of
``artifacts`` with the events and tasks that point at it. Three things it may miss, which the
caller reads from the store:

* the output records of a run that did not succeed (it is live, failed, cancelled or lost): a
  runner killed between writing an output record and recording the task leaves an output that
  only the store knows, and `argosy resume` takes it over from there (`unsettled`, with the
  tasks whose outputs the metadata has already);
* the imports a run captured that none of its tasks read yet (`imports`: import names by run);
* blobs a live run wrote and has not recorded yet: those are newer than its start (`live`).

`leaving_artifacts` tells which artifacts only the runs that go reference: their rows go with
them, and their blobs are unmarked.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from argosy.metadata import liveness
from argosy.metadata.models import (
    ArtifactRow,
    AttemptRow,
    EventRow,
    PipelineVersionRow,
    RunRow,
    TaskRow,
)
from argosy.metadata.pruning import chunks, live_runs
from argosy.metadata.schemas import RunStatus


@dataclass(frozen=True)
class References:
    """What the runs that stay use, as far as the metadata tells."""

    digests: frozenset[str]
    """Every recorded artifact, but those only the leaving runs reference."""
    leaving: frozenset[str]
    """The artifacts only the leaving runs reference: their rows go with those runs."""
    live: dict[str, datetime]
    """The live runs, with when each started."""
    unsettled: dict[str, frozenset[tuple[str, int]]]
    """Runs that stay and did not succeed (their output records may name more), each with the
    (step, index) of its tasks recorded with an output."""
    imports: dict[str, tuple[str, ...]]
    """Runs that stay whose pipeline imports data: the names of its imports."""


def references(
    connection: Connection, lost_before: datetime, leaving: frozenset[str] = frozenset()
) -> References:
    """What stays referenced once the runs ``leaving`` are gone."""
    recorded = set(connection.execute(select(ArtifactRow.digest)).scalars())
    only_leaving = leaving_artifacts(connection, leaving)
    status = liveness.status_column(lost_before)
    unsettled = [
        run
        for run in connection.execute(
            select(RunRow.id).where(status != RunStatus.SUCCEEDED.value)
        ).scalars()
        if run not in leaving
    ]
    return References(
        digests=frozenset(recorded - only_leaving),
        leaving=frozenset(only_leaving),
        live=live_runs(connection, lost_before),
        unsettled=_recorded_outputs(connection, unsettled),
        imports={
            run: names for run, names in _runs_importing(connection).items() if run not in leaving
        },
    )


def leaving_artifacts(connection: Connection, leaving: Iterable[str]) -> set[str]:
    """The artifacts that the runs ``leaving`` reference and no other run does."""
    leaving = frozenset(leaving)
    used: set[str] = set()
    for ids in chunks(leaving):
        tasks = select(TaskRow.id).where(TaskRow.run_id.in_(ids))
        for column, task in _USES:
            used.update(
                connection.execute(
                    select(column).where(task.in_(tasks), column.is_not(None)).distinct()
                ).scalars()
            )
    only = used - outputs_among(connection, used, besides=leaving)
    for digests in chunks(only):
        readers = select(EventRow.artifact_digest, EventRow.run_id).where(
            EventRow.artifact_digest.in_(digests)
        )
        only.difference_update(d for d, run in connection.execute(readers) if run not in leaving)
    return only


def outputs_among(
    connection: Connection, digests: AbstractSet[str], besides: AbstractSet[str] = frozenset()
) -> set[str]:
    """Those of ``digests`` that a task or an attempt of a run not in ``besides`` has as its
    output. One pass over each table: the output digests have no index (`models`)."""
    found: set[str] = set()
    if not digests:
        return found
    for model in (TaskRow, AttemptRow):
        rows = connection.execute(
            select(model.output_digest, model.run_id)
            .where(model.output_digest.is_not(None))
            .execution_options(yield_per=_PASS)
        )
        found.update(d for d, run in rows if d in digests and run not in besides)
    return found


_USES = (
    (EventRow.artifact_digest, EventRow.task_id),
    (TaskRow.output_digest, TaskRow.id),
    (AttemptRow.output_digest, AttemptRow.task_id),
)
"""Every column that points at an artifact, with the task of its row."""
_PASS = 10_000
"""Rows fetched at a time in a pass over a table."""


def _recorded_outputs(
    connection: Connection, runs: Iterable[str]
) -> dict[str, frozenset[tuple[str, int]]]:
    """For each of ``runs``, the (step, index) of its tasks recorded with an output."""
    found: dict[str, set[tuple[str, int]]] = {run: set() for run in runs}
    for ids in chunks(found):
        rows = connection.execute(
            select(TaskRow.run_id, TaskRow.step, TaskRow.index).where(
                TaskRow.run_id.in_(ids), TaskRow.output_digest.is_not(None)
            )
        )
        for run, step, index in rows:
            found[run].add((step, index))
    return {run: frozenset(tasks) for run, tasks in found.items()}


def _runs_importing(connection: Connection) -> dict[str, tuple[str, ...]]:
    """Each run whose pipeline version imports data, with the names of its imports."""
    versions = {
        digest: tuple(item["name"] for item in (ir or {}).get("imports") or [])
        for digest, ir in connection.execute(
            select(PipelineVersionRow.digest, PipelineVersionRow.ir)
        )
    }
    importing = [digest for digest, names in versions.items() if names]
    runs: dict[str, tuple[str, ...]] = {}
    for digests in chunks(importing):
        for run, version in connection.execute(
            select(RunRow.id, RunRow.pipeline_version).where(RunRow.pipeline_version.in_(digests))
        ):
            runs[run] = versions[version]
    return runs


__all__ = ["References", "leaving_artifacts", "outputs_among", "references"]
