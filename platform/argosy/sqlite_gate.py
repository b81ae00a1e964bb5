"""`WriteGate`: the writers of one SQLite file, in every process of this machine, take turns.

SQLite lets one writer at a time into a file; another that finds it busy sleeps in SQLite's
busy handler, for 1 ms, then 2, then 5 and longer, before it looks again. A write to the local
store's packed file takes about 20 µs, so with two workers each writing two small rows per task,
about one write in ten found the file busy and slept 1.5 ms on average: over a 1,000-task
fan-out (`tests/benchmarks/bench_local.py`), 0.24 s of the workers' 0.6 s.

A writer passes the gate first: a lock on a file beside the database (``<file>-gate``, flock),
which it holds for one write. A writer that finds the gate taken looks again after 20 µs, then
at growing intervals up to `LONGEST_NAP`, so it goes in about as soon as the write before it
ends. The gate only orders writers that use it; SQLite's own lock still guards the file, so a
process that writes without the gate (an older Argosy, the ``sqlite3`` shell) is waited for as
before, and a writer that waits at the gate for longer than `PATIENCE` (a writer stopped while
inside it) goes on to SQLite's lock, which fails in its own time. The gate never loses a write
or lets one fail.

Each process opens the gate's file on first use and never uses a copy a fork left it: the
child closes the copy as it starts (a lock lives as long as any copy of its descriptor is
open, and a copy passes the gate whenever the original holds it), or, after a fork that skipped
Python's hooks (a C library's), on its first write.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUFFIX = "-gate"
"""What the gate's file adds to the database's name."""
FIRST_NAP = 20e-6
"""Seconds a writer that finds the gate taken waits before it looks again, at first."""
LONGEST_NAP = 1e-3
"""The longest wait between two looks (each wait doubles the one before, up to this)."""
PATIENCE = 1.0
"""Seconds a writer waits at the gate before it goes on to SQLite's own lock."""


class WriteGate:
    """The gate of the SQLite file at ``database``."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + SUFFIX)
        self._lock = threading.Lock()
        self._descriptor: int | None = None
        self._pid = os.getpid()
        _open.add(self)

    @contextmanager
    def passing(self) -> Iterator[None]:
        """Hold the gate (or, past `PATIENCE`, go on without it) for the block."""
        if self._pid != os.getpid():  # copied by a fork that bypassed the hook below
            self._forked()
        with self._lock:
            descriptor = self._opened()
            if descriptor is None or not _take(descriptor):
                yield
                return
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)

    def _opened(self) -> int | None:
        """This process's descriptor of the gate's file; None when it cannot be opened (a
        read-only folder: the write itself will say so)."""
        if self._descriptor is None:
            try:
                self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError:
                return None
        return self._descriptor

    def _close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
        self._descriptor = None

    def _forked(self) -> None:
        """In a forked child: close the copy of the parent's descriptor (it shares the parent's
        lock, held or not), and take a new thread lock (a thread of the parent may hold the old)."""
        self._lock = threading.Lock()
        self._close()
        self._pid = os.getpid()


def _take(descriptor: int) -> bool:
    """Take the lock on ``descriptor``; False when `PATIENCE` ran out first."""
    nap, deadline = FIRST_NAP, None
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            now = time.monotonic()
            deadline = deadline or now + PATIENCE
            if now >= deadline:
                return False
            time.sleep(nap)
            nap = min(nap * 2, LONGEST_NAP)


_open: weakref.WeakSet[WriteGate] = weakref.WeakSet()
"""Every WriteGate of this process, whose copies a forked child closes."""


def _after_fork_in_child() -> None:
    for gate in list(_open):
        gate._forked()


os.register_at_fork(after_in_child=_after_fork_in_child)

__all__ = ["LONGEST_NAP", "PATIENCE", "SUFFIX", "WriteGate"]
