"""The inspection commands: ``argosy runs``, ``show``, ``logs`` and ``lineage``.

Thin: each command asks `argosy.Client` and prints. Tables and trees go to stdout (rich); with
``--json`` one JSON object does instead; ``logs`` writes the log text itself to stdout. Run ids
and artifact digests may be unique prefixes. ``runs`` lists the current user's runs unless
``--owner`` or ``--all-owners`` says otherwise, as `argosy.Client` does. A mistake (unknown id,
unknown step) raises an `ArgosyError`, which `argosy.cli.main` prints as one red line before
exiting with code 1.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Column, Table
from rich.tree import Tree

from argosy import ir
from argosy.cli.console import diagnostics, print_json, results
from argosy.client import Artifact, Client, Run, Task
from argosy.errors import NotFound
from argosy.metadata.reader import Direction
from argosy.metadata.schemas import LineageGraph, LineageNode, MetricPublic, RunStatus
from argosy.ownership import CURRENT_USER
from argosy.previews import human_bytes
from argosy.store.base import ArtifactInfo

SHORT = 12
"""Characters of a digest shown in tables."""
LISTED_TASKS = 10
"""A step with more tasks than this lists only those that did not succeed."""

_STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "running": "yellow",
    "pending": "dim",
    "skipped": "dim",
    "caught": "yellow",
    "cancelled": "magenta",
}


JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def _status(status: str) -> str:
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _when(run: Run, layout: str = "%Y-%m-%d %H:%M:%S") -> str:
    started = run.record.started_at
    return "-" if started is None else started.astimezone().strftime(layout)


def runs(
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    status: Annotated[RunStatus | None, typer.Option(help="Only runs in this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many runs.")] = 20,
    project: Annotated[str | None, typer.Option(help="Only runs of this project.")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Only runs with this tag (repeat: all).")
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(help="Runs of this owner: user:NAME or production (default: yours)."),
    ] = None,
    all_owners: Annotated[bool, typer.Option("--all-owners", help="Every owner's runs.")] = False,
    json_: JsonFlag = False,
) -> None:
    """List runs, newest first: yours, unless --owner or --all-owners says otherwise."""
    if owner and all_owners:
        raise typer.BadParameter("give --owner or --all-owners, not both", param_hint="--owner")
    client = Client(owner=None if all_owners else owner or CURRENT_USER)
    found = client.runs(
        pipeline=pipeline, status=status, limit=limit, project=project, tags=tag or []
    )
    if json_:
        print_json({"runs": [run.record.model_dump(mode="json") for run in found]})
        return
    if not found:
        which = "match" if pipeline or status or project or tag else "yet"
        hint = "start one with argosy run PIPELINE"
        if client.owner:
            which += f" (owner {client.owner})"
            hint += ", or list every owner's with --all-owners"
        diagnostics().print(f"no runs {escape(which)}; {hint}")
        return
    table = Table(
        Column("run", no_wrap=True),
        Column("pipeline", no_wrap=True),
        Column("status", no_wrap=True),
        Column("started", no_wrap=True),
        Column("took", no_wrap=True),
        Column("tags", overflow="ellipsis", no_wrap=True),
        Column("parameters", overflow="ellipsis", no_wrap=True),
        box=None,
    )
    for run in found:
        table.add_row(
            run.id,
            run.pipeline,
            _status(run.status),
            _when(run, "%m-%d %H:%M:%S"),
            _seconds(run.duration),
            escape(",".join(run.tags)),
            escape(json.dumps(run.parameters, separators=(",", ":"))),
            style="dim" if run.record.resumed_from else None,
        )
    results().print(table)


def _step_summary(run: Run, step: str, tasks: list[Task]) -> dict[str, Any]:
    statuses = Counter(task.status for task in tasks)
    durations = [task.duration for task in tasks if task.duration is not None]
    node = run.pipeline_ir.step(step)
    return {
        "mapped": node.mapped is not None,
        "role": _role(node),
        "tasks": len(tasks),
        "statuses": dict(statuses),
        "retried": sum(task.attempt > 0 for task in tasks),
        "cache_hits": sum(task.record.cache_hit for task in tasks),
        "cloned": sum(task.record.cloned_from is not None for task in tasks),
        "seconds": sum(durations) if durations else None,
        "outputs": [task.output.digest for task in tasks if task.output is not None],
    }


def _role(step: ir.Step) -> list[str]:
    """What sets the step apart from a plain one: ``exit handler``, ``catch``, its conditions,
    the outcomes of other steps it runs on, its sub-pipeline call."""
    role = ["exit handler"] if step.exit else []
    role += ["catch"] if step.catch else []
    role += [f"if {condition.describe()}" for condition in step.when]
    role += [f"on {outcome} of {other}" for other, outcome in step.runs_on.items()]
    role += [f"in {step.group}"] if step.group else []
    return role


def _show_payload(run: Run, tasks: list[Task], metrics: list[MetricPublic]) -> dict[str, Any]:
    steps = {
        step.name: _step_summary(run, step.name, [task for task in tasks if task.step == step.name])
        for step in run.pipeline_ir.steps
    }
    return {
        "run": run.record.model_dump(mode="json"),
        "imports": _imports(run, tasks),
        "steps": steps,
        "tasks": [task.record.model_dump(mode="json") for task in tasks],
        "metrics": [metric.model_dump(mode="json") for metric in metrics],
    }


def _imports(run: Run, tasks: list[Task]) -> list[dict[str, Any]]:
    """The outside data the run imported: each import's name, where it came from, and the
    artifact it was captured as (as the steps that read it recorded it; None if none did)."""
    read = {
        item.artifact.metadata.get("source"): item.artifact
        for task in tasks
        for item in task.record.inputs
        if item.artifact.metadata.get("source") is not None
    }
    listed = []
    for item in run.pipeline_ir.imports:
        source = item.uri if item.uri is not None else run.parameters.get(item.parameter or "")
        artifact = read.get(source)
        listed.append({
            "name": item.name,
            "source": source,
            "artifact": None if artifact is None else artifact.model_dump(mode="json"),
        })  # fmt: skip
    return listed


def show(
    run_id: Annotated[str, typer.Argument(help="A run id, or a unique prefix of one.")],
    json_: JsonFlag = False,
) -> None:
    """Show a run: its steps, tasks, statuses, cache hits, clones, outputs and timings."""
    run = Client().run(run_id)
    tasks, metrics = run.tasks(), run.metrics()
    payload = _show_payload(run, tasks, metrics)
    if json_:
        print_json(payload)
        return
    console = results()
    record = run.record
    console.print(f"[bold]{run.id}[/bold]  {run.pipeline}  {_status(run.status)}")
    console.print(
        f"version {record.pipeline_version[:SHORT]}  backend {record.backend}  started "
        f"{_when(run)}  took {_seconds(run.duration)}"
    )
    console.print(
        f"project {record.project or '-'}  owner {escape(record.owner or '-')}  "
        f"tags {escape(', '.join(run.tags) or '-')}"
    )
    console.print(f"parameters {escape(json.dumps(run.parameters))}")
    for item in payload["imports"]:
        artifact = item["artifact"]
        captured = "not read" if artifact is None else (
            f"{artifact['digest'][:SHORT]}, {artifact['format']}, {artifact['size']:,} B"
        )  # fmt: skip
        console.print(f"import {item['name']} <- {escape(str(item['source']))} ({captured})")
    if record.resumed_from:
        console.print(f"resumed from {record.resumed_from}")
    if record.error:
        console.print(f"[red]{escape(record.error)}[/red]")
    console.print(_steps_table(payload["steps"]))
    console.print(_tasks_table(list(payload["steps"]), tasks))
    described = _described_table(list(payload["steps"]), tasks)
    if described.row_count:
        console.print(described)
    if metrics:
        table = Table("task", "metric", "value", box=None, title="metrics", title_justify="left")
        for metric in metrics:
            table.add_row(f"{metric.step}[{metric.index}]", metric.name, f"{metric.value:.6g}")
        console.print(table)


def _steps_table(steps: dict[str, dict[str, Any]]) -> Table:
    table = Table(
        Column("step", no_wrap=True), "tasks", "status", "retried", "cached", "cloned",
        Column("time", no_wrap=True), "output", box=None, title="steps", title_justify="left",
    )  # fmt: skip
    for name, summary in steps.items():
        outputs = summary["outputs"]
        if summary["mapped"]:
            output = f"{len(outputs)} artifacts"
        else:
            output = outputs[0][:SHORT] if outputs else "-"
        tags = ["map"] * summary["mapped"] + summary["role"]
        table.add_row(
            name + (f" [dim]({escape(', '.join(tags))})[/]" if tags else ""),
            str(summary["tasks"]),
            " ".join(_status(status) + f" {count}" for status, count in summary["statuses"].items())
            or _status("pending"),
            str(summary["retried"] or ""),
            str(summary["cache_hits"] or ""),
            str(summary["cloned"] or ""),
            _seconds(summary["seconds"]),
            output,
        )
    return table


def _tasks_table(steps: list[str], tasks: list[Task]) -> Table:
    """Tasks in step order; a step of many tasks lists only those that did not succeed."""
    table = Table(
        Column("task", no_wrap=True), "status", "attempt", Column("time", no_wrap=True),
        "output", "type", "note", box=None, title="tasks", title_justify="left",
    )  # fmt: skip
    for step in steps:
        group = [task for task in tasks if task.step == step]
        listed = group
        if len(group) > LISTED_TASKS:
            listed = [task for task in group if task.status != "succeeded"]
        for task in listed:
            output = task.output
            table.add_row(
                f"{task.step}[{task.index}]",
                _status(task.status),
                str(task.attempt),
                _seconds(task.duration),
                output.digest[:SHORT] if output else "-",
                output.type.removeprefix("builtins.") if output else "",
                escape(_task_note(task)),
            )
        if len(listed) < len(group):
            more = "more " if listed else ""
            more = f"{len(group) - len(listed)} {more}tasks, all succeeded (--json lists them)"
            table.add_row(f"{step}[...]", _status("succeeded"), "", "", "", "", more)
    return table


def _described_table(steps: list[str], tasks: list[Task]) -> Table:
    """The named outputs of steps returning several values, and the outputs that carry a name
    (files, folders) or metadata, `LISTED_TASKS` per step."""
    table = Table(
        Column("task", no_wrap=True), Column("output", no_wrap=True), "name",
        Column("metadata", overflow="fold"), box=None, title="outputs", title_justify="left",
    )  # fmt: skip
    for step in steps:
        described = [
            (task, field, output)
            for task in tasks
            if task.step == step
            for field, output in _outputs_of(task)
            if field or output.name or output.metadata
        ]
        for task, field, output in described[:LISTED_TASKS]:
            table.add_row(
                f"{task.step}[{task.index}]{field}",
                output.digest[:SHORT],
                escape(output.name or ""),
                escape(json.dumps(output.metadata, sort_keys=True)) if output.metadata else "",
            )
        if len(described) > LISTED_TASKS:
            more = f"{len(described) - LISTED_TASKS} more outputs described (--json lists them)"
            table.add_row(f"{step}[...]", "", "", more)
    return table


def _outputs_of(task: Task) -> list[tuple[str, ArtifactInfo]]:
    """A task's output, or its named outputs (``.model``) when it returned several."""
    named = task.record.named_outputs
    if named:
        return [(f".{name}", output) for name, output in named.items()]
    return [] if task.output is None else [("", task.output.info)]


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


