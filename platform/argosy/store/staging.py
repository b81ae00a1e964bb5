"""Temporary files in a store's staging directory: who wrote them, when they are stale, full disks.

Every write of a store lands in a staging file first, named ``<what>-<pid>@<host>-<random>``
after the process that writes it. A process killed mid-write (SIGKILL, OOM, a lost node) leaves
its file behind; `sweep` removes the files whose writer is gone, so crashes do not fill the
disk run after run:

* a file of a process of this host that is no longer running, once untouched for
  `DEAD_WRITER_AFTER` seconds (a grace for processes in another PID namespace);
* any other file (another host's, or one from an older Argosy) once untouched for
  `ABANDONED_AFTER` seconds.

A file of a process that is still running is never removed. A disk or quota that fills up while
a store writes is reported by `reporting_full_disk`: which directory, how much was being
written, and what to do.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from argosy.errors import StoreError

DEAD_WRITER_AFTER = 60.0
"""Seconds a staging file of a process of this host that has exited is kept."""
ABANDONED_AFTER = 24 * 3600.0
"""Seconds a staging file whose writer cannot be told apart is kept, untouched."""

_NAME = re.compile(r"[a-z]+-(?P<pid>\d+)@(?P<host>.+)-[^-]+")
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def new_file(directory: Path, what: str, suffix: str = "") -> tuple[int, Path]:
    """A new staging file in ``directory``, named after this process: its descriptor and path.

    ``suffix`` ends the name (``.parquet``: for writers that pick a format by it).
    """
    fd, name = tempfile.mkstemp(
        dir=directory, prefix=f"{what}-{os.getpid()}@{_host()}-", suffix=suffix
    )
    return fd, Path(name)


def new_folder(directory: Path, what: str) -> Path:
    """A new, empty staging folder in ``directory``, named after this process (swept as files
    are when this process is gone)."""
    return Path(tempfile.mkdtemp(dir=directory, prefix=f"{what}-{os.getpid()}@{_host()}-"))


def sweep(directory: Path) -> list[Path]:
    """Remove the stale staging files (and folders) in ``directory``; the paths removed."""
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    for entry in entries:
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue  # its writer finished with it meanwhile
        if _stale(entry.name, age):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
    return removed


@contextmanager
def reporting_full_disk(directory: Path, needed: int | None = None) -> Iterator[None]:
    """Turn a full disk (or quota) met while writing under ``directory`` into a StoreError."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        raise full_disk(directory, needed, exc.strerror or str(exc)) from exc


def full_disk(directory: Path, needed: int | None, reason: str) -> StoreError:
    """The error for a write under ``directory`` that found its disk (or quota) full, for the
    ``reason`` the system gave."""
    size = f"{needed:,} bytes" if needed is not None else "to it"
    try:
        free = f", {shutil.disk_usage(directory).free:,} bytes free"
    except OSError:
        free = ""
    return StoreError(
        f"the disk holding {directory} is full ({reason}{free}) while writing {size}; "
        "nothing was stored. Free space on it, or set ARGOSY_HOME to a directory on a disk "
        "with room, then run again"
    )


def _stale(name: str, age: float) -> bool:
    match = _NAME.fullmatch(name)
    if match is None or match["host"] != _host():
        return age > ABANDONED_AFTER
    return age > DEAD_WRITER_AFTER and not _running(int(match["pid"]))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _host() -> str:
    return socket.gethostname().replace("/", "_")


__all__ = [
    "ABANDONED_AFTER",
    "DEAD_WRITER_AFTER",
    "full_disk",
    "new_file",
    "new_folder",
    "reporting_full_disk",
    "sweep",
]
