"""Benchmark: a step that reads one named output of a big output, against reading all of it.

    python tests/benchmarks/bench_outputs.py [--array-mb 200] [--repeats 3]

A producer returns a ``--array-mb`` float64 array and a float; a consumer needs only the float.
Two local runs of the same work (2 workers, embedded SQLite, local store, temporary
ARGOSY_HOME), each the median of ``--repeats``:

* named outputs: the producer returns a NamedTuple and the consumer reads ``out.total``, so it
  loads the float's artifact alone;
* the plain baseline: the producer returns a tuple, stored as one artifact (format ``tree``),
  and the consumer takes it whole and picks the float, loading the array too.

Prints the consumer task's time (as recorded in the metadata) and the run's wall time for each,
and their ratios, named / whole (target: the consumer at most 0.1x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from argosy import pipeline, step
from argosy.backends.local import run_pipeline
from argosy.config import Settings
from argosy.dsl import PipelineDefinition
from argosy.metadata import open_reader


class Measured(NamedTuple):
    values: np.ndarray
    total: float


@step
def measure_named(mb: int) -> Measured:
    values = np.ones(mb * (1 << 20) // 8)
    return Measured(values, float(values.size))


@step
def measure_whole(mb: int) -> tuple:
    values = np.ones(mb * (1 << 20) // 8)
    return (values, float(values.size))


@step
def use_total(total: float) -> float:
    return total / 2


@step
def use_whole(measured: tuple) -> float:
    return measured[1] / 2


@pipeline
def named(mb: int = 200):
    use_total(measure_named(mb).total)


@pipeline
def whole(mb: int = 200):
    use_whole(measure_whole(mb))


def one_run(definition: PipelineDefinition, mb: int, consumer: str) -> tuple[float, float]:
    """Seconds of the whole run, and of the consumer task as recorded."""
    with tempfile.TemporaryDirectory() as home:
        os.environ["ARGOSY_HOME"] = home
        settings = Settings()
        started = time.perf_counter()
        result = run_pipeline(definition, {"mb": mb}, settings, max_workers=2, progress=False)
        wall = time.perf_counter() - started
        assert result.succeeded, result.steps
        task = next(
            t for t in open_reader(settings).list_tasks(result.run_id) if t.step == consumer
        )
        assert task.started_at is not None and task.finished_at is not None
        return wall, (task.finished_at - task.started_at).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--array-mb", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for key in ("ARGOSY_METADATA_URL", "ARGOSY_S3_ENDPOINT"):
        os.environ.pop(key, None)
    cases = {"named": (named, "use_total"), "whole": (whole, "use_whole")}
    one_run(named, 1, "use_total")  # warm up: imports, the first pool
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in cases}
    for _ in range(args.repeats):  # interleaved, so both see the same machine
        for label, (definition, consumer) in cases.items():
            runs[label].append(one_run(definition, args.array_mb, consumer))
    rows = {
        label: (statistics.median(r[0] for r in done), statistics.median(r[1] for r in done))
        for label, done in runs.items()
    }
    for label, (wall, task) in rows.items():
        print(f"{label:>6}: run {wall:.3f} s, consumer task {task * 1000:.1f} ms")
    (named_wall, named_task), (whole_wall, whole_task) = rows["named"], rows["whole"]
    print(f"consumer ratio (named / whole, {args.array_mb} MB array): {named_task / whole_task:.3f}"
          "  (target <= 0.1)")  # fmt: skip
    print(f"run ratio (named / whole): {named_wall / whole_wall:.2f}")


if __name__ == "__main__":
    main()
