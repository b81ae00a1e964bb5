"""components.data: bundled, synthetic and chunked data sets are tables (or CSR), and seeded."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from argosy.errors import PipelineError
from components.data import (
    bag_of_words,
    bundled_dataset,
    regression_chunk,
    regression_table,
    split_table,
)


def test_bundled_dataset_is_a_table_with_the_target_last():
    table = bundled_dataset("iris")
    features, target = split_table(table)
    assert table.dtype == np.float64 and features.shape == (150, 4)
    assert sorted(set(target.tolist())) == [0.0, 1.0, 2.0]


def test_unknown_bundled_dataset_names_the_choices():
    with pytest.raises(PipelineError, match="digits"):
        bundled_dataset("imagenet")


def test_bag_of_words_is_seeded_csr_with_zipf_frequencies():
    counts = bag_of_words(n_docs=2_000, vocab_size=500, mean_length=40, seed=1)
    assert sp.isspmatrix_csr(counts) and counts.dtype == np.int64 and counts.has_sorted_indices
    assert counts.shape == (2_000, 500)
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    assert lengths.min() >= 1 and 37 < lengths.mean() < 43
    frequencies = np.asarray(counts.sum(axis=0)).ravel()
    slope = np.polyfit(np.log(np.arange(1, 101)), np.log(frequencies[:100]), 1)[0]
    assert -1.3 < slope < -0.9  # the law's exponent is 1.1
    assert (bag_of_words(2_000, 500, 40, seed=1) != counts).nnz == 0
    assert (bag_of_words(2_000, 500, 40, seed=2) != counts).nnz > 0


def test_regression_chunks_share_coefficients_and_differ_in_rows():
    first, second = regression_chunk(0, chunk_size=400, n_features=3), regression_chunk(1, 400, 3)
    assert first.shape == second.shape == (400, 4)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, regression_chunk(0, 400, 3))
    coefficients = [
        np.linalg.lstsq(np.c_[f, np.ones(400)], t)[0] for f, t in map(split_table, (first, second))
    ]
    np.testing.assert_allclose(coefficients[0], coefficients[1], atol=0.15)


def test_regression_table_is_linear_plus_noise():
    features, target = split_table(regression_table(n_samples=3_000, n_features=4, noise=0.5))
    solution, residual, *_ = np.linalg.lstsq(np.c_[features, np.ones(3_000)], target)
    assert solution[-1] == pytest.approx(1.5, abs=0.05)
    assert np.sqrt(residual[0] / 3_000) == pytest.approx(0.5, rel=0.05)


def test_bad_arguments_are_refused():
    with pytest.raises(PipelineError):
        regression_chunk(-1)
    with pytest.raises(PipelineError):
        bag_of_words(n_docs=0)
    with pytest.raises(PipelineError, match="2-D"):
        split_table(np.ones(3))
