"""Benchmark: a wide fan-in reading its children from S3, against plain sequential GETs.

    python tests/benchmarks/bench_fan_in.py [--width 1000] [--rounds 3] [--latency-ms 0]

Starts its own SeaweedFS on 127.0.0.1 (the test suite's `S3Server`), stores the outputs of a
``--width``-wide fan-out of small values (each task's output record and value, as the runtime
writes them), then times what the fan-in's pod does before its function runs: resolving its
inputs (`argosy.runtime.inputs.resolve_inputs`), with a fresh `S3Store` and cache each time:

* with the store's default concurrency (`argosy.store.s3.CONCURRENCY` reads at once), and one
  read at a time (how a fan-in read before `argosy.store.concurrency`);
* the baseline: a plain `minio` client GETting the same objects one after the other, no
  parsing, no checks.

``--latency-ms`` adds that much waiting to every GET (the store's and the baseline's), as a
server across a network would; the server here answers in about a millisecond. Rounds alternate
which goes first; medians are printed, with ratios to the baseline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from minio import Minio

from argosy import pipeline, step
from argosy.outputs import OutputRecord, write_output
from argosy.runtime.inputs import resolve_inputs
from argosy.store import S3Store, save
from argosy.store.addresses import output_key
from argosy.store.s3 import CONCURRENCY
from tests.servers.s3 import S3Server
from tests.store.conftest import s3_store

RUN = "bench-fan-in"


@step
def numbers(n: int) -> list[int]:
    return list(range(n))


@step
def square(x: int) -> dict[str, int]:
    return {"x": x, "square": x * x}


@step
def gather(squares: list[dict[str, int]]) -> int:
    return len(squares)


@pipeline
def wide(n: int = 1000):
    return gather(square.map(x=numbers(n)))


def _slowed(client: Minio, latency: float) -> Minio:
    """``client``, its GETs waiting ``latency`` seconds first."""
    if latency:
        get_object = client.get_object

        def slow(*args: Any, **kwargs: Any) -> Any:
            time.sleep(latency)
            return get_object(*args, **kwargs)

        client.get_object = slow  # type: ignore[method-assign]
    return client


def populate(store: S3Store, width: int) -> list[str]:
    """Store the fan-out's outputs as its tasks would; the keys of the objects written."""
    source = OutputRecord(artifact=save(store, list(range(width))), task="numbers-0")
    write_output(store, RUN, "numbers", 0, source)

    def one(index: int) -> list[str]:
        info = save(store, {"x": index, "square": index * index})
        write_output(store, RUN, "square", index, OutputRecord(artifact=info, task=f"sq-{index}"))
        return [f"records/{output_key(RUN, 'square', index)}", f"blobs/{info.digest}"]

    with ThreadPoolExecutor(16) as pool:
        return [key for keys in pool.map(one, range(width)) for key in keys]


def one_round(
    server: S3Server, bucket: str, keys: list[str], width: int, latency: float, scratch: Path
) -> dict[str, float]:
    ir = wide.ir
    gather_step = ir.step("gather")

    def fan_in(concurrency: int) -> Callable[[], float]:
        def timed() -> float:
            cache = Path(tempfile.mkdtemp(dir=scratch))
            store = s3_store(server, bucket, cache, concurrency=concurrency)
            _slowed(store._client, latency)
            started = time.perf_counter()
            resolved = resolve_inputs(
                ir, gather_step, run_id=RUN, index=0, params={"n": width}, store=store
            )
            seconds = time.perf_counter() - started
            assert len(resolved.values["squares"]) == width
            return seconds

        return timed

    def plain() -> float:
        client = _slowed(server.client(), latency)
        started = time.perf_counter()
        for key in keys:
            response = client.get_object(bucket, key)
            try:
                response.read()
            finally:
                response.close()
                response.release_conn()
        return time.perf_counter() - started

    measured = {"at once": fan_in(CONCURRENCY), "one at a time": fan_in(1), "plain": plain}
    return {name: measure() for name, measure in measured.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    options = parser.parse_args()
    latency = options.latency_ms / 1000
    with tempfile.TemporaryDirectory(prefix="argosy-bench-fan-in-") as folder:
        scratch = Path(folder)
        server = S3Server(scratch / "s3")
        server.start()
        try:
            bucket = server.make_bucket()
            keys = populate(s3_store(server, bucket, scratch / "populate"), options.width)
            rounds = []
            for index in range(options.rounds):
                figures = one_round(server, bucket, keys, options.width, latency, scratch)
                if index % 2:  # the order alternates: the plain GETs first every other round
                    figures = dict(reversed(figures.items()))
                rounds.append(figures)
        finally:
            server.stop()
    mid = {name: median(r[name] for r in rounds) for name in rounds[0]}
    plain = mid["plain"]
    print(
        f"{options.width}-wide fan-in from S3, {len(keys)} objects, GET latency added "
        f"{options.latency_ms:g} ms; median of {options.rounds} rounds"
    )
    print(f"  plain minio GETs, one after the other: {plain:.3f} s")
    for name in ("at once", "one at a time"):
        label = f"{CONCURRENCY} at once (default)" if name == "at once" else name
        print(f"  resolve_inputs, {label}: {mid[name]:.3f} s ({mid[name] / plain:.2f}x plain)")


if __name__ == "__main__":
    main()
