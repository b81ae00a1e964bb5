"""Downloading one S3 object into a local file in parallel ranges, hashing it as it lands.

`S3Store` fetches a blob into its download cache this way: a few long ranged GETs at once,
each written at its offset, while this thread hashes the bytes in order as they are filled in
(`RangeHasher`), so the digest is known the moment the last byte lands. A range that fails
part way is asked for again from where it stopped: each byte is written once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from minio import Minio

from argosy.store.range_hash import RangeHasher

T = TypeVar("T")
Retrying = Callable[[str, Callable[[], T]], T]
"""The store's retry policy: ``retrying(what, call)`` (`S3Store._retrying`)."""

MiB = 1 << 20


def fetch_ranges(
    client: Minio,
    bucket: str,
    key: str,
    fd: int,
    size: int,
    *,
    part_size: int,
    parallel: int,
    retrying: Retrying[Any],
) -> str | None:
    """Download the object into ``fd`` (``size`` bytes) in ``parallel`` ranges; the sha256 of
    what was written, or None if the file shrank while it was written."""
    # one long range per stream: S3 servers answer a range request at a cost that grows
    # with the object's part count, so many short ranges of a big blob are slow
    step = max(part_size, -(-size // parallel))
    ranges = [(start, min(step, size - start)) for start in range(0, size, step)]
    hasher = RangeHasher(fd, ranges)

    def fetch(index: int) -> None:
        try:
            start, length = ranges[index]
            progress = lambda done: hasher.filled(index, done)  # noqa: E731
            retrying(
                f"downloading {key}",
                _range_fetcher(client, bucket, key, fd, start, length, progress),
            )
        except BaseException:
            hasher.stop()
            raise

    with ThreadPoolExecutor(parallel) as pool:
        fetches = [pool.submit(fetch, index) for index in range(len(ranges))]
        actual = hasher.hexdigest()  # in this thread, while the ranges download
        for done in fetches:
            done.result()  # the first failure, if any
    return actual


def _range_fetcher(
    client: Minio,
    bucket: str,
    key: str,
    fd: int,
    start: int,
    length: int,
    progress: Callable[[int], None],
) -> Callable[[], None]:
    """A call that writes bytes ``start .. start+length`` of the object at their offset in
    ``fd``; called again after a failure, it resumes where the last call stopped."""
    written = 0

    def fetch() -> None:
        nonlocal written
        wanted = length - written
        response = client.get_object(bucket, key, offset=start + written, length=wanted)
        try:
            for chunk in response.stream(MiB):
                if len(chunk) > length - written:
                    raise ConnectionError(f"got more than the {wanted} bytes asked for")
                written += os.pwrite(fd, chunk, start + written)
                progress(written)
        finally:
            response.close()
            response.release_conn()
        if written != length:
            raise ConnectionError(f"got {written} of {length} bytes at offset {start}")

    return fetch


__all__ = ["fetch_ranges"]
