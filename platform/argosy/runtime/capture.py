"""Capture of a task's stdout and stderr at the file-descriptor level.

Descriptors 1 and 2 are pointed at one temporary file while the task runs, so output written
by C extensions, by libc and by subprocesses is caught along with Python's, in the order it was
written; ``sys.stdout`` and ``sys.stderr`` write straight into the same file meanwhile (they
may have been replaced by objects that do not write to descriptors 1 and 2). The process's own
descriptors and streams are put back afterwards.

A task's log is capped as Kubernetes caps a container's (``ARGOSY_MAX_LOG_BYTES``, 10 MiB by
default): output beyond the cap is left out of the middle, where a line says how much, and
the first and last parts are kept. Only those parts are ever read into memory.
"""

from __future__ import annotations

import ctypes
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

from argosy.config import Settings

_STREAMS = (1, 2)
_limit: int = Settings.model_fields["max_log_bytes"].default
"""Bytes of a task's output its log keeps in this process (`limit_logs`)."""


def limit_logs(limit: int) -> None:
    """Keep at most ``limit`` bytes of each task's output captured in this process from now on."""
    global _limit
    _limit = limit


@dataclass
class Captured:
    """What the task wrote; filled in when the capture ends."""

    data: bytes = b""


@cache
def _libc_fflush() -> object | None:
    try:
        return ctypes.CDLL(None).fflush
    except (OSError, AttributeError):
        return None


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with suppress(OSError, ValueError):
                stream.flush()
    fflush = _libc_fflush()
    if fflush is not None:
        fflush(None)  # type: ignore[operator]


_files: dict[tuple[int, Path | None], BinaryIO] = {}
"""Capture files kept open, by process and path, emptied for each task (creating a file per
task is slow); a forked child must not share its parent's, whose offset would be shared."""


def _empty_file(path: Path | None) -> BinaryIO:
    key = (os.getpid(), path)
    file = _files.get(key)
    if file is None:  # kept open for the next task
        file = tempfile.TemporaryFile() if path is None else path.open("w+b")  # noqa: SIM115
        _files[key] = file
    file.seek(0)
    file.truncate()
    return file


@contextmanager
def captured_output(into: Path | None = None) -> Iterator[Captured]:
    """Send descriptors 1 and 2 into a file; the yielded object gets the bytes.

    The file is ``into`` when given, so that another process can read what a task wrote
    even if the task never returns (it crashed, or was killed when it ran out of time).
    """
    captured = Captured()
    _flush()
    streams = sys.stdout, sys.stderr
    sink = _empty_file(into)
    text = io.TextIOWrapper(
        io.FileIO(sink.fileno(), "w", closefd=False),
        encoding="utf-8",
        errors="backslashreplace",
        write_through=True,
    )
    saved = [os.dup(fd) for fd in _STREAMS]
    try:
        for fd in _STREAMS:
            os.dup2(sink.fileno(), fd)
        sys.stdout = sys.stderr = text
        yield captured
    finally:
        _flush()
        sys.stdout, sys.stderr = streams
        for fd, copy in zip(_STREAMS, saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        text.close()
        captured.data = _capped(sink, _limit)


def cap_log(path: Path, limit: int) -> None:
    """Cut the output captured in ``path`` to ``limit`` bytes in place, as `captured_output` would.

    For the log of a task that never returned (its worker died or was killed).
    """
    with path.open("r+b") as file:
        size = file.seek(0, os.SEEK_END)
        if size > limit:
            kept = _capped(file, limit)
            file.seek(0)
            file.write(kept)
            file.truncate()


def _capped(file: BinaryIO, limit: int) -> bytes:
    """What ``file`` holds; past ``limit`` bytes, its head and tail with a note in between.

    The cuts fall at line ends where the parts hold one, so that lines (and characters) stay
    whole.
    """
    size = file.seek(0, os.SEEK_END)
    file.seek(0)
    if size <= limit:
        return file.read()
    head = file.read(limit // 2)
    head = head[: head.rfind(b"\n") + 1] or head
    file.seek(size - (limit - limit // 2) - 1)  # and the byte before: does a line start?
    tail = file.read()
    tail = tail[tail.find(b"\n") + 1 :] or tail
    note = (
        f"[argosy] {size - len(head) - len(tail):,} bytes of output left out here: a task's log "
        f"keeps the first and last of its output, {limit:,} bytes in all (ARGOSY_MAX_LOG_BYTES)\n"
    )
    return head + (b"" if head.endswith(b"\n") else b"\n") + note.encode() + tail


__all__ = ["Captured", "cap_log", "captured_output", "limit_logs"]
