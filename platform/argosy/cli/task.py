"""``argosy task``: the runtime entrypoint, the one command that executes a step (hidden).

Argo pods run ``python -m argosy task --pipeline REF --step NAME --run-id ID [--index I] ...``;
the exit code is 0 if and only if the task succeeded, or failed and was caught (recorded
``caught``, its output None: the run goes on). ``--project``, ``--owner`` and ``--tags`` (a JSON
list) are what the pod records the run with; an empty one is none.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from argosy.cli.console import diagnostics
from argosy.config import Settings
from argosy.errors import ArgosyError, TagError
from argosy.metadata.schemas import TaskStatus
from argosy.runtime import TaskSpec
from argosy.runtime.entrypoint import run_entrypoint
from argosy.runtime.spec import parse_scheduled_time

Ref = Annotated[str, typer.Option(help="Pipeline reference: file.py[:name] or module:name.")]
Params = Annotated[
    list[str] | None, typer.Option("--param", help="A run parameter, NAME=JSON; repeatable.")
]
OutputsDir = Annotated[
    Path | None, typer.Option("--outputs-dir", help="Write the output's digest and length here.")
]
CodePackage = Annotated[
    str | None, typer.Option("--code-package", help="Digest of the code package to install.")
]
Cache = Annotated[bool, typer.Option("--cache", help="Reuse an earlier identical task.")]
GpuFallback = Annotated[bool, typer.Option("--gpu-fallback", help="Run without the GPUs.")]
RunStatusOption = Annotated[
    str | None, typer.Option("--run-status", help="How the run went (exit handlers).")
]
GroupAttempt = Annotated[
    int, typer.Option("--group-attempt", help="Runs of the task's sub-pipeline before this one.")
]
ScheduledTime = Annotated[
    str | None,
    typer.Option(
        "--scheduled-time", help="When the schedule meant the run to start (RFC 3339; cron runs)."
    ),
]
WriteValue = Annotated[
    bool, typer.Option("--write-value", help="Also write the output's JSON to the outputs dir.")
]
WriteFieldValue = Annotated[
    list[str] | None,
    typer.Option("--write-field-value", help="Also write this named output's JSON (repeatable)."),
]
Project = Annotated[str, typer.Option("--project", help="The run's project ('': none).")]
Owner = Annotated[str, typer.Option("--owner", help="The run's owner ('': none).")]
Tags = Annotated[str, typer.Option("--tags", help="The run's tags as a JSON list of strings.")]


def task(
    pipeline: Ref,
    step: Annotated[str, typer.Option(help="The step to run.")],
    run_id: Annotated[str, typer.Option("--run-id", help="The run the task belongs to.")],
    index: Annotated[int, typer.Option(help="Item of the mapped argument (0 if unmapped).")] = 0,
    attempt: Annotated[int, typer.Option(help="0 for the first try, then 1, 2, ...")] = 0,
    param: Params = None,
    outputs_dir: OutputsDir = None,
    code_package: CodePackage = None,
    cache: Cache = False,
    gpu_fallback: GpuFallback = False,
    run_status: RunStatusOption = None,
    write_value: WriteValue = False,
    write_field_value: WriteFieldValue = None,
    group_attempt: GroupAttempt = 0,
    project: Project = "",
    owner: Owner = "",
    tags: Tags = "",
    scheduled_time: ScheduledTime = None,
) -> None:
    """Run one task of a pipeline in this process (what every worker and pod executes)."""
    try:
        scheduled = parse_scheduled_time(scheduled_time) if scheduled_time is not None else None
    except ValueError as error:
        raise ArgosyError(f"--scheduled-time: {error}") from None
    spec = TaskSpec(
        pipeline=pipeline,
        step=step,
        run_id=run_id,
        index=index,
        attempt=attempt,
        cache=cache,
        gpu_fallback=gpu_fallback,
        code_package=code_package,
        run_status=run_status,
        project=project or None,
        owner=owner or None,
        tags=_tag_list(tags),
        scheduled_time=scheduled,
    )
    record = run_entrypoint(
        spec,
        Settings(),
        assignments=param or [],
        outputs_dir=outputs_dir,
        write_value=write_value,
        field_values=write_field_value or [],
        group_attempt=group_attempt,
    )
    if record.status is not TaskStatus.SUCCEEDED:
        last = (record.error or "failed").strip().splitlines()[-1]
        console = diagnostics()
        if record.status is TaskStatus.CAUGHT:
            console.print(f"[yellow]task {spec.task_id} failed, caught:[/] {escape(last)}")
            return
        console.print(f"[bold red]task {spec.task_id} failed:[/] {escape(last)}")
        sys.exit(1)


def _tag_list(text: str) -> list[str]:
    """The tags ``--tags`` holds: a JSON list of strings, or nothing."""
    try:
        tags = json.loads(text) if text else []
    except ValueError:
        tags = None
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise TagError(f"--tags {text!r} is not a JSON list of strings (e.g. '[\"nightly\"]')")
    return tags


def register(app: typer.Typer) -> None:
    app.command("task", hidden=True)(task)


__all__ = ["register", "task"]
