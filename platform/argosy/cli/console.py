"""Where the ``argosy`` commands write, as kubectl and git do.

A command's result (a table, a summary, what it changed) goes to stdout, so ``argosy runs |
grep`` and ``> file`` work; with ``--json`` stdout carries only the one JSON object, and the
human text, if any, moves to stderr. Progress bars, warnings and errors always go to stderr.
When stdout is not a terminal, tables are laid out `PIPED_WIDTH` columns wide instead of 80, so
ids are not cut.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

PIPED_WIDTH = 160
"""Columns of tables written to a pipe or a file."""


def results(json_output: bool = False) -> Console:
    """The console of a command's human result: stdout, or stderr when stdout carries JSON."""
    console = Console(stderr=json_output, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = PIPED_WIDTH
    return console


def diagnostics() -> Console:
    """The console of progress, warnings and errors: stderr, lines never wrapped mid-path."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(payload: dict[str, Any]) -> None:
    """Write one JSON object as one line on stdout."""
    typer.echo(json.dumps(payload))


__all__ = ["PIPED_WIDTH", "diagnostics", "print_json", "results"]
