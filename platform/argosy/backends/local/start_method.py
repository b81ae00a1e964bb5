"""How the warm pool starts its workers: forked from this process when that is safe.

Forking is the fast way (workers inherit the imported pipeline) and the only way for a
pipeline defined in ``__main__`` (a notebook, a script run directly). It is unsafe once this
process has run OpenMP code (scikit-learn's K-means, numba's parallel loops): the OpenMP
runtime keeps its thread pool, a forked child inherits the pool's state without its threads,
and the child's next parallel region waits for them forever. Then workers come from a fresh
fork server instead, and load the pipeline by its reference.
"""

from __future__ import annotations

import os
import threading

FORK = "fork"
FORKSERVER = "forkserver"


def start_method(pipeline_ref: str) -> str:
    """``fork`` unless this process runs native threads a forked child would find broken."""
    if pipeline_ref.startswith("__main__") or not _unknown_native_threads():
        return FORK
    return FORKSERVER


def _unknown_native_threads() -> bool:
    """Whether threads run here that are neither Python's nor OpenBLAS's (which survives fork)."""
    try:
        native = len(os.listdir("/proc/self/task"))
    except OSError:  # no procfs: nothing to go by, keep the fast path
        return False
    if native <= threading.active_count():
        return False
    from threadpoolctl import threadpool_info

    blas_helpers = sum(
        max(pool["num_threads"] - 1, 0)
        for pool in threadpool_info()
        if pool["internal_api"] == "openblas"
    )
    return native > threading.active_count() + blas_helpers


__all__ = ["FORK", "FORKSERVER", "start_method"]
