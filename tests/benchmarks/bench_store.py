"""Benchmark: a big numpy array through `S3Store` against the raw `minio` SDK, on a real SeaweedFS.

    python tests/benchmarks/bench_store.py [--size 1GB] [--part-size 16MB] [--parallel 4]

Starts its own SeaweedFS on 127.0.0.1 (the test suite's `S3Server`) and prints, for the same
bytes, put and get throughput through Argosy as a ratio to `Minio.fput_object` and
`fget_object` of the .npy file with the SDK's defaults (put: `save` hashes the array in memory
and streams it up in parallel parts; get: `load` downloads parallel ranges into the cache and
maps them), and the time of a second, deduplicated, put.
Each is measured once, after a warm-up upload: on 2 shared cores, expect some noise.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from argosy.store import S3Store, load, save
from tests.servers.s3 import S3Server

T = TypeVar("T")
_UNITS = {"": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30}


def _size(text: str) -> int:
    match = re.fullmatch(r"\s*([\d.]+)\s*([KMG]i?B)?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 1GB or 100MB")
    return int(float(match[1]) * _UNITS[(match[2] or "").upper()])


def _timed(call: Callable[[], T]) -> tuple[float, T]:
    os.sync()  # start each measurement with no dirty pages left by the one before
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def _row(label: str, seconds: float, nbytes: int) -> None:
    print(f"  {label:<44} {seconds:8.3f} s  {nbytes / seconds / 1e6:8.1f} MB/s")


def run(size: int, part_size: int, parallel: int, scratch: Path) -> None:
    server = S3Server(scratch / "s3")
    server.start()
    try:
        bucket = server.make_bucket()
        array = np.random.default_rng(0).random(size // 8)
        raw_file = scratch / "raw.npy"
        np.save(raw_file, array)
        nbytes = raw_file.stat().st_size
        print(f"array: {array.nbytes / 1e6:.0f} MB float64 ({nbytes} bytes as .npy)")

        raw = server.client(timeout=300)
        warm_up = scratch / "warm-up"  # the first upload to a fresh server allocates volumes
        warm_up.write_bytes(np.random.default_rng(1).bytes(64 << 20))
        raw.fput_object(bucket, "warm-up", str(warm_up))
        raw_put, _ = _timed(lambda: raw.fput_object(bucket, "raw/array.npy", str(raw_file)))
        raw_get, _ = _timed(
            lambda: raw.fget_object(bucket, "raw/array.npy", str(scratch / "raw-get.npy"))
        )

        def store(cache: str) -> S3Store:
            return S3Store(
                server.endpoint,
                bucket,
                access_key=server.access_key,
                secret_key=server.secret_key,
                secure=False,
                cache_dir=scratch / cache,
                part_size=part_size,
                parallel=parallel,
            )

        writer = store("writer-cache")
        put, info = _timed(lambda: save(writer, array))
        reader = store("reader-cache")
        get, loaded = _timed(lambda: load(reader, info))
        assert np.array_equal(loaded[-1000:], array[-1000:]) and loaded.shape == array.shape
        again, second = _timed(lambda: save(writer, array))
        assert second == info
        staged = writer.staging_dir() / "again.npy"
        staged.hardlink_to(reader.local_path(info.digest))  # already downloaded: free
        dedup, _ = _timed(lambda: writer.put_file(staged, info.digest))

        print("raw minio SDK (defaults: 5 MiB parts, 3 threads up, 1 stream down):")
        _row("fput_object", raw_put, nbytes)
        _row("fget_object", raw_get, nbytes)
        print(f"S3Store ({part_size >> 20} MiB parts, {parallel} in parallel):")
        _row("put: save(store, array)", put, nbytes)
        _row("get: load(store, info) (download + mmap)", get, nbytes)
        print(f"put throughput ratio (S3Store / raw): {raw_put / put:.2f}  (target >= 0.8)")
        print(f"get throughput ratio (S3Store / raw): {raw_get / get:.2f}  (target >= 0.8)")
        print(
            f"second put of the same artifact: put_file {dedup * 1e3:.1f} ms (target < 50 ms); "
            f"save() again, which re-hashes the array: {again * 1e3:.0f} ms"
        )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=_size, default=_size("1GB"), help="array size (1GB)")
    parser.add_argument("--part-size", type=_size, default=_size("16MiB"), help="(16MiB)")
    parser.add_argument("--parallel", type=int, default=4, help="parts in flight (4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argosy-bench-store-") as scratch:
        run(args.size, args.part_size, args.parallel, Path(scratch))


if __name__ == "__main__":
    main()
