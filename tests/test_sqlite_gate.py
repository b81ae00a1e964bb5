"""`WriteGate`: writers in different processes take turns, a fork's copy never passes for the
parent, and a gate held too long (or one that cannot be opened) never stops a write."""

from __future__ import annotations

import ctypes
import fcntl
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from argosy import sqlite_gate
from argosy.sqlite_gate import SUFFIX, WriteGate
from argosy.store.local import LocalStore
from argosy.store.packed import FILE_NAME


def _hold(gate_path: str, held: Event, release: Event) -> None:
    """Hold the gate's lock, as a writer inside it does, until ``release``."""
    descriptor = os.open(gate_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    held.set()
    release.wait(60)
    fcntl.flock(descriptor, fcntl.LOCK_UN)


class _Holder:
    """Another process holding the gate of ``database`` until `release`."""

    def __init__(self, database: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.held, self._release = context.Event(), context.Event()
        gate = str(database) + SUFFIX
        self._process = context.Process(target=_hold, args=(gate, self.held, self._release))
        self._process.start()
        assert self.held.wait(60)

    def release(self) -> float:
        """Let go; when it did (``time.monotonic``)."""
        released = time.monotonic()
        self._release.set()
        self._process.join(60)
        assert self._process.exitcode == 0
        return released


def _done_after(
    holder: _Holder, write: Callable[[], object], *, hold: float
) -> tuple[float, float]:
    """When ``write``, run in a thread here, was done, and when ``holder`` (let go after
    ``hold`` seconds) left the gate."""
    done: list[float] = []
    writer = threading.Thread(target=lambda: done.append((write(), time.monotonic())[1]))
    writer.start()
    time.sleep(hold)
    released = holder.release()
    writer.join(60)
    return done[0], released


def _pass(gate: WriteGate) -> None:
    with gate.passing():
        pass


def test_a_writer_waits_for_the_one_inside_and_goes_in_as_it_leaves(tmp_path: Path) -> None:
    database = tmp_path / "f.sqlite"
    holder = _Holder(database)
    passed, released = _done_after(holder, lambda: _pass(WriteGate(database)), hold=0.3)
    assert passed >= released  # it waited its turn
    assert passed - released < 0.1  # and went in as the gate opened (a nap is at most 1 ms)


def test_a_gate_held_past_patience_is_passed_and_the_write_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_gate, "PATIENCE", 0.2)
    database = tmp_path / "f.sqlite"
    holder = _Holder(database)
    started = time.monotonic()
    try:
        with WriteGate(database).passing():
            went_on = time.monotonic()
    finally:
        holder.release()
    assert 0.2 <= went_on - started < 5


def test_a_gate_that_cannot_be_opened_lets_the_write_through(tmp_path: Path) -> None:
    ran = []
    with WriteGate(tmp_path / "missing-folder" / "f.sqlite").passing():
        ran.append(True)
    assert ran == [True]


def _child_waits_for_parent(tmp_path: Path, fork: Callable[[], int]) -> None:
    """Inside the parent's gate, a forked child must not pass it (its copy of the descriptor
    shares the parent's lock): it waits out `PATIENCE` and goes on without it."""
    gate = WriteGate(tmp_path / "f.sqlite")
    with gate.passing():
        child = fork()
        if child == 0:
            ok = False
            try:
                started = time.monotonic()
                with gate.passing():
                    ok = time.monotonic() - started >= sqlite_gate.PATIENCE
            finally:
                os._exit(0 if ok else 1)
        status = _exit_status(child)
    assert status == 0
    with gate.passing():  # the parent's own descriptor still works
        pass


def _exit_status(child: int, timeout: float = 30.0) -> int | None:
    """The exit code of ``child``; None, once it is killed, if it has not ended in ``timeout``
    seconds (stuck on a lock the fork copied)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    return None


def test_a_forked_child_does_not_pass_as_its_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_gate, "PATIENCE", 0.2)
    _child_waits_for_parent(tmp_path, os.fork)


def test_a_fork_the_hooks_did_not_see_is_caught_on_the_first_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_gate, "PATIENCE", 0.2)
    _child_waits_for_parent(tmp_path, ctypes.CDLL(None, use_errno=True).fork)


def _die_inside_after_forking(database: str, forked: Event, child_done: Event) -> None:
    """Fork a child that lingers without writing, then die inside the gate."""
    gate = WriteGate(Path(database))
    with gate.passing():
        if os.fork() == 0:
            child_done.wait(60)
            os._exit(0)
        forked.set()
        os._exit(0)


def test_a_writer_that_dies_inside_leaves_the_gate_open_though_its_child_lives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_gate, "PATIENCE", 5.0)
    database = tmp_path / "f.sqlite"
    context = multiprocessing.get_context("spawn")
    forked, child_done = context.Event(), context.Event()
    writer = context.Process(
        target=_die_inside_after_forking, args=(str(database), forked, child_done)
    )
    writer.start()
    try:
        assert forked.wait(60)
        while writer.exitcode is None:  # not join: the child holds the sentinel open too
            time.sleep(0.01)
        started = time.monotonic()
        _pass(WriteGate(database))
        assert time.monotonic() - started < 1.0  # the child closed its copy as it started
    finally:
        child_done.set()


def test_the_packed_store_writes_through_the_gate(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_record("runs/r/first", b"1")  # makes the file
    holder = _Holder(tmp_path / FILE_NAME)
    written, released = _done_after(
        holder, lambda: store.put_record("runs/r/second", b"2"), hold=0.3
    )
    assert written >= released
    assert store.get_record("runs/r/second") == b"2"
