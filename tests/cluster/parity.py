"""What makes two runs of one pipeline the same: each task's output digest, and the lineage.

A run on the cluster must equal ``argosy run`` of the same pipeline with the same parameters:
the same artifact, task for task, and the same lineage graph once tasks are named without
their run id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from argosy import ir
from argosy.config import Settings
from argosy.errors import ArgosyError
from argosy.metadata.schemas import LineageGraph
from argosy.runtime import find_output, map_width
from argosy.store import open_store

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = sorted(path.stem for path in (ROOT / "pipelines").glob("*.py"))
SMALL = {
    "wide_foreach": {"width": 6},
    "kmeans_sweep": {"n_docs": 300, "ks": [2, 3]},
    "classifier": {},
    "cooc": {"n_docs": 300, "vocab_size": 200},
    "incremental": {"n_chunks": 3, "chunk_size": 200},
    "gpu_embed": {"n_docs": 300, "vocab_size": 200, "dim": 8},
    "release_checks": {"n": 200},
    "control_flow": {"n": 300},
    "sub_pipelines": {"n": 200, "held_out_n": 60, "min_rows": 10},
    "churn": {},
}
"""Parameters that keep every example pipeline small enough for a 2-core test machine."""
TIMED = {
    "cooc": {"cooc_python", "cooc_sparse", "cooc_numba", "cooc_numba_parallel", "check_agreement"}
}
"""Steps whose outputs hold their own wall-clock times, so their bytes differ on every run
(two local runs too): their digests are not compared, their place in the lineage is."""


def task_digests(
    settings: Settings, run_id: str, pipeline: ir.Pipeline, params: dict[str, Any]
) -> dict[str, list[str]]:
    """The output digest of every task that has one, per step in index order, read from the
    store (a skipped step has none, a caught task none)."""
    store = open_store(settings)
    result = {}
    for step in pipeline.steps:
        try:
            width = map_width(pipeline, step.name, run_id=run_id, params=params, store=store)
        except ArgosyError:  # it maps over the output of a step that was skipped
            width = 0
        found = [find_output(store, run_id, step.name, i) for i in range(width)]
        result[step.name] = [record.artifact.digest for record in found if record is not None]
    return result


def lineage_edges(graph: LineageGraph, run_id: str) -> set[tuple[Any, ...]]:
    """A run graph's data flow, tasks named without their run id, artifacts by their producers.

    Naming an artifact by the tasks that produced it (its digest when no task of the run did)
    compares the shape of the lineage even where bytes differ between runs (`TIMED`); the
    digests themselves are compared by `task_digests`.
    """
    producers: dict[str, list[str]] = {}
    for edge in graph.edges:
        if edge.kind == "output":
            producers.setdefault(edge.target, []).append(edge.source.removeprefix(f"{run_id}."))

    def name(node: str) -> str:
        task = node.removeprefix(f"{run_id}.")
        if task != node:
            return task
        return "output of " + ",".join(sorted(producers[node])) if node in producers else node

    return {(name(e.source), name(e.target), e.kind, e.argument, e.item) for e in graph.edges}


__all__ = ["PIPELINES", "SMALL", "TIMED", "lineage_edges", "task_digests"]
