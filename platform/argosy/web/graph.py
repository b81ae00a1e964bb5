"""Graphs drawn as plain SVG, laid out here: a run's steps, an artifact's lineage.

A small layered layout, enough for pipelines (tens of steps) and for lineage graphs cut to a
readable size: each node goes in the column of its longest path from a source (topological
depth), nodes in a column are ordered by the mean row of what feeds them (one barycentre
sweep), and edges are curves from a node's right side to the next one's left. The result is
geometry only (`Drawing`); the templates turn it into ``<svg>`` with a link per node.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

NODE_WIDTH, NODE_HEIGHT = 190, 56
GAP_X, GAP_Y, MARGIN = 56, 16, 8
BAR_HEIGHT = 6
TIMES = "\N{MULTIPLICATION SIGN}"
"""Between a step and its number of tasks in a label (``fit`` times 10,000)."""
LABEL_CHARACTERS = 24
"""Longer labels are cut (the whole one is the node's tooltip and accessible name)."""


@dataclass(frozen=True)
class Node:
    """Something to draw: a box with a label, a line of detail, a link and a status bar."""

    id: str
    label: str
    detail: str = ""
    kind: str = ""
    """CSS class of the box: a status (``succeeded``, ``failed``...) or ``artifact``."""
    href: str | None = None
    bar: Sequence[tuple[str, int]] = ()
    """(status, count) pairs drawn as a stacked bar, as wide as the box for all counts."""
    title: str = ""
    """The tooltip and accessible name (the label when empty)."""


@dataclass(frozen=True)
class Segment:
    kind: str
    x: float
    width: float


@dataclass(frozen=True)
class Placed:
    node: Node
    x: float
    y: float
    width: float = NODE_WIDTH
    height: float = NODE_HEIGHT
    segments: list[Segment] = field(default_factory=list)

    @property
    def label(self) -> str:
        text = self.node.label
        return text if len(text) <= LABEL_CHARACTERS else text[: LABEL_CHARACTERS - 1] + "…"

    @property
    def detail(self) -> str:
        text = self.node.detail
        limit = LABEL_CHARACTERS + 6
        return text if len(text) <= limit else text[: limit - 1] + "…"

    @property
    def title(self) -> str:
        return self.node.title or self.node.label


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    nodes: list[Placed]
    edges: list[str]
    """SVG path data, one per edge."""


def layout(nodes: Sequence[Node], edges: Sequence[tuple[str, str]]) -> Drawing:
    """Place ``nodes`` in columns by depth along ``edges`` (source id, target id); edges naming
    an unknown node are left out."""
    known = {node.id: node for node in nodes}
    edges = [(a, b) for a, b in dict.fromkeys(edges) if a in known and b in known and a != b]
    columns = _columns(list(known), edges)
    rows = _order(columns, edges)
    placed: dict[str, Placed] = {}
    for column, ids in enumerate(rows):
        for row, node_id in enumerate(ids):
            x = MARGIN + column * (NODE_WIDTH + GAP_X)
            y = MARGIN + row * (NODE_HEIGHT + GAP_Y)
            placed[node_id] = Placed(known[node_id], x, y, segments=_segments(known[node_id], x))
    tallest = max((len(ids) for ids in rows), default=0)
    width = 2 * MARGIN + len(rows) * NODE_WIDTH + max(len(rows) - 1, 0) * GAP_X
    height = 2 * MARGIN + tallest * NODE_HEIGHT + max(tallest - 1, 0) * GAP_Y
    paths = [_curve(placed[a], placed[b]) for a, b in edges]
    return Drawing(width, height, [placed[node.id] for node in nodes], paths)


def _columns(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's longest path from a source (Kahn's order); nodes on a cycle go last."""
    feeds: dict[str, list[str]] = defaultdict(list)
    waiting = dict.fromkeys(ids, 0)
    for a, b in edges:
        feeds[a].append(b)
        waiting[b] += 1
    column = dict.fromkeys(ids, 0)
    ready = [node_id for node_id in ids if waiting[node_id] == 0]
    done: set[str] = set()
    while ready:
        node_id = ready.pop(0)
        done.add(node_id)
        for target in feeds[node_id]:
            column[target] = max(column[target], column[node_id] + 1)
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    last = max(column.values(), default=0) + 1
    return {node_id: column[node_id] if node_id in done else last for node_id in ids}


def _order(columns: dict[str, int], edges: list[tuple[str, str]]) -> list[list[str]]:
    """Node ids per column, each column sorted by the mean row of the nodes feeding it."""
    rows: list[list[str]] = [[] for _ in range(max(columns.values(), default=-1) + 1)]
    for node_id, column in columns.items():
        rows[column].append(node_id)
    fed_by: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        fed_by[b].append(a)
    position: dict[str, float] = {}
    for ids in rows:
        given = {node_id: row for row, node_id in enumerate(ids)}
        ids.sort(key=lambda node_id: _centre(node_id, fed_by, position, given[node_id]))
        position.update({node_id: row for row, node_id in enumerate(ids)})
    return rows


def _centre(
    node_id: str, fed_by: dict[str, list[str]], position: dict[str, float], given: int
) -> float:
    """The mean row of the nodes feeding ``node_id``; its given row when nothing feeds it."""
    seen = [position[a] for a in fed_by[node_id] if a in position]
    return sum(seen) / len(seen) if seen else given


def _segments(node: Node, x: float) -> list[Segment]:
    total = sum(count for _, count in node.bar)
    segments, left = [], x
    for kind, count in node.bar:
        if count and total:
            width = NODE_WIDTH * count / total
            segments.append(Segment(kind, left, width))
            left += width
    return segments


def _curve(a: Placed, b: Placed) -> str:
    x1, y1 = a.x + a.width, a.y + a.height / 2
    x2, y2 = b.x, b.y + b.height / 2
    bend = (x2 - x1) / 2
    return (
        f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    )


__all__ = ["TIMES", "Drawing", "Node", "Placed", "Segment", "layout"]
