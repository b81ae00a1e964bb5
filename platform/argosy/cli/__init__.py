"""The ``argosy`` command line: one Typer app; each part registers its own commands.

`COMMANDS` lists every command with the module that registers it, and the app imports a
module only when one of its commands runs (`argosy.cli.lazy`), so ``argosy --help`` and a light
command start fast. Adding a command is one line in `COMMANDS` and a ``register(app)`` in its
module.

Results go to stdout (tables, or one JSON object with ``--json``), progress and diagnostics to
stderr (`argosy.cli.console`). A user mistake (any `ArgosyError`) ends with a one-line message
and exit code 1, never a traceback. ``argosy --version`` prints the installed version.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from argosy.cli.lazy import LazyGroup, Listed
from argosy.cli.startup import starting
from argosy.errors import ArgosyError

if TYPE_CHECKING:
    from rich.console import Console

COMMANDS = {
    "run": Listed("run", "Run a pipeline on this machine, on a warm pool of worker processes."),
    "resume": Listed(
        "run", "Start a new run of a run's pipeline and parameters; its finished tasks are reused."
    ),
    "runs": Listed(
        "inspect", "List runs, newest first: yours, unless --owner or --all-owners says otherwise."
    ),
    "logs": Listed("inspect", "Print the captured stdout and stderr of one task."),
    "lineage": Listed("inspect", "Show where an artifact came from, or what was made from it."),
    "show": Listed(
        "show", "Show a run: its steps, the tasks that need a look, outputs, metrics and timings."
    ),
    "compile": Listed(
        "argo", "Compile a pipeline to an Argo Workflow, WorkflowTemplate or CronWorkflow (YAML)."
    ),
    "submit": Listed(
        "argo", "Submit a pipeline to Argo Workflows; with --watch, follow it to the end."
    ),
    "status": Listed(
        "argo",
        "Show a run's status and per-step progress: from Argo for a run on the cluster, from the\n"
        "metadata for a local one.",
    ),
    "finish-run": Listed(
        "argo",
        "Mark a run finished in metadata (a Workflow's onExit handler runs this), with a skipped\n"
        "record for each step no task of which ran.",
        hidden=True,
    ),
    "schedule": Listed(
        "schedule",
        "Create or update the pipeline's CronWorkflow on the cluster (--delete: remove it).",
    ),
    "server": Listed(
        "server",
        "Serve the metadata REST API (runs, tasks, artifacts, lineage) with OpenAPI at /docs.",
    ),
    "build": Listed(
        "build",
        "Build the container images steps run in, print their references, optionally load them.",
    ),
    "token": Listed("server", "Bearer tokens of the metadata service."),
    "tag": Listed("tags", "Tag runs, or remove their tags."),
    "gc": Listed(
        "gc",
        "Delete runs (by age, status, pipeline, id), and the blobs, records and logs no run that\n"
        "stays uses. With no selection, delete no runs and sweep unused blobs only. "
        "Live runs, and\n"
        "runs a run that stays was resumed from, are never deleted.",
    ),
    "task": Listed(
        "task",
        "Run one task of a pipeline in this process (what every worker and pod executes).",
        hidden=True,
    ),
}
"""Every command: the `argosy.cli` module that registers it, and its help as ``--help`` lists it."""


class _Argosy(LazyGroup):
    listed = COMMANDS


app = typer.Typer(
    name="argosy",
    cls=_Argosy,
    help="Run ML pipelines locally or on Argo Workflows, and inspect their runs and lineage.",
    no_args_is_help=True,
    rich_markup_mode=None,  # Click's plain help: rendering it with rich doubled --help's time
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("argosy")
        except PackageNotFoundError:  # run from a checkout that was never installed
            installed = "unknown (not installed: pip install -e .)"
        typer.echo(f"argosy {installed}")
        raise typer.Exit()


@app.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Run ML pipelines locally or on Argo Workflows, and inspect their runs and lineage."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI on ``argv`` (None: this process's command line, which ends with it);
    ArgosyError and invalid settings become a short message and exit code 1."""
    with starting(process_ends=argv is None):
        _run(argv)


def _run(argv: list[str] | None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
    except ArgosyError as error:
        _error(str(error))
    except typer.TyperException as error:  # usage errors: Typer's click prints them itself
        error.show()  # type: ignore[attr-defined]
        sys.exit(getattr(error, "exit_code", 2))
    except KeyboardInterrupt:
        _diagnostics().print("[yellow]interrupted[/]")
        sys.exit(130)
    except Exception as error:
        problem = _invalid_settings(error)
        if problem is None:
            raise
        _error(f"invalid settings: {problem}")
    if isinstance(code, int) and code:
        sys.exit(code)


def _invalid_settings(error: Exception) -> str | None:
    """The first problem ``error`` names if it is pydantic's refusal of the settings."""
    if "pydantic" not in sys.modules:  # nothing was validated
        return None
    from pydantic import ValidationError

    return error.errors()[0]["msg"] if isinstance(error, ValidationError) else None


def _error(message: str) -> None:
    _diagnostics().print(f"[bold red]error:[/] {message}", highlight=False)
    sys.exit(1)


def _diagnostics() -> Console:
    from argosy.cli.console import diagnostics

    return diagnostics()


__all__ = ["COMMANDS", "app", "main"]
