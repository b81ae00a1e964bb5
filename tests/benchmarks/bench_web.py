"""Benchmark: the web UI's pages of a 100,000-task run, through the real service.

    python tests/benchmarks/bench_web.py [--width 100000] [--repeats 5]

Records, straight through `Repository` (as the runtime's bulk writes do, without running
anything), a run of the ``shouting`` test pipeline whose mapped step has ``--width`` tasks, and
a run of it with 4; serves the service with uvicorn in a thread (`ServiceThread`), then prints
the median wall time of each page over HTTP, each next to baselines measured in the same run:
``GET /healthz`` (the service's floor) and a raw sqlite3 ``GROUP BY`` counting the run's tasks
per step and status (the least work a page that shows per-step counts must do):

* the run page (graph, step summaries, first page of tasks), of the wide run and the small one;
* the last page of the wide run's tasks (``?step=shout&page=...``);
* a task page (``shout[width/2]``) and the runs list.

Target (issue 15): a 100,000-task run's page about as fast as a small run's, well under 1 s.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import (
    MAX_BATCH,
    RunCreate,
    RunStatus,
    RunUpdate,
    TaskInput,
    TaskRecord,
    TaskStatus,
)
from argosy.metadata.service import create_app
from argosy.store.base import ArtifactInfo
from argosy.web import urls
from tests.metadata.service_thread import ServiceThread
from tests.pipelines.recorded import SHOUTING


def _artifact(name: str) -> ArtifactInfo:
    return ArtifactInfo(digest=f"{name:0>64}"[-64:], format="json", type="builtins.str", size=8)


def record(repository: Repository, run_id: str, width: int) -> None:
    """A finished run of ``shouting`` whose ``shout`` step has ``width`` tasks."""
    pipeline = load_pipeline(SHOUTING).ir
    start = datetime.now(UTC) - timedelta(hours=1)
    repository.create_run(
        RunCreate(
            id=run_id,
            pipeline=pipeline.name,
            pipeline_version=pipeline.digest(),
            pipeline_ir=pipeline.model_dump(mode="json"),
            parameters={"text": "wide"},
            started_at=start,
        )
    )
    words = _artifact(f"{run_id}w")

    def task(step: str, index: int = 0, **fields: object) -> TaskRecord:
        return TaskRecord(
            run_id=run_id,
            step=step,
            index=index,
            status=TaskStatus.SUCCEEDED,
            started_at=start,
            finished_at=start + timedelta(seconds=1),
            **({"output": _artifact(f"{run_id}{step}{index}")} | fields),
        )

    repository.record_tasks([task("words", output=words)])
    for first in range(0, width, MAX_BATCH):
        repository.record_tasks(
            [
                task("shout", i, inputs=[TaskInput(argument="word", artifact=words, item=i)])
                for i in range(first, min(first + MAX_BATCH, width))
            ]
        )
    repository.record_tasks([task("sentence"), task("lengths")])
    done = RunUpdate(status=RunStatus.SUCCEEDED, finished_at=start + timedelta(minutes=5))
    repository.update_run(run_id, done)


def median_ms(repeats: int, work: Callable[[], object]) -> float:
    work()  # warm: first requests build caches (templates, the pipeline's IR)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as answer:
        return answer.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argosy-bench-web-") as temporary:
        home = Path(temporary)
        database = home / "metadata.db"
        repository = Repository(f"sqlite:///{database}", migrate=True)
        began = time.perf_counter()
        record(repository, "wide-run", args.width)
        record(repository, "small-run", 4)
        print(f"recorded {args.width:,} + 4 tasks in {time.perf_counter() - began:.1f} s")
        service = ServiceThread(
            create_app(Settings(home=home, anonymous_reads=True), repository=repository)
        )
        service.start()
        try:
            base = service.url
            last = -(-args.width // 50)  # the run page shows 50 tasks a page

            def count_by_step() -> list[tuple]:
                with sqlite3.connect(database) as connection:
                    return connection.execute(
                        "SELECT step, status, count(*) FROM tasks WHERE run_id = ? "
                        "GROUP BY step, status",
                        ("wide-run",),
                    ).fetchall()

            figures = {
                "GET /healthz (baseline)": lambda: get(f"{base}/healthz"),
                "sqlite3 GROUP BY of the run's tasks (baseline)": count_by_step,
                "run page, 4-task run": lambda: get(urls.run_url(base, "small-run")),
                f"run page, {args.width:,}-task run": lambda: get(urls.run_url(base, "wide-run")),
                f"last task page ({last:,})": lambda: get(
                    f"{urls.run_url(base, 'wide-run')}?step=shout&page={last}"
                ),
                "task page": lambda: get(urls.task_url(base, "wide-run", "shout", args.width // 2)),
                "runs list": lambda: get(urls.runs_url(base)),
            }
            measured = {name: median_ms(args.repeats, work) for name, work in figures.items()}
        finally:
            service.stop()
            repository.close()
    health = measured["GET /healthz (baseline)"]
    grouped = measured["sqlite3 GROUP BY of the run's tasks (baseline)"]
    small = measured["run page, 4-task run"]
    print(f"median of {args.repeats}, after one warm-up request each:")
    for name, ms in measured.items():
        print(
            f"  {name:<48} {ms:8.1f} ms   x{ms / health:6.1f} healthz   "
            f"x{ms / grouped:5.2f} GROUP BY   x{ms / small:5.2f} small run's page"
        )


if __name__ == "__main__":
    main()
