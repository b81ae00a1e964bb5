"""Benchmark: a big numpy array through `S3Store` against the raw `minio` SDK, on a real SeaweedFS.

    python tests/benchmarks/bench_store.py [--size 1GB] [--rounds 2]

Starts its own SeaweedFS on 127.0.0.1 (the test suite's `S3Server`) and prints, for the same
bytes, put and get throughput through Argosy as a ratio to `Minio.fput_object` and
`fget_object` of the .npy file with the SDK's defaults (put: `save` hashes the array in memory
and streams it up in parallel parts; get: `load` downloads parallel ranges into the cache and
maps them), and the time of a second, deduplicated, put. The get includes checking the
download against its digest, hashed as it lands.
Then the cost of that check on a local load: `load` from a `LocalStore` (which hashes the blob
once per process before it is used) against `numpy.load` of the same file, unchecked, both
reading every byte, and a second load in the same process (the check remembered).
After a warm-up upload, each round uses a fresh bucket and fresh caches, and rounds alternate
which of the two goes first; the median of each measurement is shown (on 2 shared cores single
runs are noisy).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass
from pathlib import Path
from statistics import median
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from argosy.store import LocalStore, S3Store, load, save
from argosy.store.base import ArtifactInfo
from argosy.store.s3 import PARALLEL, PART_SIZE
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


@dataclass
class Round:
    """The seconds each measurement took in one round (a fresh bucket, fresh caches)."""

    raw_put: float
    raw_get: float
    put: float
    get: float
    save_again: float
    put_again: float


def one_round(
    server: S3Server, array: np.ndarray, raw_file: Path, scratch: Path, raw_first: bool
) -> Round:
    bucket = server.make_bucket()
    raw = server.client(timeout=300)

    def store(cache: str) -> S3Store:
        return S3Store(
            server.endpoint,
            bucket,
            access_key=server.access_key,
            secret_key=server.secret_key,
            secure=False,
            cache_dir=scratch / bucket / cache,
        )

    def raw_pair() -> tuple[float, float]:
        put, _ = _timed(lambda: raw.fput_object(bucket, "raw.npy", str(raw_file)))
        get, _ = _timed(lambda: raw.fget_object(bucket, "raw.npy", str(scratch / "raw-get")))
        return put, get

    writer, reader = store("writer"), store("reader")
    raw_put, raw_get = raw_pair() if raw_first else (0.0, 0.0)
    put, info = _timed(lambda: save(writer, array))
    get, loaded = _timed(lambda: load(reader, info))
    if not raw_first:
        raw_put, raw_get = raw_pair()
    assert loaded.shape == array.shape and np.array_equal(loaded[-1000:], array[-1000:])
    save_again, second = _timed(lambda: save(writer, array))
    assert second == info
    staged = writer.staging_dir() / "again.npy"
    staged.hardlink_to(reader.local_path(info.digest))  # already downloaded: free
    put_again, _ = _timed(lambda: writer.put_file(staged, info.digest))
    shutil.rmtree(scratch / bucket)
    print(
        f"  round ({'raw' if raw_first else 'S3Store'} first): put {raw_put:.2f} s raw, "
        f"{put:.2f} s S3Store; get {raw_get:.2f} s raw, {get:.2f} s S3Store",
        flush=True,
    )
    return Round(raw_put, raw_get, put, get, save_again, put_again)


@dataclass
class Verified:
    """Seconds of local loads in one round: checked by `load`, and plain `numpy.load`."""

    checked_copy: float
    plain_copy: float
    checked_map: float
    plain_map: float
    again: float


def _fresh_store(blob: Path, info: ArtifactInfo, root: Path) -> LocalStore:
    """A store at ``root`` holding ``blob`` (linked) at a new path: not yet checked here."""
    target = root / "blobs" / info.digest[:2] / info.digest[2:]
    target.parent.mkdir(parents=True)
    os.link(blob, target)
    return LocalStore(root)


def _read_all(array: np.ndarray) -> float:
    return float(array.sum())


def verified_round(blob: Path, info: ArtifactInfo, scratch: Path) -> Verified:
    copying = _fresh_store(blob, info, scratch / "copy")
    mapping = _fresh_store(blob, info, scratch / "map")
    plain_copy, _ = _timed(lambda: _read_all(np.load(blob, allow_pickle=False)))
    checked_copy, _ = _timed(lambda: _read_all(load(copying, info, mmap=False)))
    plain_map, _ = _timed(lambda: _read_all(np.load(blob, mmap_mode="r", allow_pickle=False)))
    checked_map, _ = _timed(lambda: _read_all(load(mapping, info)))
    again, _ = _timed(lambda: load(mapping, info))
    shutil.rmtree(scratch)
    return Verified(checked_copy, plain_copy, checked_map, plain_map, again)


def verification(array: np.ndarray, rounds: int, scratch: Path) -> None:
    store = LocalStore(scratch / "local")
    info = save(store, array)
    blob = store.root / "blobs" / info.digest[:2] / info.digest[2:]
    results = [verified_round(blob, info, scratch / f"verify-{i}") for i in range(rounds)]
    mid = Verified(*(median(values) for values in zip(*(astuple(r) for r in results), strict=True)))
    nbytes = info.size
    print(f"local load, the blob checked against its digest (median of {rounds} rounds):")
    _row("np.load(file) + sum, unchecked", mid.plain_copy, nbytes)
    _row("load(store, info, mmap=False) + sum", mid.checked_copy, nbytes)
    _row("np.load(file, mmap_mode='r') + sum, unchecked", mid.plain_map, nbytes)
    _row("load(store, info) (mmap) + sum", mid.checked_map, nbytes)
    print(f"checked / unchecked time, copy: {mid.checked_copy / mid.plain_copy:.2f}")
    print(f"checked / unchecked time, mmap: {mid.checked_map / mid.plain_map:.2f}")
    print(f"the same load again in this process (checked once): {mid.again * 1e3:.2f} ms")


def run(size: int, rounds: int, scratch: Path) -> None:
    server = S3Server(scratch / "s3")
    server.start()
    try:
        array = np.random.default_rng(0).random(size // 8)
        raw_file = scratch / "raw.npy"
        np.save(raw_file, array)
        nbytes = raw_file.stat().st_size
        warm_up = scratch / "warm-up"  # the first upload to a fresh server allocates volumes
        warm_up.write_bytes(np.random.default_rng(1).bytes(64 << 20))
        server.client().fput_object(server.make_bucket(), "warm-up", str(warm_up))
        print(f"array: {array.nbytes / 1e6:.0f} MB float64 ({nbytes} bytes as .npy)")
        results = [
            one_round(server, array, raw_file, scratch, raw_first=index % 2 == 0)
            for index in range(rounds)
        ]
    finally:
        server.stop()
    mid = Round(*(median(values) for values in zip(*(astuple(r) for r in results), strict=True)))
    print(f"median of {rounds} rounds:")
    print("raw minio SDK (its defaults: 5 MiB parts, 3 threads up, 1 stream down):")
    _row("fput_object", mid.raw_put, nbytes)
    _row("fget_object", mid.raw_get, nbytes)
    print(f"S3Store (its defaults: {PART_SIZE >> 20} MiB parts, {PARALLEL} in flight up and down):")
    _row("put: save(store, array)", mid.put, nbytes)
    _row("get: load(store, info) (download + mmap)", mid.get, nbytes)
    print(f"put throughput ratio (S3Store / raw): {mid.raw_put / mid.put:.2f}  (target >= 0.8)")
    print(f"get throughput ratio (S3Store / raw): {mid.raw_get / mid.get:.2f}  (target >= 0.8)")
    print(
        f"second put of the same artifact: put_file {mid.put_again * 1e3:.1f} ms "
        f"(target < 50 ms); save() again, which re-hashes the array: "
        f"{mid.save_again * 1e3:.0f} ms"
    )
    verification(array, rounds, scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=_size, default=_size("1GB"), help="array size (1GB)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is shown (3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argosy-bench-store-") as scratch:
        run(args.size, args.rounds, Path(scratch))


if __name__ == "__main__":
    main()
