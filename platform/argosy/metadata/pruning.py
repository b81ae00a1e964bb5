"""Which runs `argosy gc` deletes: a selection of runs, less those that must stay.

A `RunSelection` names runs by age, status, pipeline, owner and id, and may keep the newest few
of each pipeline; `choose_runs` reads which recorded runs it selects and sorts them into those
that go and those that stay, with the reason each stays:

* a **live** run (pending, or running with a fresh heartbeat: `argosy.metadata.liveness`) is
  never deleted; a lost one (running, its heartbeat stale) reads as failed and may go;
* the **origin** of a run that stays, when that run still reads the origin's records: a live
  resumed run reads its origin's output and import records, and a resumed run whose tasks were
  cloned reads their logs from the origin (`argosy.runtime.resume`). This follows chains: the
  origin of a kept origin stays too.

Everything here reads; `argosy.metadata.deletion` deletes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Connection, and_, func, select

from argosy.metadata import liveness
from argosy.metadata.models import RunRow, TaskRow
from argosy.metadata.schemas import RunStatus

CHUNK = 500
"""Keys per ``IN (...)`` list, well under every database's bound-parameter limit."""
LIVE = frozenset({RunStatus.PENDING, RunStatus.RUNNING})
"""Statuses of runs that may still write (a lost run reads as failed, so is not among them)."""

T = TypeVar("T")


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """``values`` in lists of at most ``size``, in a stable order."""
    ordered = sorted(values)  # type: ignore[type-var]
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


@dataclass(frozen=True)
class RunSelection:
    """The runs to delete: those matching every filter given. Without any filter (only an
    owner), none: `selects` is False."""

    created_before: datetime | None = None
    """Runs started before this moment."""
    statuses: frozenset[RunStatus] = frozenset()
    """Runs in one of these statuses, as read (a lost run reads as failed)."""
    pipeline: str | None = None
    keep_last: int | None = None
    """Keep the newest this many runs of each pipeline (of the owner), whatever else matches."""
    run_ids: tuple[str, ...] = ()
    """Only these runs (full ids)."""
    owner: str | None = None
    """Only this owner's runs (``user:<name>``, ``production``); None: every owner's."""

    @property
    def selects(self) -> bool:
        """Whether any filter names runs to delete (an owner alone does not)."""
        return bool(
            self.created_before is not None
            or self.statuses
            or self.pipeline is not None
            or self.keep_last is not None
            or self.run_ids
        )


@dataclass(frozen=True)
class ChosenRun:
    """A selected run, as it reads now."""

    id: str
    pipeline: str
    status: RunStatus
    created_at: datetime
    owner: str | None


@dataclass(frozen=True)
class KeptRun:
    """A selected run that stays, and why."""

    id: str
    reason: str


@dataclass(frozen=True)
class RunChoice:
    """What a selection comes to: the runs that go (oldest first) and the selected ones kept."""

    doomed: list[ChosenRun] = field(default_factory=list)
    kept: list[KeptRun] = field(default_factory=list)

    @property
    def doomed_ids(self) -> frozenset[str]:
        return frozenset(run.id for run in self.doomed)


def choose_runs(
    connection: Connection, selection: RunSelection, lost_before: datetime
) -> RunChoice:
    """The runs ``selection`` deletes, and those it selects but must keep."""
    if not selection.selects:
        return RunChoice()
    status = liveness.status_column(lost_before)
    filters = _filters(selection, status)
    columns = (RunRow.id, RunRow.pipeline, status, RunRow.created_at, RunRow.owner)
    groups = [[RunRow.id.in_(ids)] for ids in chunks(selection.run_ids)] or [[]]
    selected = [
        ChosenRun(run, pipeline, RunStatus(read), created_at, owner)
        for group in groups
        for run, pipeline, read, created_at, owner in connection.execute(
            select(*columns).where(*filters, *group)
        )
    ]
    newest = _newest(connection, selection) if selection.keep_last is not None else set()
    kept = [
        KeptRun(run.id, f"it is among the {selection.keep_last} newest runs of {run.pipeline}")
        for run in selected
        if run.id in newest
    ]
    kept += [
        KeptRun(run.id, f"it is {run.status.value}")
        for run in selected
        if run.status in LIVE and run.id not in newest
    ]
    doomed = {run.id: run for run in selected if run.id not in newest and run.status not in LIVE}
    kept += _needed_origins(connection, doomed, lost_before)
    order = sorted(doomed.values(), key=lambda run: (run.created_at, run.id))
    return RunChoice(doomed=order, kept=sorted(kept, key=lambda run: run.id))


