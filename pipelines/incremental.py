"""Out-of-core regression: ``partial_fit`` over chunks that are each their own artifact.

One task per chunk writes it to the store as an ``.npy`` array; the learner receives them all
memory-mapped and reads one at a time, so no task ever holds the whole data set. A held-out
table from the same distribution scores the model, which reaches it pickled: the pipeline
allows its steps to unpickle their inputs (``allow_pickle=True``).

    argosy run pipelines/incremental.py
    argosy run pipelines/incremental.py --param n_chunks=20 --param chunk_size=50000
"""

from __future__ import annotations

from argosy import pipeline, step
from components.data import regression_chunk, regression_table
from components.evaluation import regression_metrics
from components.training import incremental_fit


@step
def chunk_indices(n_chunks: int) -> list[int]:
    """The chunks to make, ``0 .. n_chunks - 1``: the fan-out's width is known at run time."""
    return list(range(n_chunks))


@pipeline(allow_pickle=True)
def incremental(
    n_chunks: int = 8,
    chunk_size: int = 5_000,
    n_features: int = 8,
    epochs: int = 5,
    seed: int = 0,
):
    indices = chunk_indices(n_chunks)
    chunks = regression_chunk.map(
        index=indices, chunk_size=chunk_size, n_features=n_features, seed=seed
    )
    model = incremental_fit(chunks, epochs=epochs, seed=seed)
    held_out = regression_table(n_samples=chunk_size, n_features=n_features, seed=seed)
    return regression_metrics(model, held_out)
