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
from pathlib import Path
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
        sink.seek(0)
        captured.data = sink.read()


__all__ = ["Captured", "captured_output"]
