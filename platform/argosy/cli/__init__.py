"""The ``argosy`` command line: one Typer app; each part registers its own commands.

Results go to stdout (tables, or one JSON object with ``--json``), progress and diagnostics to
stderr (`argosy.cli.console`). A user mistake (any `ArgosyError`) ends with a one-line message
and exit code 1, never a traceback. ``argosy --version`` prints the installed version.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer
from pydantic import ValidationError

from argosy.cli.console import diagnostics
from argosy.errors import ArgosyError

app = typer.Typer(
    name="argosy",
    help="Run ML pipelines locally or on Argo Workflows, and inspect their runs and lineage.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
errors = diagnostics()


def _print_version(asked: bool) -> None:
    if asked:
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


_COMMAND_MODULES = (
    "run", "task", "inspect", "show", "argo", "schedule", "server", "build", "tags", "gc",
)  # fmt: skip
for _module in _COMMAND_MODULES:
    try:  # transitional while the parts land; becomes static imports at integration
        importlib.import_module(f"argosy.cli.{_module}").register(app)
    except ModuleNotFoundError as _error:
        if _error.name != f"argosy.cli.{_module}":
            raise


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; ArgosyError and invalid settings become a short message and exit code 1."""
    try:
        code = app(args=argv, standalone_mode=False)
    except ArgosyError as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False)
        sys.exit(1)
    except ValidationError as error:
        problem = error.errors()[0]["msg"]
        errors.print(f"[bold red]error:[/] invalid settings: {problem}", highlight=False)
        sys.exit(1)
    except typer.TyperException as error:  # usage errors: Typer's click prints them itself
        error.show()  # type: ignore[attr-defined]
        sys.exit(getattr(error, "exit_code", 2))
    except KeyboardInterrupt:
        errors.print("[yellow]interrupted[/]")
        sys.exit(130)
    if isinstance(code, int) and code:
        sys.exit(code)


__all__ = ["app", "errors", "main"]