def logs(
    run_id: Annotated[str, typer.Argument(help="A run id, or a unique prefix of one.")],
    step: Annotated[str, typer.Argument(help="The step whose task's log to print.")],
    index: Annotated[
        int | None, typer.Option(min=0, help="The task of a mapped step (needed there).")
    ] = None,
    attempt: Annotated[
        int | None, typer.Option(min=0, help="An earlier attempt (default: the latest).")
    ] = None,
) -> None:
    """Print the captured stdout and stderr of one task."""
    run = Client().run(run_id)
    if index is None:
        index = _only_task(run, step, "--index N", "--index")
    try:
        text = run.logs(step, index=index, attempt=attempt)
    except NotFound:
        if run.record.backend != "argo":
            raise
        text = _pod_logs(run, step, index)
    if text:
        typer.echo(text, nl=not text.endswith("\n"))


def _only_task(run: Run, step: str, pick: str, param: str) -> int:
    """The index of the step's one task; for a mapped step of several, a usage error saying
    how to ``pick`` one (``--index N``) and which there are."""
    if run.pipeline_ir.step(step).mapped is None:
        return 0
    width = len(run.tasks(step))
    if width == 1:
        return 0
    which = f"N from 0 to {width - 1}" if width else "once its tasks have started"
    raise typer.BadParameter(
        f"step {step!r} of run {run.id} is a map of {width} tasks: say which with {pick}, "
        f"{which} (`argosy show {run.id}` lists the tasks that failed)",
        param_hint=param,
    )


