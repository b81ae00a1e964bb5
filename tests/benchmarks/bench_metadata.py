"""Benchmark: metadata write throughput and lineage latency, on Postgres and on embedded SQLite.

    python tests/benchmarks/bench_metadata.py [--clients 8] [--tasks 2000] [--batch 100]
                                              [--artifacts 100000] [--queries 200]

Starts its own durable Postgres (the test suite's `PostgresServer`, fsync on) and an
``argosy server`` process on it, then prints:

* task records written per second through the HTTP API by ``--clients`` concurrent client
  processes, each posting batches of ``--batch`` records to the bulk endpoint as the runtime's
  sink does (and, for scale, with one record per request);
* p50 and p95 latency of a depth-10 upstream lineage query, through the HTTP API, in a graph of
  ``--artifacts`` artifacts: layers of 5,000 tasks, each writing one artifact and reading one
  random artifact of the layer before it, and a second one with probability ``--join-rate``
  (a join); the size of the answer is printed with it (``--join-rate 1`` makes every task a
  join, so a depth-10 answer holds thousands of nodes);
* the same figures for embedded SQLite (writes from concurrent processes into one file through
  `Repository`, lineage through `Repository`).

On 2 shared cores, expect noise; the client processes share the CPU with the server.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from argosy.metadata.client import MetadataClient
from argosy.metadata.reader import MetadataReader
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunCreate, TaskInput, TaskRecord, TaskStatus
from argosy.metadata.sink import MetadataSink
from argosy.store.base import ArtifactInfo
from tests.servers.postgres import PostgresServer

TOKEN = secrets.token_urlsafe(32)
LAYER_WIDTH = 5000
DEPTH = 10


def _artifact(name: str) -> ArtifactInfo:
    return ArtifactInfo(digest=f"{name:0>64}", format="npy", type="numpy.ndarray", size=4096)


def _records(run_id: str, start: int, count: int) -> list[TaskRecord]:
    shared = _artifact(f"{run_id}-X")
    return [
        TaskRecord(
            run_id=run_id,
            step="fit",
            index=i,
            status=TaskStatus.SUCCEEDED,
            inputs=[TaskInput(argument="X", artifact=shared)],
            output=_artifact(f"{run_id}-m{i}"),
            metrics={"score": i / 1000},
            log_key=f"runs/{run_id}/logs/fit/{i}/0.log",
        )
        for i in range(start, start + count)
    ]


def _open(target: str) -> MetadataSink:
    return MetadataClient(target, TOKEN) if target.startswith("http") else Repository(target)


def _write(target: str, client: int, tasks: int, batch: int, start_at: float) -> float:
    """One client: its own run, ``tasks`` records in batches; returns when it finished."""
    sink = _open(target)
    run_id = f"bench-{client}-{batch}-{os.getpid()}"
    sink.create_run(RunCreate(id=run_id, pipeline="bench", pipeline_version="v1"))
    batches = [_records(run_id, s, min(batch, tasks - s)) for s in range(0, tasks, batch)]
    time.sleep(max(0.0, start_at - time.time()))
    for records in batches:
        sink.record_tasks(records)
    return time.time()


def write_rate(target: str, clients: int, tasks: int, batch: int) -> float:
    """Task records per second written by ``clients`` processes together."""
    start_at = time.time() + 2.0 + 0.1 * clients
    with ProcessPoolExecutor(clients) as pool:
        ends = list(
            pool.map(
                _write,
                *zip(*[(target, c, tasks, batch, start_at) for c in range(clients)], strict=True),
            )
        )
    return clients * tasks / (max(ends) - start_at)


def build_graph(sink: MetadataSink, artifacts: int, join_rate: float) -> ArtifactInfo:
    """Layers of tasks, each reading one or two random artifacts of the layer before."""
    rng = random.Random(7)
    sink.create_run(RunCreate(id="graph", pipeline="graph", pipeline_version="g1"))
    layers = artifacts // LAYER_WIDTH
    previous = [_artifact(f"g0-{i}") for i in range(LAYER_WIDTH)]
    sink.record_tasks(
        [
            TaskRecord(run_id="graph", step="l0", index=i, status=TaskStatus.SUCCEEDED, output=a)
            for i, a in enumerate(previous)
        ]
    )
    for layer in range(1, layers):
        current = [_artifact(f"g{layer}-{i}") for i in range(LAYER_WIDTH)]
        sink.record_tasks(
            [
                TaskRecord(
                    run_id="graph",
                    step=f"l{layer}",
                    index=i,
                    status=TaskStatus.SUCCEEDED,
                    output=out,
                    inputs=[
                        TaskInput(argument=name, artifact=rng.choice(previous))
                        for name in ("a", "b")[: 1 + (rng.random() < join_rate)]
                    ],
                )
                for i, out in enumerate(current)
            ]
        )
        previous = current
    return previous[0]


def lineage_latency(reader: MetadataReader, roots: list[ArtifactInfo], queries: int) -> tuple:
    """(p50 ms, p95 ms, nodes in the last answer) of depth-10 upstream queries."""
    timings, size = [], 0
    for n in range(queries):
        began = time.perf_counter()
        graph = reader.lineage(roots[n % len(roots)].digest, "upstream", depth=DEPTH)
        timings.append((time.perf_counter() - began) * 1000)
        size = len(graph.nodes)
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))], size


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def serve(database_url: str) -> tuple[subprocess.Popen, str]:
    """``argosy server`` on ``database_url``, as its own process; (process, base URL)."""
    port = _free_port()
    command = [sys.executable, "-m", "argosy", "server", "--port", str(port)]
    command += ["--database-url", database_url, "--migrate"]
    env = os.environ | {"ARGOSY_ADMIN_TOKEN": TOKEN}
    process = subprocess.Popen(command, env=env, preexec_fn=_die_with_parent)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/readyz", timeout=2).close()
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("argosy server did not become ready")


def report(label: str, figures: dict[str, float | str]) -> None:
    print(f"\n{label}")
    for name, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else value
        print(f"  {name:<52} {shown}")


def measure(
    label: str, target: str, reader: Callable[[], MetadataReader], args: argparse.Namespace
) -> None:
    bulk = write_rate(target, args.clients, args.tasks, args.batch)
    single = write_rate(target, args.clients, max(args.tasks // 10, 1), 1)
    began = time.perf_counter()
    writer = _open(target if not target.startswith("http") else args.db)
    last = build_graph(writer, args.artifacts, args.join_rate)
    built = time.perf_counter() - began
    roots = [_artifact(f"g{args.artifacts // LAYER_WIDTH - 1}-{i}") for i in range(50)]
    assert last.digest == roots[0].digest
    p50, p95, nodes = lineage_latency(reader(), roots, args.queries)
    report(
        label,
        {
            f"task records/s, {args.clients} clients, batches of {args.batch} (target >= 2k)": bulk,
            f"task records/s, {args.clients} clients, 1 record per request": single,
            f"lineage graph of {args.artifacts:,} artifacts built in (s)": built,
            f"depth-{DEPTH} upstream lineage p50 (ms)": p50,
            f"depth-{DEPTH} upstream lineage p95 (ms, target < 50)": p95,
            f"nodes in one depth-{DEPTH} answer (join rate {args.join_rate})": str(nodes),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=2000, help="records per client")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--join-rate", type=float, default=0.25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argosy-bench-") as scratch:
        postgres = PostgresServer(Path(scratch) / "pg", durable=True)
        postgres.start()
        try:
            args.db = postgres.url(postgres.create_database())
            server, url = serve(args.db)
            try:
                measure(
                    "Postgres, through the HTTP API (argosy server)",
                    url,
                    lambda: MetadataClient(url, TOKEN),
                    args,
                )
            finally:
                server.terminate()
                server.wait(10)
        finally:
            postgres.stop()
        sqlite = f"sqlite:///{Path(scratch) / 'metadata.db'}"
        Repository(sqlite).close()
        args.db = sqlite
        measure("Embedded SQLite, through Repository", sqlite, lambda: Repository(sqlite), args)


if __name__ == "__main__":
    main()
