"""Batched metadata writes: the scheduler records task attempts many at a time.

One `record_tasks` call per batch instead of one per task keeps a 1,000-wide fan-out's
metadata cost to a few transactions; a batch goes out when it is full or a second old, and
whatever is left when the run ends.
"""

from __future__ import annotations

import time

from argosy.metadata.schemas import TaskRecord
from argosy.metadata.sink import MetadataSink


class RecordBuffer:
    """Collects `TaskRecord`s and writes them through ``sink`` in batches."""

    def __init__(self, sink: MetadataSink, *, batch: int = 500, max_age: float = 1.0) -> None:
        self._sink = sink
        self._batch = batch
        self._max_age = max_age
        self._records: list[TaskRecord] = []
        self._since = time.monotonic()

    def add(self, record: TaskRecord) -> None:
        if not self._records:
            self._since = time.monotonic()
        self._records.append(record)
        if len(self._records) >= self._batch:
            self.flush()

    def due_in(self) -> float | None:
        """Seconds until the pending batch must be written; None when nothing is pending."""
        if not self._records:
            return None
        return max(0.0, self._since + self._max_age - time.monotonic())

    def flush_if_due(self) -> None:
        if self._records and time.monotonic() - self._since >= self._max_age:
            self.flush()

    def flush(self) -> None:
        if self._records:
            records, self._records = self._records, []
            self._sink.record_tasks(records)


__all__ = ["RecordBuffer"]
