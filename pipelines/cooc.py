"""Word co-occurrence four ways, as parallel branches, joined by a check that they agree.

A synthetic Zipf corpus feeds four independent steps (plain Python, scipy's sparse product,
numba on one thread, numba on every thread); the join fails the run unless all four counts
are identical, and reports each one's time and its speed-up over the slowest.

    argosy run pipelines/cooc.py
    argosy run pipelines/cooc.py --param n_docs=2000 --param vocab_size=1000
"""

from __future__ import annotations

from argosy import pipeline
from components.data import bag_of_words
from components.features import (
    check_agreement,
    cooc_numba,
    cooc_numba_parallel,
    cooc_python,
    cooc_sparse,
)


@pipeline
def cooc(n_docs: int = 10_000, vocab_size: int = 2_000, mean_length: int = 60, seed: int = 0):
    counts = bag_of_words(n_docs=n_docs, vocab_size=vocab_size, mean_length=mean_length, seed=seed)
    return check_agreement(
        python=cooc_python(counts),
        sparse=cooc_sparse(counts),
        numba=cooc_numba(counts),
        numba_parallel=cooc_numba_parallel(counts),
    )
