"""``argosy run`` and ``argosy resume``: run a pipeline here, or continue a failed run.

Progress goes to stderr (bars per step when it is a terminal); the summary goes to stdout:
per step its state, tasks and outputs, the pipeline's result (`argosy.previews`) and the
commands to look closer (show, logs, lineage, resume). ``--json`` prints one object on stdout
instead: run_id, status and per step its task count, output artifact ids and failures. The exit
code is 0 if and only if the run succeeded; a failed run ends with the command that resumes it,
and so does a run stopped by Ctrl-C, SIGTERM or SIGHUP (exit code 130, the message on stderr).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from argosy.backends.local import RunResult, StepResult, resume_run, run_pipeline
from argosy.cli.argo import Image
from argosy.cli.console import diagnostics, print_json, results
from argosy.cli.tags import ProductionOption, ProjectOption, TagOption
from argosy.client import Client
from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.errors import RunInterrupted
from argosy.launch import run_ownership
from argosy.previews import preview
from argosy.store import open_store
from argosy.web.urls import run_url

SHORT = 12
"""Characters of an artifact digest shown in the summary."""

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
MaxWorkers = Annotated[
    int | None,
    typer.Option("--max-workers", min=1, help="Worker processes (default: one per CPU core)."),
]
GpuFallback = Annotated[
    bool,
    typer.Option("--gpu-fallback", help="Run steps that ask for missing GPUs on the CPU instead."),
]
Cache = Annotated[
    bool, typer.Option("--cache", help="Reuse outputs of earlier identical tasks (every step).")
]


def run(
    pipeline: Annotated[str, typer.Argument(help="path/file.py, path/file.py:name or module:name")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="NAME=VALUE (JSON when it parses); repeatable."),
    ] = None,
    max_workers: MaxWorkers = None,
    cache: Cache = False,
    gpu_fallback: GpuFallback = False,
    project: ProjectOption = None,
    tag: TagOption = None,
    production: ProductionOption = False,
    json_output: JsonFlag = False,
) -> None:
    """Run a pipeline on this machine, on a warm pool of worker processes."""
    settings = Settings()
    definition = load_pipeline(pipeline)
    params = definition.parse_params(param or [])
    owned = run_ownership(
        definition, settings, project=project, tags=tag or [], production=production
    )
    with _said_when_interrupted():
        result = run_pipeline(
            definition,
            params,
            settings,
            max_workers=max_workers,
            cache=cache,
            gpu_fallback=gpu_fallback,
            progress=not json_output,
            ownership=owned,
        )
    _finish(result, json_output, settings, definition.ir.output)


def resume(
    run_id: Annotated[str, typer.Argument(help="The run to continue.")],
    max_workers: MaxWorkers = None,
    cache: Cache = False,
    gpu_fallback: GpuFallback = False,
    image: Image = None,
    json_output: JsonFlag = False,
) -> None:
    """Start a new run of a run's pipeline and parameters; its finished tasks are reused.

    A run that ran on Argo is resumed there: a new Workflow in which only the unfinished
    steps run (in --image, as `argosy submit` runs them). The new run keeps the project, owner
    and tags of the one it resumes.
    """
    settings = Settings()
    origin = Client(settings).run(run_id)  # a unique prefix of the id is enough
    if origin.record.backend == "argo":
        _resume_on_argo(origin.id, settings, image, json_output)
        return
    with _said_when_interrupted():
        result = resume_run(
            origin.id,
            settings,
            max_workers=max_workers,
            cache=cache,
            gpu_fallback=gpu_fallback,
            progress=not json_output,
        )
    _finish(result, json_output, settings, origin.pipeline_ir.output)


@contextmanager
def _said_when_interrupted() -> Iterator[None]:
    """A run stopped by Ctrl-C, SIGTERM or SIGHUP ends with its id and how to resume it."""
    try:
        yield
    except RunInterrupted as interrupt:
        diagnostics().print(f"[yellow]interrupted:[/] {interrupt}")
        raise typer.Exit(130) from interrupt


def _resume_on_argo(run_id: str, settings: Settings, image: str | None, json_output: bool) -> None:
    from argosy.backends.argo import resume_run as resume_on_argo

    handle = resume_on_argo(run_id, settings, image=image)
    if json_output:
        print_json({
            "run_id": handle.run_id,
            "status": "submitted",
            "namespace": handle.namespace,
            "resumed_from": run_id,
        })  # fmt: skip
    else:
        results().print(
            f"submitted {handle.run_id} to namespace {handle.namespace} (resumes {run_id}); "
            f"follow it with: argosy status {handle.run_id}"
        )


def _finish(result: RunResult, json_output: bool, settings: Settings, output: str | None) -> None:
    """The run's summary (or its JSON) on stdout; exit code 1 unless it succeeded."""
    if json_output:
        print_json(result.to_json())
        if not result.succeeded:
            diagnostics().print(f"resume with: argosy resume {result.run_id}")
    else:
        console = results()
        _summary(console, result)
        _next_steps(console, result, settings, output)
    if not result.succeeded:
        sys.exit(1)


