"""Many requests to one store at once: as many as the store says are worth it (``concurrency``).

Some work makes one small request per task of a wide step: a fan-in reads the output record and
the value of each task of the step it gathers, a resume reads and writes a record per task it
takes over, `argosy gc` reads the records it marks from, a submitted run's ``output`` reads a
mapped step's values. Against S3 each request waits a few milliseconds on the network, so a
1,000-wide fan-in that made them one after the other spent seconds waiting. `concurrently`
makes them on up to ``store.concurrency`` threads and returns their results in order; for a
local store (whose requests wait on nothing but this machine) it is a plain loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argosy.store.base import ArtifactStore

T = TypeVar("T")
R = TypeVar("R")


def concurrently(store: ArtifactStore, call: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[call(item) for item in items]``, made ``store.concurrency`` at a time. The first
    failure in ``items`` order is raised, once the calls under way have ended; the others never
    start."""
    threads = min(store.concurrency, len(items))
    if threads <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(threads, thread_name_prefix="argosy-store") as pool:
        futures = [pool.submit(call, item) for item in items]
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()  # a no-op for those done or under way


__all__ = ["concurrently"]
