"""Capture of a task's stdout and stderr at the file-descriptor level.

Descriptors 1 and 2 are pointed at one temporary file while the task runs, so output written
by C extensions, by libc and by subprocesses is caught along with Python's, in the order it was
written; ``sys.stdout`` and ``sys.stderr`` write straight into the same file meanwhile (they
may have been replaced by objects that do not write to descriptors 1 and 2). The process's own
descriptors and streams are put back afterwards.
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
from typing import BinaryIO

_STREAMS = (1, 2)


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


_files: dict[int, BinaryIO] = {}
"""One capture file per process, emptied for each task (creating a file per task is slow)."""


def _empty_file() -> BinaryIO:
    file = _files.get(os.getpid())  # a forked child must not share its parent's file offset
    if file is None:
        file = _files[os.getpid()] = tempfile.TemporaryFile()  # noqa: SIM115 (kept open)
    file.seek(0)
    file.truncate()
    return file


@contextmanager
def captured_output() -> Iterator[Captured]:
    """Send descriptors 1 and 2 into a temporary file; the yielded object gets the bytes."""
    captured = Captured()
    _flush()
    streams = sys.stdout, sys.stderr
    sink = _empty_file()
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
        sink.seek(0)
        captured.data = sink.read()


__all__ = ["Captured", "captured_output"]