def _summary(console: Console, result: RunResult) -> None:
    table = Table("step", "state", "tasks", "reused", "outputs", box=None, pad_edge=False)
    for name, step in result.steps.items():
        color = {"succeeded": "green", "failed": "red"}.get(step.state, "dim")
        reused = step.cache_hits + step.cloned
        outputs = ", ".join(d[:SHORT] for d in step.outputs[:3])
        if len(step.outputs) > 3:
            outputs += f", ... ({len(step.outputs)})"
        table.add_row(name, f"[{color}]{step.state}[/]", str(step.tasks), str(reused), outputs)
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    for name, step in result.steps.items():
        for error in step.errors[:3]:
            last = error.strip().splitlines()[-1] if error.strip() else "failed"
            console.print(f"[red]{name}:[/] {escape(last)}")
    color = "green" if result.succeeded else "red"
    resumed = f" (resumed from {result.resumed_from})" if result.resumed_from else ""
    console.print(
        f"run [bold]{result.run_id}[/]{resumed} [{color}]{result.status.value}[/] "
        f"in {result.seconds:.2f} s"
    )


def _next_steps(
    console: Console, result: RunResult, settings: Settings, output: str | None
) -> None:
    """The pipeline's result, and the commands that look closer at the run."""
    run_id = result.run_id
    produced = result.steps.get(output) if output is not None else None
    if result.succeeded and output is not None and produced is not None and produced.outputs:
        console.print(f"result ({output}): {escape(_result_preview(settings, produced))}")
    commands = [(f"argosy show {run_id}", "steps, tasks, outputs and timings")]
    failed = [name for name, step in result.steps.items() if step.failed]
    if failed:
        commands.append((f"argosy logs {run_id} {failed[0]}", "the failed task's output"))
        commands.append((f"argosy resume {run_id}", "rerun what did not succeed"))
    elif produced is not None and produced.outputs:
        commands.append(
            (f"argosy lineage {produced.outputs[0][:SHORT]}", "where the result came from")
        )
    commands.append((f'argosy.Client().run("{run_id}")', "the same from Python"))
    if settings.metadata_url:
        commands.append((run_url(settings.metadata_url, run_id), "the run's page"))
    width = max(len(command) for command, _ in commands)
    console.print("next:")
    for command, what in commands:
        console.print(f"  {escape(command):<{width}}  [dim]{what}[/]")


def _result_preview(settings: Settings, step: StepResult) -> str:
    """A line showing the output of the pipeline's result step (a list of them when mapped),
    read from the store: the run's result has its artifacts."""
    store = open_store(settings)
    shown = ", ".join(preview(store, artifact) for artifact in step.artifacts[:3])
    if step.mapped:
        more = ", ..." if len(step.artifacts) > 3 else ""
        shown = f"[{shown}{more}] ({len(step.artifacts)} outputs)"
    return shown


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("resume")(resume)


__all__ = ["register", "resume", "run"]
