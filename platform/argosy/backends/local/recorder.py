"""`RunRecorder`: a local run's metadata writes, off the scheduler's path, and never lost.

The scheduler hands each finished task's record to `add`, which appends it to the run's spool
(`argosy.metadata.spool`; a worker spools the records it sends itself) and returns at once. A
writer thread sends the records in batches (500 at a time, or whatever waits once the oldest is a
second old: one transaction per batch keeps a 1,000-wide fan-out's metadata cost low; and whatever
waits when the scheduler calls `flush`, as a wide step ends, so that it is written while the next
steps run rather than after the last) and, every ``heartbeat_seconds``, the run's heartbeat. While
the metadata service is away the writer retries for the client's time budget and the tasks go on
running; when the budget is spent (or anything else stops the writer), `check` raises in the
scheduler's loop and the run stops, its records kept in the spool for the next `argosy run` or
`argosy resume`. `close` spools the run's final status and has the writer send what is left, then
that status; the spool goes away only once the store has taken everything.

The writer holds `_SINK_CALL` while it talks to the store, and a fork in this process (the pool
starting or replacing a worker) waits a moment for it: a child forked while this thread is
inside SQLite or OpenSSL would inherit their locks held, and could wait on them forever.
"""

from __future__ import annotations

import os
import threading
import time

from argosy.errors import MetadataError, MetadataUnavailable
from argosy.metadata.schemas import RunUpdate, TaskRecord
from argosy.metadata.sink import MetadataSink
from argosy.metadata.spool import Spool

_SINK_CALL = threading.Lock()
_FORK_WAIT = 2.0
"""Seconds a fork waits for the writer's call to end (longer only in an outage, when the
writer waits between retries and holds nothing a child could need)."""
_held_for_fork = threading.local()


def _before_fork() -> None:
    _held_for_fork.held = _SINK_CALL.acquire(timeout=_FORK_WAIT)


def _after_fork_in_parent() -> None:
    if getattr(_held_for_fork, "held", False):
        _SINK_CALL.release()
        _held_for_fork.held = False


def _after_fork_in_child() -> None:
    global _SINK_CALL
    _SINK_CALL = threading.Lock()


os.register_at_fork(
    before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child
)


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
        self._flushing = False
        """`flush` asked for the records waiting to be sent now."""
        self._end: RunUpdate | None = None
        self._sent = False
        """Everything, the end included, is in the store: the spool can go."""
        self._failure: MetadataError | None = None
        sink.heartbeat(run_id)  # before any fork: the run is alive from its first moment
        self._writer = threading.Thread(target=self._write, name="argosy-recorder", daemon=True)
        self._writer.start()

    def add(self, record: TaskRecord, *, spooled: bool = False) -> None:
        """Record ``record``; ``spooled`` when its worker has put it in the spool already."""
        end = self._spool.end if spooled else self._spool.add_task(record)
        with self._wake:
            if not self._pending:
                self._since = time.monotonic()
                self._wake.notify()  # the writer may sleep until a heartbeat: wake it for max_age
            self._pending.append(record)
            self._pending_end = end
            if len(self._pending) >= self._batch:
                self._wake.notify()

    def flush(self, least: int = 1) -> None:
        """Have the writer send the records waiting now, if there are at least ``least``."""
        with self._wake:
            if len(self._pending) >= least:
                self._flushing = True
                self._wake.notify()

    def check(self) -> None:
        """Raise, in the caller's thread, what stopped the writer."""
        if self._failure is not None:
            raise self._failure

    def close(self, update: RunUpdate, *, wait: float | None = None) -> None:
        """Record the run's end, ``update``, after every record left; remove the spool.

        Waits ``wait`` seconds at most (None: the writer's whole retry budget). Raises
        MetadataError when the store has not taken everything by then: it stays spooled.
        """
        self._spool.add_update(update)
        with self._wake:
            self._end = update
            self._wake.notify()
        self._writer.join(wait)
        if self._writer.is_alive():  # the spool stays open, and locked, while it goes on
            raise MetadataUnavailable(
                f"the metadata store has not taken run {self._run_id}'s records yet; they are "
                f"kept in {self._spool.path}, and the next `argosy run` or `argosy resume "
                f"{self._run_id}` sends them"
            )
        self._spool.close(sent=self._sent)
        self.check()

    def _write(self) -> None:
        try:
            self._sent = self._send_until_the_end()
        except Exception as error:  # whatever it is, the run must hear of it
            self._failure = self._kept(error)

    def _send_until_the_end(self) -> bool:
        beat_at = time.monotonic() + self._heartbeat_seconds
        while True:
            with self._wake:
                while not self._due(beat_at):
                    self._wake.wait(self._wait(beat_at))
                records, upto, self._pending = self._pending, self._pending_end, []
                end, self._flushing = self._end, False
            with _SINK_CALL:
                if records:
                    self._sink.record_tasks(records)
                    self._spool.acknowledge(upto)
                if end is not None:
                    self._sink.update_run(self._run_id, end)
                    return True
                if time.monotonic() >= beat_at:
                    self._sink.heartbeat(self._run_id)
                    beat_at = time.monotonic() + self._heartbeat_seconds

    def _due(self, beat_at: float) -> bool:
        now = time.monotonic()
        return (
            self._end is not None
            or now >= beat_at
            or len(self._pending) >= self._batch
            or bool(self._pending and (self._flushing or now - self._since >= self._max_age))
        )

    def _wait(self, beat_at: float) -> float:
        now = time.monotonic()
        due = [beat_at - now]
        if self._pending:
            due.append(self._since + self._max_age - now)
        return max(0.0, min(due))

    def _kept(self, error: Exception) -> MetadataError:
        """``error``, saying where the records it could not send are kept."""
        kind = MetadataUnavailable if isinstance(error, MetadataUnavailable) else MetadataError
        failure = kind(
            f"{error}; the run's task records are kept in {self._spool.path}, and the next "
            f"`argosy run` or `argosy resume {self._run_id}` sends them"
        )
        failure.__cause__ = error
        return failure


__all__ = ["RunRecorder"]
