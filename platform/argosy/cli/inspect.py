"""The inspection commands: ``argosy runs``, ``logs`` and ``lineage`` (``show``: `argosy.cli.show`).

Thin: each command asks `argosy.Client` and prints. Tables and trees go to stdout (rich); with
``--json`` one JSON object does instead; ``logs`` writes the log text itself to stdout. Run ids
and artifact digests may be unique prefixes. ``runs`` lists the current user's runs unless
``--owner`` or ``--all-owners`` says otherwise, as `argosy.Client` does. A mistake (unknown id,
unknown step) raises an `ArgosyError`, which `argosy.cli.main` prints as one red line before
exiting with code 1.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Column, Table
from rich.tree import Tree

from argosy.cli import styles
from argosy.cli.console import diagnostics, print_json, results
from argosy.cli.styles import SHORT, JsonFlag
from argosy.client import Artifact, Client, Run
from argosy.errors import NotFound
from argosy.metadata.reader import Direction
from argosy.metadata.schemas import LineageGraph, LineageNode, RunStatus
from argosy.ownership import CURRENT_USER
from argosy.previews import human_bytes


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
            styles.status(run.status),
            styles.started(run, "%m-%d %H:%M:%S"),
            styles.seconds(run.duration),
            escape(",".join(run.tags)),
            escape(json.dumps(run.parameters, separators=(",", ":"))),
            style="dim" if run.record.resumed_from else None,
        )
    results().print(table)


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
    width = next(summary.tasks for summary in run.steps() if summary.name == step)
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
    output = run.task(step, index).output
    if output is None:
        raise NotFound(
            f"task {step}[{index}] of run {run.id} has no output; see `argosy show {run.id}`"
        )
    return output


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
    shown = styles.status(node.status.value) if node.status else ""
    task = escape(f"{node.step}[{node.index}]")
    return f"[bold]{task}[/bold] {shown} [dim]run {node.run_id}[/dim]"


def register(app: typer.Typer) -> None:
    """Add the inspection commands to the ``argosy`` app."""
    app.command("runs")(runs)
    app.command("logs")(logs)
    app.command("lineage")(lineage)


__all__ = ["lineage", "logs", "register", "runs"]
