"""``argosy tag add|remove RUN TAG...``, the options that give a new run its project, owner
and tags (``--project``, ``--tag``, ``--production``: `argosy run`, `submit` and `compile`), and
those that scope a command to an owner's runs (``--owner``, ``--all-owners``: `argosy gc`).

Thin: tagging goes through `argosy.Client`; the run's tags afterwards go to stderr, or with
``--json`` one JSON object (``run_id``, ``tags``) to stdout. A bad tag or an unknown run is an
`ArgosyError`, printed by `argosy.cli.main` as one line.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from argosy.cli.console import print_json, results
from argosy.client import Client, Run

ProjectOption = Annotated[
    str | None,
    typer.Option("--project", help="The run's project (default: the pipeline's @project)."),
]
TagOption = Annotated[
    list[str] | None, typer.Option("--tag", "-t", help="A tag for the run; repeatable.")
]
ProductionOption = Annotated[
    bool,
    typer.Option("--production", help="Record the run as production's, not the current user's."),
]
OwnerOption = Annotated[
    str | None,
    typer.Option(help="Runs of this owner: user:NAME or production (default: yours)."),
]
AllOwnersOption = Annotated[bool, typer.Option("--all-owners", help="Every owner's runs.")]
RunId = Annotated[str, typer.Argument(help="A run id, or a unique prefix of one.")]
Tags = Annotated[list[str], typer.Argument(help="One or more tags.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def add(run_id: RunId, tags: Tags, json_: JsonFlag = False) -> None:
    """Add tags to a run (tags it has already stay as they are)."""
    _print(Client().run(run_id).add_tags(*tags), json_)


def remove(run_id: RunId, tags: Tags, json_: JsonFlag = False) -> None:
    """Remove tags from a run (tags it does not have are ignored)."""
    _print(Client().run(run_id).remove_tags(*tags), json_)


def _print(run: Run, json_: bool) -> None:
    if json_:
        print_json({"run_id": run.id, "tags": list(run.tags)})
        return
    shown = ", ".join(run.tags) if run.tags else "none"
    results().print(f"run {run.id} tags: {escape(shown)}")


def register(app: typer.Typer) -> None:
    """Add ``tag add`` and ``tag remove`` to the ``argosy`` app."""
    tags = typer.Typer(help="Tag runs, or remove their tags.", no_args_is_help=True)
    tags.command("add")(add)
    tags.command("remove")(remove)
    app.add_typer(tags, name="tag")


__all__ = [
    "AllOwnersOption",
    "OwnerOption",
    "ProductionOption",
    "ProjectOption",
    "TagOption",
    "add",
    "register",
    "remove",
]
