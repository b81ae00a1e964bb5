"""Feature components: word co-occurrence (four variants), standard scaling, train/test split.

Each co-occurrence step returns a dict (see `timed_cooccurrence`): the variant's name, the
seconds its computation took (numba's compilation, or loading it from numba's cache, is timed
apart as ``warmup_seconds``) and the counts. `check_agreement` is the join of the four.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from argosy import Resources, step
from argosy.errors import PipelineError
from components.cooccurrence import VARIANTS, same_counts
from components.data import split_table

_WARMUP = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=np.int64))


def timed_cooccurrence(variant: str, counts: sp.spmatrix) -> dict[str, Any]:
    """Run one co-occurrence variant; its result with the wall time of the computation."""
    try:
        function = VARIANTS[variant]
    except KeyError:
        raise PipelineError(
            f"unknown co-occurrence variant {variant!r}; choose one of {', '.join(VARIANTS)}"
        ) from None
    started = time.perf_counter()
    function(_WARMUP)
    warmed = time.perf_counter()
    result = function(counts)
    finished = time.perf_counter()
    return {
        "variant": variant,
        "seconds": finished - warmed,
        "warmup_seconds": warmed - started,
        "counts": result,
    }


@step(resources=Resources(cpu=1, memory="2Gi"))
def cooc_python(counts: sp.csr_matrix) -> dict:
    """Co-occurrence counts in plain Python."""
    return timed_cooccurrence("python", counts)


@step(resources=Resources(cpu=1, memory="2Gi"))
def cooc_sparse(counts: sp.csr_matrix) -> dict:
    """Co-occurrence counts by scipy's sparse matrix product."""
    return timed_cooccurrence("sparse", counts)


@step(resources=Resources(cpu=1, memory="2Gi"))
def cooc_numba(counts: sp.csr_matrix) -> dict:
    """Co-occurrence counts by the numba kernel on one thread."""
    return timed_cooccurrence("numba", counts)


@step(resources=Resources(cpu=2, memory="2Gi"))
def cooc_numba_parallel(counts: sp.csr_matrix) -> dict:
    """Co-occurrence counts by the numba kernel on every thread."""
    return timed_cooccurrence("numba_parallel", counts)


def agreement(results: list[dict]) -> dict:
    """Raise PipelineError unless every result holds exactly the same counts; report times.

    Returns the variants' seconds, each one's speed-up over the slowest, and the matrix's
    shape and number of stored entries.
    """
    if not results:
        raise PipelineError("an agreement check needs at least one co-occurrence result")
    reference = results[0]
    for other in results[1:]:
        if not same_counts(reference["counts"], other["counts"]):
            raise PipelineError(
                f"co-occurrence variants {reference['variant']!r} and {other['variant']!r} "
                "disagree; one of the implementations is wrong"
            )
    seconds = {result["variant"]: result["seconds"] for result in results}
    slowest = max(seconds.values())
    return {
        "agree": True,
        "seconds": seconds,
        "speedup_over_slowest": {name: slowest / max(s, 1e-9) for name, s in seconds.items()},
        "shape": list(reference["counts"].shape),
        "pairs": int(reference["counts"].nnz),
    }


@step(resources=Resources(cpu=1, memory="2Gi"))
def check_agreement(python: dict, sparse: dict, numba: dict, numba_parallel: dict) -> dict:
    """Join of the four co-occurrence branches: see `agreement`."""
    return agreement([python, sparse, numba, numba_parallel])


def scale_features(table: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The table with each feature column standardized by ``mean`` and ``scale``; target kept."""
    features, target = split_table(table)
    return np.column_stack([(features - mean) / scale, target])


@step(resources=Resources(cpu=1, memory="1Gi"))
def standard_scale(table: np.ndarray) -> np.ndarray:
    """Every feature column to zero mean and unit variance (constant columns left at zero)."""
    features, _ = split_table(table)
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    return scale_features(table, mean, scale)


@step(resources=Resources(cpu=1, memory="1Gi"))
def train_test_split(table: np.ndarray, test_fraction: float = 0.25, seed: int = 0) -> dict:
    """Shuffle the rows with ``seed`` and split them: ``{"train": table, "test": table}``."""
    if not 0 < test_fraction < 1:
        raise PipelineError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    order = np.random.default_rng(seed).permutation(table.shape[0])
    n_test = max(1, round(table.shape[0] * test_fraction))
    if n_test >= table.shape[0]:
        raise PipelineError(f"a table of {table.shape[0]} rows is too small to split")
    return {"train": np.asarray(table[order[n_test:]]), "test": np.asarray(table[order[:n_test]])}


__all__ = [
    "agreement",
    "check_agreement",
    "cooc_numba",
    "cooc_numba_parallel",
    "cooc_python",
    "cooc_sparse",
    "scale_features",
    "standard_scale",
    "timed_cooccurrence",
    "train_test_split",
]
