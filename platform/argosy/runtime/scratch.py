"""A running task's own scratch directory (``argosy.current.tempdir``), made on first use.

A step that returns a file or a folder (a `pathlib.Path` output) writes it somewhere first:
here, a directory under the store's staging area that no other task uses, removed once the
task's output is stored, so warm workers and pods leave nothing behind.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from argosy.errors import PipelineError
from argosy.store.staging import new_folder


class Scratch:
    """The scratch directory of one task, under ``parent``; made when first asked for."""

    def __init__(self, parent: Path) -> None:
        self.parent = parent
        self._path: Path | None = None

    def path(self) -> Path:
        if self._path is None:
            self.parent.mkdir(parents=True, exist_ok=True)
            self._path = new_folder(self.parent, "task")  # named so no sweep takes it early
        return self._path

    def remove(self) -> None:
        if self._path is not None:
            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None


_scratch: ContextVar[Scratch | None] = ContextVar("argosy_task_scratch", default=None)


@contextmanager
def task_scratch(parent: Path) -> Iterator[Scratch]:
    """Give the task run in this block a scratch directory under ``parent``; remove it after."""
    scratch = Scratch(parent)
    token = _scratch.set(scratch)
    try:
        yield scratch
    finally:
        _scratch.reset(token)
        scratch.remove()


def tempdir() -> Path:
    """The running task's scratch directory; PipelineError outside a running step."""
    scratch = _scratch.get()
    if scratch is None:
        raise PipelineError(
            "argosy.current.tempdir only exists while Argosy runs a step; outside one, use "
            "tempfile.mkdtemp()"
        )
    return scratch.path()


__all__ = ["Scratch", "task_scratch", "tempdir"]
