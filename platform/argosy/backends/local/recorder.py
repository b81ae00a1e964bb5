"""`RunRecorder`: a local run's metadata writes, off the scheduler's path, and never lost.

The scheduler hands each finished task's record to `add`, which appends it to the run's spool
(`argosy.metadata.spool`; a worker spools the records it sends itself) and returns at once. A
writer thread sends the records in batches (500 at a time, or whatever waits once the oldest is
a second old: one transaction per batch keeps a 1,000-wide fan-out's metadata cost low) and,
every ``heartbeat_seconds``, the run's heartbeat. While the metadata service is away the writer
retries for the client's time budget and the tasks go on running; when the budget is spent,
`check` raises in the scheduler's loop and the run stops, its records kept in the spool for the
next `argosy run` or `argosy resume`. `close` sends what is left, then the run's final status,
and removes the spool.
"""

from __future__ import annotations

import threading
import time

from argosy.errors import MetadataError, MetadataUnavailable
from argosy.metadata.schemas import RunUpdate, TaskRecord
from argosy.metadata.sink import MetadataSink
from argosy.metadata.spool import Spool


class RunRecorder:
    """Records one run's task records through ``spool`` and ``sink``, with heartbeats."""

    def __init__(
        self,
        sink: MetadataSink,
        spool: Spool,
        run_id: str,
        *,
        heartbeat_seconds: float,
        batch: int = 500,
        max_age: float = 1.0,
    ) -> None:
        self._sink = sink
        self._spool = spool
        self._run_id = run_id
        self._heartbeat_seconds = heartbeat_seconds
        self._batch = batch
        self._max_age = max_age
        self._wake = threading.Condition()
        self._pending: list[TaskRecord] = []
        self._pending_end = spool.end
        self._since = time.monotonic()
        self._closing = False
        self._failure: MetadataError | None = None
        self._writer = threading.Thread(target=self._write, name="argosy-recorder", daemon=True)
        self._writer.start()

    def add(self, record: TaskRecord, *, spooled: bool = False) -> None:
        """Record ``record``; ``spooled`` when its worker has put it in the spool already."""
        end = self._spool.end if spooled else self._spool.add_task(record)
        with self._wake:
            if not self._pending:
                self._since = time.monotonic()
            self._pending.append(record)
            self._pending_end = end
            if len(self._pending) >= self._batch:
                self._wake.notify()

    def check(self) -> None:
        """Raise, in the caller's thread, what stopped the writer (its retry budget spent)."""
        if self._failure is not None:
            raise self._failure

    def close(self, update: RunUpdate) -> None:
        """Send every record left, then ``update`` (the run's end); remove the spool.

        Raises MetadataError when the metadata store did not take them; they stay spooled.
        """
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._writer.join()
        if self._failure is None:
            self._spool.add_update(update)
            try:
                self._sink.update_run(self._run_id, update)
            except MetadataError as error:
                self._failure = self._kept(error)
        self._spool.close(sent=self._failure is None)
        self.check()

    def _write(self) -> None:
        beat_at = time.monotonic()
        while True:
            with self._wake:
                while not self._due(beat_at):
                    self._wake.wait(self._wait(beat_at))
                records, end, self._pending = self._pending, self._pending_end, []
                closing = self._closing
            try:
                if records:
                    self._sink.record_tasks(records)
                    self._spool.acknowledge(end)
                if closing:
                    return
                if time.monotonic() >= beat_at:
                    self._sink.heartbeat(self._run_id)
                    beat_at = time.monotonic() + self._heartbeat_seconds
            except MetadataError as error:
                self._failure = self._kept(error)
                return

    def _due(self, beat_at: float) -> bool:
        now = time.monotonic()
        return (
            self._closing
            or now >= beat_at
            or len(self._pending) >= self._batch
            or bool(self._pending and now - self._since >= self._max_age)
        )

    def _wait(self, beat_at: float) -> float:
        now = time.monotonic()
        due = [beat_at - now]
        if self._pending:
            due.append(self._since + self._max_age - now)
        return max(0.0, min(due))

    def _kept(self, error: MetadataError) -> MetadataError:
        """``error``, saying where the records it could not send are kept."""
        kind = MetadataUnavailable if isinstance(error, MetadataUnavailable) else MetadataError
        failure = kind(
            f"{error}; the run's task records are kept in {self._spool.path}, and the next "
            f"`argosy run` or `argosy resume {self._run_id}` sends them"
        )
        failure.__cause__ = error
        return failure


__all__ = ["RunRecorder"]
