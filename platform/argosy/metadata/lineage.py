"""Lineage: the tasks and artifacts upstream or downstream of an artifact, in ONE SQL statement.

A recursive CTE walks the events from the root artifact (upstream: artifact <- producing task
<- its inputs; downstream: artifact -> consuming task -> its output), keeping each artifact's
nearest depth, and the same statement returns the graph's artifacts and edges. It runs
unchanged on SQLite and Postgres. Because artifacts are content-addressed, the walk crosses
runs and pipelines wherever the same bytes were produced or read.

``depth`` counts tasks: depth 1 upstream is the producer of the root and that task's inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, text

from argosy.errors import NotFound
from argosy.metadata.reader import Direction
from argosy.metadata.schemas import LineageEdge, LineageGraph, LineageNode, TaskStatus

UNBOUNDED_DEPTH = 256
"""The depth a query without one stops at (a guard against cycles of identical bytes)."""

# ``CROSS JOIN`` keeps SQLite from scanning all events to probe the small CTE (it never
# reorders a CROSS JOIN); Postgres plans it as any inner join.
# Upstream: from an artifact to the task that wrote it (its output event), then to the
# artifacts that task read (its input events). Downstream swaps the two event kinds.
_STEP = {
    "upstream": ("output", "input"),
    "downstream": ("input", "output"),
}

_SQL = """
WITH RECURSIVE reach(digest, depth) AS (
    SELECT CAST(:root AS TEXT), 0
    UNION
    SELECT far.artifact_digest, reach.depth + 1
    FROM reach
    JOIN events AS near ON near.artifact_digest = reach.digest AND near.kind = '{near}'
    JOIN events AS far ON far.task_id = near.task_id AND far.kind = '{far}'
    WHERE reach.depth < :depth AND far.artifact_digest <> reach.digest
),
nearest AS (
    SELECT digest, MIN(depth) AS depth FROM reach GROUP BY digest
)
SELECT 'artifact' AS row_kind, nearest.depth AS depth, artifacts.digest AS digest,
       artifacts.type AS type, artifacts.format AS format, artifacts.size AS size,
       NULL AS task_id, NULL AS run_id, NULL AS step, NULL AS task_index, NULL AS status,
       NULL AS far_digest, NULL AS far_argument, NULL AS far_item,
       NULL AS near_argument, NULL AS near_item
FROM nearest JOIN artifacts ON artifacts.digest = nearest.digest
UNION ALL
SELECT 'task', nearest.depth + 1, nearest.digest, NULL, NULL, NULL,
       tasks.id, tasks.run_id, tasks.step, tasks."index", tasks.status,
       far.artifact_digest, far.argument, far.item, near.argument, near.item
FROM nearest
CROSS JOIN events AS near
JOIN tasks ON tasks.id = near.task_id
LEFT JOIN events AS far ON far.task_id = near.task_id AND far.kind = '{far}'
WHERE nearest.depth < :depth AND near.artifact_digest = nearest.digest AND near.kind = '{near}'
"""

_STATEMENTS = {
    direction: text(_SQL.format(near=near, far=far)) for direction, (near, far) in _STEP.items()
}


def lineage(
    connection: Connection, digest: str, direction: Direction, depth: int | None
) -> LineageGraph:
    """The lineage graph of the artifact ``digest``; NotFound if no such artifact."""
    if direction not in _STATEMENTS:
        raise NotFound(f"no lineage direction {direction!r}; use 'upstream' or 'downstream'")
    limit = UNBOUNDED_DEPTH if depth is None else max(depth, 0)
    rows = connection.execute(_STATEMENTS[direction], {"root": digest, "depth": limit}).all()
    graph = _assemble(rows, direction)
    if not any(node.id == digest for node in graph.nodes):
        raise NotFound(f"no artifact {digest}; list a run's outputs with `argosy show RUN_ID`")
    return graph.model_copy(update={"root": digest, "direction": direction})


def _assemble(rows: Iterable[Any], direction: Direction) -> LineageGraph:
    nodes: dict[str, LineageNode] = {}
    edges: dict[tuple[str, str, str | None, int | None], LineageEdge] = {}

    def add_edge(artifact: str, task: str, kind: str, argument: Any, item: Any) -> None:
        key = (artifact, task, argument, item)
        if key not in edges:
            edges[key] = _edge(artifact, task, kind, argument, item)

    near_kind, far_kind = _STEP[direction]
    for row in rows:
        if row.row_kind == "artifact":
            nodes[row.digest] = _artifact_node(row, row.depth)
            continue
        known = nodes.get(row.task_id)
        if known is None or (known.depth or 0) > row.depth:
            nodes[row.task_id] = _task_node(row, row.depth)
        add_edge(row.digest, row.task_id, near_kind, row.near_argument, row.near_item)
        if row.far_digest is not None:
            add_edge(row.far_digest, row.task_id, far_kind, row.far_argument, row.far_item)
    return LineageGraph(nodes=list(nodes.values()), edges=list(edges.values()))


def run_graph(connection: Connection, run_id: str) -> LineageGraph:
    """Every task of a run and the artifacts it read and wrote (empty for a run without tasks)."""
    tasks = connection.execute(
        text(
            'SELECT id AS task_id, run_id, step, "index" AS task_index, status'
            " FROM tasks WHERE run_id = :run"
        ),
        {"run": run_id},
    ).all()
    events = connection.execute(
        text(
            "SELECT events.task_id, events.kind, events.argument, events.item, artifacts.digest,"
            " artifacts.type, artifacts.format, artifacts.size"
            " FROM events JOIN artifacts ON artifacts.digest = events.artifact_digest"
            " WHERE events.task_id IN (SELECT id FROM tasks WHERE run_id = :run)"
            " ORDER BY events.task_id, events.kind, events.position"
        ),
        {"run": run_id},
    ).all()
    nodes = {task.task_id: _task_node(task) for task in tasks}
    for event in events:
        nodes.setdefault(event.digest, _artifact_node(event))
    edges = [_edge(e.digest, e.task_id, e.kind, e.argument, e.item) for e in events]
    return LineageGraph(root=run_id, nodes=list(nodes.values()), edges=edges)


def _artifact_node(row: Any, depth: int | None = None) -> LineageNode:
    return LineageNode(
        id=row.digest, kind="artifact", depth=depth, type=row.type, format=row.format, size=row.size
    )


def _task_node(row: Any, depth: int | None = None) -> LineageNode:
    return LineageNode(
        id=row.task_id,
        kind="task",
        depth=depth,
        run_id=row.run_id,
        step=row.step,
        index=row.task_index,
        status=TaskStatus(row.status),
    )


def _edge(artifact: str, task: str, kind: str, argument: Any, item: Any) -> LineageEdge:
    """A data-flow edge: artifact -> task for an input, task -> artifact for an output."""
    source, target = (artifact, task) if kind == "input" else (task, artifact)
    return LineageEdge(source=source, target=target, kind=kind, argument=argument, item=item)


__all__ = ["UNBOUNDED_DEPTH", "lineage", "run_graph"]
