"""Lost runs in SQL: the status a run reads as, for queries that filter or count by it.

A run recorded as running whose last heartbeat is older than the cutoff reads as failed
(`argosy.metadata.run_listing` says why, and turns a row read back into what readers see).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case

from argosy.metadata.models import RunRow
from argosy.metadata.run_listing import as_read
from argosy.metadata.schemas import RunPublic, RunStatus


def _is_lost(cutoff: datetime) -> ColumnElement[bool]:
    return and_(RunRow.status == RunStatus.RUNNING.value, RunRow.heartbeat_at < cutoff)


def status_column(cutoff: datetime) -> ColumnElement[str]:
    """The status a run reads as: FAILED for a lost run, else the recorded one."""
    return case((_is_lost(cutoff), RunStatus.FAILED.value), else_=RunRow.status)


def run_public(row: Any, cutoff: datetime) -> RunPublic:
    """``row`` (a `RunRow`) as readers see it, a lost run as failed."""
    return as_read(RunPublic.model_validate(row), row.heartbeat_at, cutoff)


__all__ = ["run_public", "status_column"]
