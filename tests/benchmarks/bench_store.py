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

Last, what a task does to a local store many times (``--small-only`` runs just this): put and
get 1 KB records and 100-byte blobs, packed (in ``packed.sqlite``) against files
(``LocalStore(root, packed=False)``, the layout before packing), as time ratios, with the disk
space each takes per item; then put and get of blobs from 1 KiB to 256 KiB, packed against
files, which is how the largest packed blob (`argosy.store.packed.BLOB_LIMIT`) was chosen.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
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
from argosy.store.packed import BLOB_LIMIT
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


def _disk_bytes(root: Path) -> int:
    """Bytes the files under ``root`` take on disk (allocated blocks)."""
    return sum(path.stat().st_blocks * 512 for path in root.rglob("*") if path.is_file())


def _per_item(call: Callable[[int], object], count: int) -> float:
    """Microseconds per call of ``call(n)`` for n in range(count)."""
    started = time.perf_counter()
    for n in range(count):
        call(n)
    return (time.perf_counter() - started) / count * 1e6


def small_round(root: Path, packed: bool, count: int) -> dict[str, float]:
    """Microseconds per operation on ``count`` records and blobs, and disk bytes per item."""
    store = LocalStore(root, packed=packed)
    store.check()
    record = os.urandom(1000)
    blobs = [os.urandom(100) for _ in range(count)]
    digests = [store.put_bytes(blobs[0])]  # opens what the layout opens, outside the timing
    times = {
        "put_record 1 KB": _per_item(
            lambda n: store.put_record(f"runs/r/outputs/s/{n}.json", record), count
        ),
        "put_bytes 100 B": _per_item(lambda n: digests.append(store.put_bytes(blobs[n])), count),
    }
    reader = LocalStore(root)
    reader.get_record("runs/r/outputs/s/0.json")
    times["get_record"] = _per_item(
        lambda n: reader.get_record(f"runs/r/outputs/s/{n}.json"), count
    )
    times["get_bytes (checked)"] = _per_item(lambda n: reader.get_bytes(digests[n + 1]), count)
    times["has"] = _per_item(lambda n: reader.has(digests[n + 1]), count)
    return times


def small_layout(root: Path, packed: bool, count: int) -> dict[str, float]:
    """`small_round`, then the disk bytes per item once the stores are closed (SQLite folds its
    write-ahead log into the file when the last connection closes)."""
    times = small_round(root, packed, count)
    gc.collect()  # the stores, and their connections
    os.sync()
    return times | {"disk bytes per record and blob": _disk_bytes(root) / count}


def sized_round(root: Path, size: int, packed: bool, count: int) -> float:
    """Microseconds to put, then get, one blob of ``size`` bytes in a store that packs (or
    not) blobs of that size."""
    store = LocalStore(root, packed=False)
    store.check()
    pack = store._packed  # the packed file itself: BLOB_LIMIT does not bound it
    blobs = [os.urandom(size) for _ in range(count)]
    digests = [hashlib.sha256(blob).hexdigest() for blob in blobs]
    pack.put_blob("0" * 64, b"")  # opens the packed file, outside the timing

    def put(n: int) -> None:
        if packed:
            pack.put_blob(digests[n], blobs[n])
        else:
            store.put_chunks([blobs[n]], digests[n])

    def get(n: int) -> None:
        data = (
            pack.get_blob(digests[n]) if packed else store._existing_blob(digests[n]).read_bytes()
        )
        assert data == blobs[n]

    return _per_item(put, count) + _per_item(get, count)


def small_values(count: int, rounds: int, scratch: Path) -> None:
    results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for index in range(rounds):
        for packed in (index % 2 == 0, index % 2 == 1):  # alternate which goes first
            results[packed].append(small_layout(scratch / f"small-{index}-{packed}", packed, count))
    mid = {
        packed: {name: median(r[name] for r in rounds_of) for name in rounds_of[0]}
        for packed, rounds_of in results.items()
    }
    print(f"a local store, {count} records and blobs (median of {rounds} rounds):")
    print(f"  {'':<32} {'files':>10} {'packed':>10} {'packed / files':>15}")
    for name in mid[True]:
        unit = "" if name.startswith("disk") else " us"
        files, packed_ = mid[False][name], mid[True][name]
        print(
            f"  {name:<32} {files:>7.0f}{unit:<3} {packed_:>7.0f}{unit:<3} {packed_ / files:>15.2f}"
        )
    print(f"put + get of one blob, by size (largest packed: {BLOB_LIMIT} bytes):")
    for size in (1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10):
        per = max(200, count // 10)
        files = median(
            sized_round(scratch / f"f{size}-{i}", size, False, per) for i in range(rounds)
        )
        packed_ = median(
            sized_round(scratch / f"p{size}-{i}", size, True, per) for i in range(rounds)
        )
        print(
            f"  {size >> 10:>4} KiB: files {files:7.0f} us, packed {packed_:7.0f} us, "
            f"packed / files {packed_ / files:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=_size, default=_size("1GB"), help="array size (1GB)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is shown (3)")
    parser.add_argument("--count", type=int, default=5000, help="small records and blobs (5000)")
    parser.add_argument("--small-only", action="store_true", help="only the small values")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argosy-bench-store-") as scratch:
        if not args.small_only:
            run(args.size, args.rounds, Path(scratch))
        small_values(args.count, args.rounds, Path(scratch))


if __name__ == "__main__":
    main()