def _filters(selection: RunSelection, status: ColumnElement[str]) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if selection.created_before is not None:
        filters.append(RunRow.created_at < selection.created_before)
    if selection.statuses:
        filters.append(status.in_(sorted(s.value for s in selection.statuses)))
    if selection.pipeline is not None:
        filters.append(RunRow.pipeline == selection.pipeline)
    if selection.owner is not None:
        filters.append(RunRow.owner == selection.owner)
    return filters


def _newest(connection: Connection, selection: RunSelection) -> set[str]:
    """The ids of the ``keep_last`` newest runs of each pipeline (of the selection's owner and
    pipeline, whatever their status or age)."""
    scope = []
    if selection.owner is not None:
        scope.append(RunRow.owner == selection.owner)
    if selection.pipeline is not None:
        scope.append(RunRow.pipeline == selection.pipeline)
    rank = (
        func.row_number()
        .over(partition_by=RunRow.pipeline, order_by=(RunRow.created_at.desc(), RunRow.id.desc()))
        .label("rank")
    )
    ranked = select(RunRow.id, rank).where(*scope).subquery()
    newest = select(ranked.c.id).where(ranked.c.rank <= selection.keep_last)
    return set(connection.execute(newest).scalars())


def _needed_origins(
    connection: Connection, doomed: dict[str, ChosenRun], lost_before: datetime
) -> list[KeptRun]:
    """Take out of ``doomed`` the origins that runs staying still read; why each stays."""
    kept: list[KeptRun] = []
    changed = True
    while changed:  # a kept origin keeps its own origin in turn: until nothing changes
        changed = False
        for origin, reader in origin_readers(connection, list(doomed), lost_before):
            if reader not in doomed and origin in doomed:
                del doomed[origin]
                kept.append(KeptRun(origin, f"run {reader} resumed it and reads its records"))
                changed = True
    return kept


def origin_readers(
    connection: Connection, origins: Iterable[str], lost_before: datetime
) -> list[tuple[str, str]]:
    """(origin, reader) for each run resumed from one of ``origins`` that still reads it: a
    live one, or one with cloned tasks (their logs are the origin's)."""
    status = liveness.status_column(lost_before)
    cloned = (
        select(TaskRow.id)
        .where(and_(TaskRow.run_id == RunRow.id, TaskRow.cloned_from.is_not(None)))
        .exists()
    )
    live = status.in_(sorted(s.value for s in LIVE))
    found: list[tuple[str, str]] = []
    for ids in chunks(origins):
        query = select(RunRow.resumed_from, RunRow.id).where(
            RunRow.resumed_from.in_(ids), live | cloned
        )
        found += [(origin, reader) for origin, reader in connection.execute(query)]
    return found


def live_runs(connection: Connection, lost_before: datetime) -> dict[str, datetime]:
    """Every live run (any owner's), with when it started."""
    status = liveness.status_column(lost_before)
    started = func.coalesce(RunRow.started_at, RunRow.created_at)
    rows = connection.execute(
        select(RunRow.id, started.label("started")).where(status.in_(sorted(s.value for s in LIVE)))
    ).all()
    return {row.id: row.started for row in rows}


__all__ = [
    "CHUNK",
    "LIVE",
    "ChosenRun",
    "KeptRun",
    "RunChoice",
    "RunSelection",
    "choose_runs",
    "chunks",
    "live_runs",
    "origin_readers",
]
