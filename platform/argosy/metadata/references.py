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
        for column, run in _USES:
            used.update(
                connection.execute(
                    select(column).where(run.in_(ids), column.is_not(None)).distinct()
                ).scalars()
            )
    only: set[str] = set(used)
    for digests in chunks(used):
        for column, run in _USES:
            rows = connection.execute(
                select(column, run).where(column.in_(digests)).distinct()
            ).all()
            only.difference_update(digest for digest, user in rows if user not in leaving)
    return only


_USES = (
    (EventRow.artifact_digest, EventRow.run_id),
    (TaskRow.output_digest, TaskRow.run_id),
    (AttemptRow.output_digest, AttemptRow.run_id),
)
"""Every column that points at an artifact, with the run of its row."""


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


__all__ = ["References", "leaving_artifacts", "references"]