def _pod_logs(run: Run, step: str, index: int) -> str:
    """The log of an Argo task that has not reached the store yet, read from its pod."""
    from argosy.backends.argo import pod_logs

    namespace = run.record.namespace
    if namespace is None:
        return pod_logs(run.id, step, index)
    return pod_logs(run.id, step, index, namespace)


def lineage(
    artifact_id: Annotated[
        str,
        typer.Argument(
            help="An artifact digest or a unique prefix, or RUN/STEP[/INDEX]: the output of a "
            "step (RUN: a run id, a prefix, or a pipeline name for its newest run)."
        ),
    ],
    direction: Annotated[
        Direction, typer.Option(help="upstream: where it came from; downstream: what it fed.")
    ] = "upstream",
    depth: Annotated[int | None, typer.Option(min=1, help="At most this many tasks away.")] = None,
    json_: JsonFlag = False,
) -> None:
    """Show where an artifact came from, or what was made from it."""
    artifact = _artifact(Client(), artifact_id)
    graph = artifact.lineage(direction, depth)
    if json_:
        print_json(graph.model_dump(mode="json"))
        return
    results().print(_lineage_tree(graph, artifact.digest))


def _artifact(client: Client, reference: str) -> Artifact:
    """The artifact a digest (or prefix) names, or the output ``RUN/STEP[/INDEX]`` names."""
    if "/" not in reference:
        return client.artifact(reference)
    run_ref, step, *rest = reference.split("/")
    if len(rest) > 1 or (rest and not rest[0].isdigit()):
        raise typer.BadParameter(
            f"{reference!r} is not RUN/STEP or RUN/STEP/INDEX (INDEX a task number)",
            param_hint="ARTIFACT_ID",
        )
    run = client.run(run_ref)
    index = int(rest[0]) if rest else _only_task(run, step, f"{run.id}/{step}/N", "ARTIFACT_ID")
    for task in run.tasks(step):
        if task.index == index and task.output is not None:
            return task.output
    raise NotFound(
        f"task {step}[{index}] of run {run.id} has no output; see `argosy show {run.id}`"
    )


