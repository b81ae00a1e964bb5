"""`ForkSafeConnection` across a fork: closed before it, and not waited on past `FORK_WAIT` while
another thread is inside a long call (the child then opens a connection of its own)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from argosy.sqlite_connection import FORK_WAIT, ForkSafeConnection


def _open(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


def _child_inserts(connection: ForkSafeConnection) -> int:
    """Fork a child that inserts a row through ``connection``; its exit code."""
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            with connection.transaction(create=True) as database:
                assert database is not None
                database.execute("INSERT INTO t VALUES (1)")
            ok = True
        finally:
            os._exit(0 if ok else 1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _count(connection: ForkSafeConnection) -> int:
    with connection.using(create=False) as database:
        assert database is not None
        return database.execute("SELECT count(*) FROM t").fetchone()[0]


def test_a_fork_closes_the_connection_and_both_sides_go_on(tmp_path: Path) -> None:
    connection = ForkSafeConnection(tmp_path / "f.sqlite", _open)
    with connection.using(create=True) as database:
        assert database is not None
        database.execute("CREATE TABLE t (x)")
    assert _child_inserts(connection) == 0
    assert _count(connection) == 1


def test_a_fork_waits_a_moment_for_a_long_call_then_goes_on(tmp_path: Path) -> None:
    connection = ForkSafeConnection(tmp_path / "f.sqlite", _open)
    with connection.using(create=True) as database:
        assert database is not None
        database.execute("CREATE TABLE t (x)")
    inside, release = threading.Event(), threading.Event()

    def long_call() -> None:
        with connection.using(create=True):
            inside.set()
            release.wait(30)

    thread = threading.Thread(target=long_call)
    thread.start()
    inside.wait(10)
    started = time.monotonic()
    code = _child_inserts(connection)
    waited = time.monotonic() - started
    release.set()
    thread.join()
    assert code == 0
    assert FORK_WAIT <= waited < FORK_WAIT + 10
    assert _count(connection) == 1
