"""A worker's process tree: what its tasks start stays in it, and is found and killed there.

A worker is a child subreaper: a process its task starts stays its descendant even when the
process in between exits (a daemon's double fork, ``setsid``), so the worker's tree is all its
tasks started. The worker kills what is left of it after each task (`end_task`); the pool kills
a whole tree, the worker with it, on a timeout, an out-of-memory kill or shutdown (`kill_tree`).
Workers also die with the process that started them (`die_with_parent`). Processes are found by
their parent ids in ``/proc`` (kernels need not offer ``/proc/PID/task/TID/children``).
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import cache

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_PAGE = os.sysconf("SC_PAGE_SIZE")


@cache
def _prctl() -> Callable[..., int]:
    return ctypes.CDLL(None, use_errno=True).prctl


def _set(option: int, value: int) -> None:
    if _prctl()(option, value, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def adopt_orphans() -> None:
    """Become the parent of orphaned descendants, instead of init (a child subreaper)."""
    _set(_PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent() -> None:
    """Be SIGKILLed when the parent dies (strictly: when the thread that started this one ends).

    A parent that died before this call is noticed by the worker as its pipe's end-of-file.
    """
    _set(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class Process:
    """One live process, as ``/proc/PID/stat`` shows it."""

    pid: int
    parent: int
    resident: int
    """Resident set size, in bytes."""


def processes() -> list[Process]:
    """Every live process this one can see."""
    found = (stat(int(name)) for name in os.listdir("/proc") if name.isdigit())
    return [process for process in found if process is not None]


def stat(pid: int) -> Process | None:
    """Process ``pid``; None once it has exited (a zombie holds no memory and no children)."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        text = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    fields = text[text.rindex(b")") + 2 :].split()  # the command name may hold anything
    if fields[0] == b"Z":
        return None
    return Process(pid, parent=int(fields[1]), resident=int(fields[21]) * _PAGE)


def descendants(root: int, among: list[Process] | None = None) -> list[Process]:
    """The live processes below ``root``, from ``among`` (by default: all processes now)."""
    children: dict[int, list[Process]] = {}
    for process in processes() if among is None else among:
        children.setdefault(process.parent, []).append(process)
    found: list[Process] = []
    parents = [root]
    while parents:
        below = children.get(parents.pop(), [])
        found += below
        parents += [process.pid for process in below]
    return found


def kill_descendants(root: int) -> None:
    """SIGKILL every process below ``root``, until a look finds none it has not killed.

    ``root`` must be a subreaper that starts nothing meanwhile (this process, or a stopped
    one): a process killed as it forks then leaves its child to ``root``, where the next look
    finds it, and a killed process forks no more.
    """
    killed: set[int] = set()
    while found := [p.pid for p in descendants(root) if p.pid not in killed]:
        for pid in found:
            _signal(pid, signal.SIGKILL)
        killed.update(found)


def kill_tree(root: int) -> None:
    """SIGKILL ``root`` and every process below it: stopped first, so that it forks no more."""
    _signal(root, signal.SIGSTOP)
    kill_descendants(root)
    _signal(root, signal.SIGKILL)


def end_task() -> None:
    """Kill and reap what this process's task left running (one system call when nothing)."""
    try:
        while os.waitpid(-1, os.WNOHANG) != (0, 0):
            pass  # reaped a process that had exited: look again
    except ChildProcessError:
        return  # no child, so no descendant at all
    kill_descendants(os.getpid())
    try:
        while True:
            os.waitpid(-1, 0)  # the killed children, and orphans handed to us as they die
    except ChildProcessError:
        return


def _signal(pid: int, number: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, number)


__all__ = [
    "Process",
    "adopt_orphans",
    "descendants",
    "die_with_parent",
    "end_task",
    "kill_descendants",
    "kill_tree",
    "processes",
    "stat",
]