def _lineage_tree(graph: LineageGraph, root: str) -> Tree:
    """The graph as a tree from the root; a node reached twice is shown once, then referred to."""
    nodes = {node.id: node for node in graph.nodes}
    children: dict[str, list[str]] = {}
    for edge in graph.edges:
        parent, child = (
            (edge.target, edge.source)
            if graph.direction == "upstream"
            else (edge.source, edge.target)
        )
        children.setdefault(parent, []).append(child)
    tree = Tree(_node_label(nodes.get(root), root))
    shown = {root}
    stack = [(tree, child) for child in reversed(children.get(root, []))]
    while stack:
        parent, node_id = stack.pop()
        label = _node_label(nodes.get(node_id), node_id)
        if node_id in shown:
            parent.add(f"{label} [dim](shown above)[/dim]")
            continue
        shown.add(node_id)
        branch = parent.add(label)
        stack.extend((branch, child) for child in reversed(children.get(node_id, [])))
    return tree


def _node_label(node: LineageNode | None, node_id: str) -> str:
    if node is None or node.kind == "artifact":
        size = "" if node is None or node.size is None else human_bytes(node.size)
        details = "" if node is None else f"  {node.type} {node.format} {size}"
        return f"[cyan]{node_id[:SHORT]}[/cyan]{escape(details)}"
    status = _status(node.status.value) if node.status else ""
    task = escape(f"{node.step}[{node.index}]")
    return f"[bold]{task}[/bold] {status} [dim]run {node.run_id}[/dim]"


def register(app: typer.Typer) -> None:
    """Add the inspection commands to the ``argosy`` app."""
    app.command("runs")(runs)
    app.command("show")(show)
    app.command("logs")(logs)
    app.command("lineage")(lineage)


__all__ = ["lineage", "logs", "register", "runs", "show"]
