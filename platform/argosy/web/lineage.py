"""An artifact's lineage as a drawing: artifacts and tasks, cut to a size people can read.

Up to `MAX_NODES` nodes are drawn one by one. A larger graph (an artifact that fed a
10,000-wide map) is drawn by groups: the tasks of one step of one run become one box
(``fit`` times 10,000), and the artifacts of one type at one depth another, with the edges
between groups; the page's table still lists nodes one by one, up to its limit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from argosy.metadata.schemas import LineageGraph, LineageNode
from argosy.previews import human_bytes
from argosy.web.graph import TIMES, Drawing, Node, layout

MAX_NODES = 60


class Links:
    """Where nodes link to (the page's URL helpers)."""

    def __init__(
        self,
        artifact: Callable[[str], str],
        task: Callable[[str, str, int], str],
        step: Callable[[str, str], str],
    ) -> None:
        self.artifact, self.task, self.step = artifact, task, step


def _short_type(node: LineageNode) -> str:
    return (node.type or node.format or "artifact").rsplit(".", 1)[-1]


def _one(node: LineageNode, root: str | None, links: Links) -> Node:
    if node.kind == "artifact":
        detail = node.id[:12] + (f" · {human_bytes(node.size)}" if node.size is not None else "")
        return Node(
            id=node.id,
            label=_short_type(node),
            detail=detail,
            kind="artifact root" if node.id == root else "artifact",
            href=links.artifact(node.id),
            title=f"artifact {node.id} ({node.type})",
        )
    label = f"{node.step}[{node.index}]"
    status = node.status.value if node.status else "pending"
    return Node(
        id=node.id,
        label=label,
        detail=f"run {node.run_id}",
        kind=status,
        href=links.task(node.run_id or "", node.step or "", node.index or 0),
        title=f"task {label} of run {node.run_id}: {status}",
    )


def _group_key(node: LineageNode) -> str:
    if node.kind == "task":
        return f"tasks {node.run_id} {node.step}"
    return f"artifacts {node.depth} {_short_type(node)}"


def drawing(graph: LineageGraph, links: Links) -> tuple[Drawing, bool]:
    """The graph drawn node by node, or by groups when it is large (True then)."""
    if len(graph.nodes) <= MAX_NODES:
        nodes = [_one(node, graph.root, links) for node in graph.nodes]
        return layout(nodes, [(edge.source, edge.target) for edge in graph.edges]), False
    keys = {node.id: node.id if node.id == graph.root else _group_key(node) for node in graph.nodes}
    sizes = Counter(keys.values())
    groups: dict[str, Node] = {}
    for node in graph.nodes:
        key = keys[node.id]
        if key in groups:
            continue
        if sizes[key] == 1:
            groups[key] = _one(node, graph.root, links)
        elif node.kind == "task":
            count = f"{sizes[key]:,}"
            groups[key] = Node(
                id=key,
                label=f"{node.step} {TIMES}{count}",
                detail=f"run {node.run_id}",
                kind="group",
                href=links.step(node.run_id or "", node.step or ""),
                title=f"{count} tasks of step {node.step} of run {node.run_id}",
            )
        else:
            groups[key] = Node(
                id=key,
                label=f"{sizes[key]:,} {TIMES} {_short_type(node)}",
                detail=f"depth {node.depth}",
                kind="artifact group",
                title=f"{sizes[key]:,} artifacts of type {node.type}",
            )
    edges = [
        (keys[edge.source], keys[edge.target])
        for edge in graph.edges
        if edge.source in keys and edge.target in keys
    ]
    return layout(list(groups.values()), edges), True


__all__ = ["MAX_NODES", "Links", "drawing"]
