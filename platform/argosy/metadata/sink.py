"""The one interface the runtime and the backends write metadata through.

Two implementations: the embedded `Repository` (SQLite or Postgres through SQLAlchemy) and the
HTTP `MetadataClient` of a metadata service. Every write is idempotent, so a retried call never
duplicates a record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from argosy.metadata.schemas import RunCreate, RunUpdate, TaskRecord


@runtime_checkable
class MetadataSink(Protocol):
    def check(self) -> None:
        """Raise MetadataUnavailable, saying what to fix, unless writes can be made."""

    def create_run(self, run: RunCreate) -> None:
        """Record a run (and its pipeline version); a no-op if the same run exists."""

    def update_run(self, run_id: str, update: RunUpdate) -> None: ...

    def heartbeat(self, run_id: str) -> None:
        """Say the run's runner is alive; a running run without one for a while reads as lost."""

    def record_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        """Record task attempts, their artifacts, input and output events, and metrics."""

    def find_cached(self, cache_key: str) -> TaskRecord | None:
        """The newest succeeded attempt with this cache key, if any."""


__all__ = ["MetadataSink"]
