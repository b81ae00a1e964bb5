"""Lost runs: a run recorded as running whose runner has stopped sending heartbeats.

A local runner records a heartbeat every few seconds (`MetadataSink.heartbeat`, stamped with
the metadata store's own clock). When the runner is killed, or its machine goes down, nothing
ever records the run's end; reads then show the run as failed, with an error that says what
happened and how to resume it, once its last heartbeat is older than ``lost_after`` seconds.
Nothing is written: a runner that comes back (after a long metadata outage, say) sends its next
heartbeat and the run reads as running again. Runs that never sent a heartbeat (Argo runs,
whose controller owns their status) are never lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case

from argosy.metadata.models import RunRow
from argosy.metadata.schemas import RunPublic, RunStatus
from argosy.metadata.writes import utcnow


def lost_before(lost_after: float) -> datetime:
    """Runs whose last heartbeat is older than this are lost."""
    return utcnow() - timedelta(seconds=lost_after)


def _is_lost(cutoff: datetime) -> ColumnElement[bool]:
    return and_(RunRow.status == RunStatus.RUNNING.value, RunRow.heartbeat_at < cutoff)


def status_column(cutoff: datetime) -> ColumnElement[str]:
    """The status a run reads as: FAILED for a lost run, else the recorded one."""
    return case((_is_lost(cutoff), RunStatus.FAILED.value), else_=RunRow.status)


def run_public(row: Any, cutoff: datetime) -> RunPublic:
    """``row`` (a `RunRow`) as readers see it, a lost run as failed."""
    run = RunPublic.model_validate(row)
    if run.status is not RunStatus.RUNNING or row.heartbeat_at is None:
        return run
    if row.heartbeat_at >= cutoff:
        return run
    error = (
        f"the runner stopped sending heartbeats at {row.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC "
        "(it was killed, or its machine went down); finished tasks are kept: "
        f"continue with `argosy resume {run.id}`"
    )
    return run.model_copy(update={"status": RunStatus.FAILED, "error": error})


__all__ = ["lost_before", "run_public", "status_column"]
