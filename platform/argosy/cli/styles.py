"""How the inspection commands write statuses, durations, times and ids in their tables."""

from __future__ import annotations

from typing import Annotated

import typer

from argosy.client import Run

SHORT = 12
"""Characters of a digest shown in tables."""

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]

_STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "running": "yellow",
    "pending": "dim",
    "skipped": "dim",
    "caught": "yellow",
    "cancelled": "magenta",
}


def status(name: str) -> str:
    """The status in its colour (rich markup)."""
    return f"[{_STATUS_STYLE.get(name, 'white')}]{name}[/]"


def seconds(value: float | None) -> str:
    """``350 ms``, ``4.2 s``, or ``-`` when unknown."""
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def started(run: Run, layout: str = "%Y-%m-%d %H:%M:%S") -> str:
    """When the run started, in local time."""
    when = run.record.started_at
    return "-" if when is None else when.astimezone().strftime(layout)


__all__ = ["SHORT", "JsonFlag", "seconds", "started", "status"]
