"""`ForkSafeConnection`: one process's connection to a SQLite file, safe across forks and threads.

A SQLite connection must not cross a fork: a child that closes or uses its parent's connection
can lose the parent's locks or write-ahead log. A `ForkSafeConnection` opens its connection on
first use, lets one thread at a time use it, and closes it before this process forks (the child
opens its own, the parent reopens on its next use). A fork waits up to `FORK_WAIT` seconds for
a thread's call on the connection to end (one waiting out another process's write lock can take
a minute); past that it goes on, and the connection, like one found in a process other than its
opener's (a fork no hook saw), is left unused in the child and never closed there.

The local store's packed file (`argosy.store.packed`) and the embedded metadata database's fast
paths (`argosy.metadata.embedded_file`) keep their connections this way.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Opener = Callable[[Path], sqlite3.Connection]
"""Opens (and makes, when it is missing) the file, in autocommit mode (``isolation_level=None``)
and with ``check_same_thread=False``."""


class ForkSafeConnection:
    """This process's connection to the SQLite file at ``path``, opened by ``opener``."""

    def __init__(self, path: Path, opener: Opener) -> None:
        self.path = path
        self._opener = opener
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._pid = os.getpid()
        _open.add(self)

    @contextmanager
    def using(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        """The connection, used by one thread at a time; None when there is no file and
        ``create`` is false. SQLite's errors pass through."""
        lock, connection = self._take(create)
        try:
            yield connection
        finally:
            lock.release()

    def execute(
        self, statement: str, parameters: Sequence[Any] = (), *, create: bool
    ) -> list[Any] | None:
        """Run one statement (in autocommit mode: a write is its own transaction) and return
        its rows; None as `using` says. What `using` does for one statement, without the cost
        of a generator (a few microseconds: as much as a small read takes in SQLite)."""
        lock, connection = self._take(create)
        try:
            return (
                None if connection is None else connection.execute(statement, parameters).fetchall()
            )
        finally:
            lock.release()

    def _take(self, create: bool) -> tuple[threading.Lock, sqlite3.Connection | None]:
        """The lock, taken, and the connection (opened if need be)."""
        if self._pid != os.getpid():  # copied by a fork that bypassed the hooks below
            if self._connection is not None:
                _inherited.append(self._connection)  # the parent's: never use or close it
            self._connection, self._lock, self._pid = None, threading.Lock(), os.getpid()
        lock = self._lock
        lock.acquire()
        try:
            if self._connection is None and (create or self.path.exists()):
                self._connection = self._opener(self.path)
        except BaseException:
            lock.release()
            raise
        return lock, self._connection

    @contextmanager
    def transaction(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        """The connection in a write transaction, taken at once (no deadlock of two upgrading
        readers) and committed when the block ends; None as `using` says."""
        with self.using(create=create) as connection:
            if connection is None:
                yield None
                return
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            finally:
                if connection.in_transaction:  # the block or the commit failed
                    connection.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None


FORK_WAIT = 2.0
"""Seconds a fork waits for a thread's call on a connection to end before it goes on."""
_open: weakref.WeakSet[ForkSafeConnection] = weakref.WeakSet()
"""Every ForkSafeConnection of this process, to close before a fork."""
_forking: list[ForkSafeConnection] = []
"""The connections held (locked, closed) while this process forks."""
_inherited: list[sqlite3.Connection] = []
"""Connections a fork copied into this process without the hooks: kept, never used."""


def _before_fork() -> None:
    for held in list(_open):
        if held._lock.acquire(timeout=FORK_WAIT):
            _forking.append(held)
            held._close()
        # else: a thread is inside a long call (waiting out another process's write lock);
        # the child finds the connection copied, in `using`, and leaves it alone


def _after_fork_in_parent() -> None:
    while _forking:
        _forking.pop()._lock.release()


def _after_fork_in_child() -> None:
    while _forking:
        held = _forking.pop()
        held._lock = threading.Lock()
        held._pid = os.getpid()


os.register_at_fork(
    before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child
)

__all__ = ["FORK_WAIT", "ForkSafeConnection", "Opener"]
