"""Benchmark: reading one 100,000-task run, as ``argosy show`` and the REST API do.

    python tests/benchmarks/bench_metadata_scale.py [--tasks 100000] [--runs 1000]
                                                    [--repeat 5] [--postgres]

Records, straight through `Repository` (batches of `BATCH` task records), ``--runs`` small runs
and one run shaped like a wide map (``items -> inc.map -> total``): ``--tasks`` tasks of the
mapped step, each reading one item of the list and writing its own artifact, and a fan-in task
reading all of them. Then times each read, best and median of ``--repeat``, next to a plain
baseline measured on the same database in the same run (the driver's own cursor, no Argosy):

* ``run_steps`` (the per-step summary)  vs  ``SELECT step, status, count(*) ... GROUP BY``;
* ``get_run``  vs  ``SELECT * FROM runs WHERE id = ?``;
* the first page, and a page near the end, of ``list_tasks(step="inc", limit=50)``, and the
  failed tasks of the whole run  vs  ``SELECT * FROM tasks ... ORDER BY index LIMIT 50``;
* ``find_runs`` of a prefix  vs  the same range on ``runs.id`` without Argosy;
* ``GET /api/v1/runs/{id}`` and ``GET /api/v1/runs/{id}/tasks?step=inc&limit=50`` through the
  FastAPI app in-process (Starlette's TestClient)  vs  the GROUP BY baseline.

Every one must be well under a second (the goal of issue 14). Also prints the metadata bytes
per task. SQLite by default; ``--postgres`` runs the same on the test suite's `PostgresServer`.
On 2 shared cores, expect noise: the best of the repeats is the figure to read.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from argosy.config import Settings
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunCreate, TaskInput, TaskRecord, TaskStatus
from argosy.store.base import ArtifactInfo

BATCH = 5000
RUN = "wide-20261203-120000-benchmark0"
STEPS = [
    {"name": "items", "mapped": None},
    {"name": "inc", "mapped": "x"},
    {"name": "total", "mapped": None},
]


def _artifact(name: str) -> ArtifactInfo:
    return ArtifactInfo(digest=f"{name:0>64}", format="json", type="builtins.int", size=2)


def record(repository: Repository, tasks: int, runs: int) -> float:
    """Record the runs; seconds it took."""
    began = time.perf_counter()
    ir = {"name": "wide", "steps": STEPS}
    for n in range(runs):
        run_id = f"wide-20261203-{n:06d}-other{n:05d}"
        repository.create_run(RunCreate(id=run_id, pipeline="wide", pipeline_version="w1"))
    repository.create_run(RunCreate(id=RUN, pipeline="wide", pipeline_version="w1", pipeline_ir=ir))
    items = _artifact("items")
    repository.record_tasks(
        [TaskRecord(run_id=RUN, step="items", status=TaskStatus.SUCCEEDED, output=items)]
    )
    stamp = time.time()
    for start in range(0, tasks, BATCH):
        repository.record_tasks(
            [
                TaskRecord(
                    run_id=RUN,
                    step="inc",
                    index=i,
                    status=TaskStatus.FAILED if i % 1000 == 999 else TaskStatus.SUCCEEDED,
                    started_at=_when(stamp + i / 1000),
                    finished_at=_when(stamp + i / 1000 + 0.002),
                    inputs=[TaskInput(argument="x", artifact=items, item=i)],
                    output=None if i % 1000 == 999 else _artifact(f"inc{i}"),
                )
                for i in range(start, min(start + BATCH, tasks))
            ]
        )
    outputs = [_artifact(f"inc{i}") for i in range(tasks) if i % 1000 != 999]
    repository.record_tasks(
        [
            TaskRecord(
                run_id=RUN,
                step="total",
                status=TaskStatus.SUCCEEDED,
                inputs=[TaskInput(argument="xs", artifact=a, item=None) for a in outputs],
                output=_artifact("total"),
            )
        ]
    )
    return time.perf_counter() - began


def _when(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best, median) milliseconds of ``repeat`` calls."""
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        timings.append((time.perf_counter() - began) * 1000)
    return min(timings), statistics.median(timings)


def raw_sqlite(path: Path) -> Callable[[str, tuple], list]:
    connection = sqlite3.connect(path)
    return lambda sql, args: connection.execute(sql, args).fetchall()


