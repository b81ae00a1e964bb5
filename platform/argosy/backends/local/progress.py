"""Progress of a local run on stderr: one bar per step (tasks done of total, failures).

Quiet when stderr is not a terminal or when asked (``--json``). Refreshed by the scheduler's
loop, at most ten times a second, so no thread runs beside the scheduler (workers are forked
from it).
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from argosy import ir

_INTERVAL = 0.1


class RunProgress:
    """Bars for the steps of ``pipeline``; every method is a no-op when disabled."""

    def __init__(self, pipeline: ir.Pipeline, *, enabled: bool) -> None:
        console = Console(stderr=True)
        self._progress: Progress | None = None
        self._bars: dict[str, TaskID] = {}
        self._last = 0.0
        if not (enabled and console.is_terminal):
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=False,
        )
        for step in pipeline.steps:
            self._bars[step.name] = self._progress.add_task(step.name, total=None, note="")

    def __enter__(self) -> RunProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.refresh()
            self._progress.stop()

    def total(self, step: str, tasks: int, *, done: int = 0) -> None:
        if self._progress is not None:
            self._progress.update(self._bars[step], total=tasks, completed=done)

    def advance(self, step: str) -> None:
        if self._progress is not None:
            self._progress.advance(self._bars[step])

    def note(self, step: str, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._bars[step], note=text)

    def tick(self) -> None:
        """Redraw if the last redraw is older than a tenth of a second."""
        now = time.monotonic()
        if self._progress is not None and now - self._last >= _INTERVAL:
            self._last = now
            self._progress.refresh()


__all__ = ["RunProgress"]
