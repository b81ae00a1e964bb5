"""``argosy show``: one run at a glance, as fast for 100,000 tasks as for ten.

The steps table comes from per-step aggregates the metadata database computes
(`MetadataReader.run_steps`); tasks are read a page at a time: a step of at most `LISTED_TASKS`
tasks lists them all, a wider one only those that did not succeed (at most `LISTED_TASKS`), and
``--step S`` lists one step's tasks page by page (``--limit``, ``--offset``). ``--json`` prints
the same as one object (the listed tasks without what they read: `argosy.Client` has that).
The view of a local run that ``argosy status`` prints is here too.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from argosy import ir
from argosy.cli.console import print_json, results
from argosy.cli.styles import SHORT, JsonFlag, seconds, started, status
from argosy.client import Client, Run, Task
from argosy.errors import StoreError
from argosy.metadata.run_views import StepSummary
from argosy.metadata.schemas import MetricPublic, TaskStatus
from argosy.runtime.imports import imported_artifact
from argosy.store.base import ArtifactInfo

LISTED_TASKS = 10
"""A step with more tasks than this lists only those that did not succeed, this many at most."""
LISTED_METRICS = 20
"""Metrics shown in the table (``--json`` has them all)."""
UNSUCCESSFUL = [status for status in TaskStatus if status is not TaskStatus.SUCCEEDED]


def show(
    run_id: Annotated[
        str, typer.Argument(help="A run id, a unique prefix, or a pipeline name (its newest run).")
    ],
    step: Annotated[
        str | None, typer.Option("--step", help="List this step's tasks, a page at a time.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Tasks per page, with --step.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Tasks to skip, with --step.")] = 0,
    json_: JsonFlag = False,
) -> None:
    """Show a run: its steps, the tasks that need a look, outputs, metrics and timings."""
    run = Client().run(run_id)
    if step is not None:
        _show_step(run, step, limit, offset, json_)
        return
    summaries = run.steps()
    first = {summary.name: _first(run, summary.name) for summary in summaries}
    listed = {summary.name: _listed(run, summary, first[summary.name]) for summary in summaries}
    metrics = run.metrics()
    if json_:
        print_json(_payload(run, summaries, listed, metrics))
        return
    console = results()
    _header(console, run)
    console.print(_steps_table(run, summaries))
    console.print(_tasks_table(run, summaries, listed))
    described = _described_table(first)
    if described.row_count:
        console.print(described)
    if metrics:
        console.print(_metrics_table(metrics))


def _first(run: Run, step: str) -> list[Task]:
    """The first `LISTED_TASKS` tasks of the step (without their inputs: a fan-in's are many)."""
    return run.tasks(step, limit=LISTED_TASKS, inputs=False)


def _listed(run: Run, summary: StepSummary, first: list[Task]) -> list[Task]:
    """The tasks of the step to list: all of a small step, the unsuccessful ones of a wide one."""
    if summary.tasks <= LISTED_TASKS:
        return first
    return run.tasks(summary.name, statuses=UNSUCCESSFUL, limit=LISTED_TASKS, inputs=False)


def _payload(
    run: Run,
    summaries: list[StepSummary],
    listed: dict[str, list[Task]],
    metrics: list[MetricPublic],
) -> dict[str, Any]:
    return {
        "run": run.record.model_dump(mode="json"),
        "imports": _imports(run),
        "steps": {
            summary.name: summary.model_dump(mode="json", exclude={"name"})
            | {"role": _role(run.pipeline_ir.step(summary.name))}
            for summary in summaries
        },
        "tasks": [
            task.record.model_dump(mode="json") for tasks in listed.values() for task in tasks
        ],
        "metrics": [metric.model_dump(mode="json") for metric in metrics],
    }


def _imports(run: Run) -> list[dict[str, Any]]:
    """The outside data the run imported: each import's name, where it came from, and the
    artifact it was captured as (None when the store has no capture of it)."""
    listed = []
    for item in run.pipeline_ir.imports:
        source = item.uri if item.uri is not None else run.parameters.get(item.parameter or "")
        try:
            artifact: dict[str, Any] | None = imported_artifact(
                run.client.store, run.id, item.name
            ).model_dump(mode="json")
        except StoreError:
            artifact = None
        listed.append({"name": item.name, "source": source, "artifact": artifact})
    return listed


def _role(step: ir.Step) -> list[str]:
    """What sets the step apart from a plain one: ``exit handler``, ``catch``, its conditions,
    the outcomes of other steps it runs on, its sub-pipeline call."""
    role = ["exit handler"] if step.exit else []
    role += ["catch"] if step.catch else []
    role += [f"if {condition.describe()}" for condition in step.when]
    role += [f"on {outcome} of {other}" for other, outcome in step.runs_on.items()]
    role += [f"in {step.group}"] if step.group else []
    return role


def _header(console: Console, run: Run) -> None:
    record = run.record
    console.print(f"[bold]{run.id}[/bold]  {run.pipeline}  {status(run.status)}")
    console.print(
        f"version {record.pipeline_version[:SHORT]}  backend {record.backend}  started "
        f"{started(run)}  took {seconds(run.duration)}"
    )
    console.print(
        f"project {record.project or '-'}  owner {escape(record.owner or '-')}  "
        f"tags {escape(', '.join(run.tags) or '-')}"
    )
    console.print(f"parameters {escape(json.dumps(run.parameters))}")
    for item in _imports(run):
        artifact = item["artifact"]
        captured = "not captured" if artifact is None else (
            f"{artifact['digest'][:SHORT]}, {artifact['format']}, {artifact['size']:,} B"
        )  # fmt: skip
        console.print(f"import {item['name']} <- {escape(str(item['source']))} ({captured})")
    if record.resumed_from:
        console.print(f"resumed from {record.resumed_from}")
    if record.error:
        console.print(f"[red]{escape(record.error)}[/red]")


def _steps_table(run: Run, summaries: list[StepSummary]) -> Table:
    table = Table(
        Column("step", no_wrap=True), "tasks", "status", "retried", "cached", "cloned",
        Column("time", no_wrap=True), "output", box=None, title="steps", title_justify="left",
    )  # fmt: skip
    for summary in summaries:
        if summary.mapped:
            output = f"{summary.outputs} artifacts"
        else:
            output = summary.output.digest[:SHORT] if summary.output else "-"
        tags = ["map"] * summary.mapped + _role(run.pipeline_ir.step(summary.name))
        table.add_row(
            summary.name + (f" [dim]({escape(', '.join(tags))})[/]" if tags else ""),
            str(summary.tasks),
            _statuses(summary),
            str(summary.retried or ""),
            str(summary.cache_hits or ""),
            str(summary.cloned or ""),
            seconds(summary.seconds),
            output,
        )
    return table


def _statuses(summary: StepSummary) -> str:
    counts = summary.statuses.items()
    return " ".join(f"{status(name)} {count}" for name, count in counts) or status("pending")


def _tasks_table(run: Run, summaries: list[StepSummary], listed: dict[str, list[Task]]) -> Table:
    """Tasks in step order; a step of many tasks lists only those that did not succeed."""
    table = _task_columns("tasks")
    for summary in summaries:
        tasks = listed[summary.name]
        for task in tasks:
            _add_task(table, task)
        unlisted = summary.tasks - len(tasks)
        if unlisted > 0:
            failing = sum(count for name, count in summary.statuses.items() if name != "succeeded")
            what = "all succeeded" if failing <= len(tasks) else f"{failing - len(tasks)} did not"
            more = "more " if tasks else ""
            note = f"{unlisted} {more}tasks, {what} (argosy show {run.id} --step {summary.name})"
            table.add_row(f"{summary.name}[...]", "", "", "", "", "", escape(note))
    return table


def _task_columns(title: str) -> Table:
    return Table(
        Column("task", no_wrap=True), "status", "attempt", Column("time", no_wrap=True),
        "output", "type", "note", box=None, title=title, title_justify="left",
    )  # fmt: skip


def _add_task(table: Table, task: Task) -> None:
    output = task.output
    table.add_row(
        f"{task.step}[{task.index}]",
        status(task.status),
        str(task.attempt),
        seconds(task.duration),
        output.digest[:SHORT] if output else "-",
        output.type.removeprefix("builtins.") if output else "",
        escape(_task_note(task)),
    )


def _task_note(task: Task) -> str:
    record = task.record
    if record.cache_hit:
        return "cache hit"
    if record.cloned_from:
        return f"cloned from {record.cloned_from}"
    if record.gpu_fallback:
        return "ran without its GPU"
    lines = (record.error or "").strip().splitlines()
    return lines[-1] if lines else ""


def _described_table(first: dict[str, list[Task]]) -> Table:
    """The named outputs of steps returning several values, and the outputs that carry a name
    (files, folders) or metadata, of the first `LISTED_TASKS` tasks of each step."""
    table = Table(
        Column("task", no_wrap=True), Column("output", no_wrap=True), "name",
        Column("metadata", overflow="fold"), box=None, title="outputs", title_justify="left",
    )  # fmt: skip
    for tasks in first.values():
        for task in tasks:
            for field, output in _outputs_of(task):
                if field or output.name or output.metadata:
                    table.add_row(
                        f"{task.step}[{task.index}]{field}",
                        output.digest[:SHORT],
                        escape(output.name or ""),
                        escape(json.dumps(output.metadata, sort_keys=True))
                        if output.metadata
                        else "",
                    )
    return table


def _outputs_of(task: Task) -> list[tuple[str, ArtifactInfo]]:
    """A task's output, or its named outputs (``.model``) when it returned several."""
    named = task.record.named_outputs
    if named:
        return [(f".{name}", output) for name, output in named.items()]
    return [] if task.output is None else [("", task.output.info)]


def _metrics_table(metrics: list[MetricPublic]) -> Table:
    table = Table("task", "metric", "value", box=None, title="metrics", title_justify="left")
    for metric in metrics[:LISTED_METRICS]:
        table.add_row(f"{metric.step}[{metric.index}]", metric.name, f"{metric.value:.6g}")
    if len(metrics) > LISTED_METRICS:
        table.add_row("...", f"{len(metrics) - LISTED_METRICS} more (--json lists them)", "")
    return table


def _show_step(run: Run, step: str, limit: int, offset: int, json_: bool) -> None:
    """One page of a step's tasks."""
    tasks = run.tasks(step, limit=limit, offset=offset)
    if json_:
        print_json({"run_id": run.id, "step": step, "offset": offset, "tasks": [
            task.record.model_dump(mode="json") for task in tasks
        ]})  # fmt: skip
        return
    table = _task_columns(f"{run.id} {step}, tasks {offset} to {offset + len(tasks) - 1}")
    for task in tasks:
        _add_task(table, task)
    console = results()
    console.print(table)
    if len(tasks) == limit:
        console.print(f"next page: argosy show {run.id} --step {step} --offset {offset + limit}")


def local_status(run: Run, json_: bool) -> None:
    """``argosy status`` of a run that did not run on Argo: its status and steps, as recorded."""
    summaries = run.steps()
    if json_:
        print_json({
            "run_id": run.id,
            "backend": run.record.backend,
            "status": run.status,
            "steps": {
                summary.name: {"tasks": summary.tasks, "statuses": summary.statuses}
                for summary in summaries
            },
        })  # fmt: skip
        return
    console = results()
    console.print(
        f"[bold]{run.id}[/bold]  {run.pipeline}  {status(run.status)}  ({run.record.backend})"
    )
    console.print(_steps_table(run, summaries))


def register(app: typer.Typer) -> None:
    """Add ``argosy show`` to the app."""
    app.command("show")(show)


__all__ = ["LISTED_TASKS", "local_status", "register", "show"]