def raw_postgres(url: str) -> Callable[[str, tuple], list]:
    import psycopg

    connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    connection.autocommit = True
    return lambda sql, args: connection.execute(sql.replace("?", "%s"), args).fetchall()


def measure(label: str, repository: Repository, raw: Callable, args: argparse.Namespace) -> None:
    from fastapi.testclient import TestClient

    from argosy.metadata.service import create_app

    took = record(repository, args.tasks, args.runs)
    settings = Settings(home=Path(args.scratch) / "home", anonymous_reads=True)
    http = TestClient(create_app(settings, repository=repository))
    last = max(args.tasks - 100, 0)
    page = 'SELECT * FROM tasks WHERE run_id = ? AND step = ? ORDER BY "index" LIMIT 50 OFFSET ?'

    def group_by() -> list:
        return raw(
            "SELECT step, status, count(*) FROM tasks WHERE run_id = ? GROUP BY step, status",
            (RUN,),
        )

    checks: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        ("run_steps (per-step summary)", lambda: repository.run_steps(RUN), group_by),
        (
            "get_run",
            lambda: repository.get_run(RUN),
            lambda: raw("SELECT * FROM runs WHERE id = ?", (RUN,)),
        ),
        (
            "list_tasks(step='inc', limit=50), first page",
            lambda: repository.list_tasks(RUN, step="inc", limit=50),
            lambda: raw(page, (RUN, "inc", 0)),
        ),
        (
            f"list_tasks(step='inc', limit=50, offset={last:,})",
            lambda: repository.list_tasks(RUN, step="inc", limit=50, offset=last),
            lambda: raw(page, (RUN, "inc", last)),
        ),
        (
            "list_tasks(statuses=['failed'], limit=50)",
            lambda: repository.list_tasks(RUN, statuses=[TaskStatus.FAILED], limit=50),
            lambda: raw(
                'SELECT * FROM tasks WHERE run_id = ? AND status = ? ORDER BY "index" LIMIT 50',
                (RUN, "failed"),
            ),
        ),
        (
            "find_runs('wide-20261203-12')",
            lambda: repository.find_runs("wide-20261203-12"),
            lambda: raw(
                "SELECT * FROM runs WHERE id >= ? AND id < ? LIMIT 10",
                ("wide-20261203-12", "wide-20261203-13"),
            ),
        ),
        (
            "GET /api/v1/runs/{id} (with steps)",
            lambda: _ok(http.get(f"/api/v1/runs/{RUN}")),
            group_by,
        ),
        (
            "GET /api/v1/runs/{id}/tasks?step=inc&limit=50",
            lambda: _ok(http.get(f"/api/v1/runs/{RUN}/tasks", params={"step": "inc", "limit": 50})),
            lambda: raw(page, (RUN, "inc", 0)),
        ),
    ]
    print(f"\n{label}: {args.tasks:,} tasks and {args.runs:,} other runs recorded in {took:.1f} s")
    heading = f"{'read':<48} {'best ms':>9} {'median':>8} {'baseline':>9} {'ratio':>6}"
    print(f"  {heading}  (target: under 1000 ms)")
    for name, call, baseline in checks:
        call()  # warm: statements compiled, pages cached
        best, median = timed(call, args.repeat)
        base, _ = timed(baseline, args.repeat)
        print(f"  {name:<48} {best:9.1f} {median:8.1f} {base:9.1f} {best / base:6.1f}")
    http.close()


def _ok(response: Any) -> Any:
    response.raise_for_status()
    return response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argosy-bench-") as scratch:
        args.scratch = scratch
        path = Path(scratch) / "metadata.db"
        with Repository(f"sqlite:///{path}") as repository:
            measure("Embedded SQLite", repository, raw_sqlite(path), args)
            with repository.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"  metadata.db: {path.stat().st_size / (args.tasks + 2):,.0f} bytes per task")
        if args.postgres:
            from tests.servers.postgres import PostgresServer

            postgres = PostgresServer(Path(scratch) / "pg")
            postgres.start()
            try:
                url = postgres.url(postgres.create_database())
                with Repository(url) as repository:
                    measure("Postgres", repository, raw_postgres(url), args)
            finally:
                postgres.stop()


if __name__ == "__main__":
    main()
