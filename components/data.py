"""Data components: bundled, synthetic and chunked data sets, deterministic for a given seed.

Conventions every component follows:

* a **table** is a 2-D float64 array whose last column is the target (`split_table` separates
  them), so a data set is one ``.npy`` artifact that the store can memory-map;
* a **bag of words** is a `scipy.sparse.csr_matrix` of int64 counts, documents by words;
* the same arguments always give the same bytes, so artifact digests are reproducible on a
  laptop and inside the component image.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn import datasets

from argosy import Resources, step
from argosy.errors import PipelineError

_BUNDLED = {
    "iris": datasets.load_iris,
    "digits": datasets.load_digits,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "diabetes": datasets.load_diabetes,
}
"""scikit-learn data sets shipped inside the package: nothing is downloaded."""


def split_table(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features and target of a table (views, no copy)."""
    if table.ndim != 2 or table.shape[1] < 2:
        raise PipelineError(
            f"a table is a 2-D array with at least one feature and a target column; "
            f"got shape {table.shape}"
        )
    return table[:, :-1], table[:, -1]


def _as_table(features: np.ndarray, target: np.ndarray) -> np.ndarray:
    return np.column_stack([features, target]).astype(np.float64)


@step(resources=Resources(cpu=1, memory="512Mi"))
def bundled_dataset(name: str = "digits") -> np.ndarray:
    """One of scikit-learn's bundled data sets as a table (features, then the target)."""
    try:
        loader = _BUNDLED[name]
    except KeyError:
        raise PipelineError(
            f"unknown bundled data set {name!r}; choose one of {', '.join(sorted(_BUNDLED))}",
            argument="name",
        ) from None
    features, target = loader(return_X_y=True)
    return _as_table(features, target)


@step(resources=Resources(cpu=1, memory="1Gi"))
def bag_of_words(
    n_docs: int = 10_000,
    vocab_size: int = 2_000,
    mean_length: int = 60,
    zipf_exponent: float = 1.1,
    seed: int = 0,
) -> sp.csr_matrix:
    """Synthetic documents: word ranks drawn from a Zipf law, lengths from a Poisson law.

    Returns a documents-by-words CSR matrix of int64 counts with sorted indices.
    """
    if n_docs < 1 or vocab_size < 2 or mean_length < 1:
        raise PipelineError("bag_of_words needs n_docs >= 1, vocab_size >= 2 and mean_length >= 1")
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocab_size + 1, dtype=np.float64)
    probabilities = ranks**-zipf_exponent
    probabilities /= probabilities.sum()
    lengths = np.maximum(rng.poisson(mean_length, size=n_docs), 1)
    words = rng.choice(vocab_size, size=int(lengths.sum()), p=probabilities)
    docs = np.repeat(np.arange(n_docs), lengths)
    counts = sp.coo_matrix(
        (np.ones(words.size, dtype=np.int64), (docs, words)), shape=(n_docs, vocab_size)
    ).tocsr()
    counts.sum_duplicates()
    counts.sort_indices()
    return counts


def _regression_coefficients(n_features: int, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 0]).normal(0.0, 2.0, size=n_features)


def _regression_rows(
    rows: int, coefficients: np.ndarray, noise: float, rng: np.random.Generator
) -> np.ndarray:
    features = rng.normal(0.0, 1.0, size=(rows, coefficients.size))
    features *= np.linspace(0.5, 3.0, coefficients.size)  # unequal scales: scaling matters
    target = features @ coefficients + 1.5 + rng.normal(0.0, noise, size=rows)
    return _as_table(features, target)


@step(resources=Resources(cpu=1, memory="1Gi"))
def regression_table(
    n_samples: int = 10_000, n_features: int = 8, noise: float = 0.5, seed: int = 0
) -> np.ndarray:
    """Synthetic linear regression data (with an intercept and noise) as one table."""
    coefficients = _regression_coefficients(n_features, seed)
    return _regression_rows(n_samples, coefficients, noise, np.random.default_rng([seed, 1]))


@step(resources=Resources(cpu=1, memory="512Mi"))
def regression_chunk(
    index: int, chunk_size: int = 5_000, n_features: int = 8, noise: float = 0.5, seed: int = 0
) -> np.ndarray:
    """Chunk ``index`` of an unbounded regression data set, for out-of-core work.

    Every chunk shares the same true coefficients (from ``seed``) and has its own rows (from
    ``seed`` and ``index``), so a pipeline maps this step over chunk indices and each chunk is
    a separate artifact that a learner reads one at a time.
    """
    if index < 0 or chunk_size < 1:
        raise PipelineError("regression_chunk needs index >= 0 and chunk_size >= 1")
    coefficients = _regression_coefficients(n_features, seed)
    return _regression_rows(
        chunk_size, coefficients, noise, np.random.default_rng([seed, 2, index])
    )


__all__ = [
    "bag_of_words",
    "bundled_dataset",
    "regression_chunk",
    "regression_table",
    "split_table",
]
