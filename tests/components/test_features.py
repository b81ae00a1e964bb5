"""components.features: timed co-occurrence steps and their join, scaling, splitting."""

from __future__ import annotations

import numpy as np
import pytest

from argosy.errors import PipelineError
from components.data import bag_of_words, regression_table, split_table
from components.features import (
    agreement,
    check_agreement,
    cooc_numba,
    cooc_numba_parallel,
    cooc_python,
    cooc_sparse,
    standard_scale,
    timed_cooccurrence,
    train_test_split,
)


@pytest.fixture(scope="module")
def counts():
    return bag_of_words(n_docs=300, vocab_size=200, mean_length=20, seed=3)


def test_the_join_reports_every_branch_and_its_time(counts):
    branches = [
        step(counts) for step in (cooc_python, cooc_sparse, cooc_numba, cooc_numba_parallel)
    ]
    report = check_agreement(*branches)
    assert report["agree"] is True
    assert set(report["seconds"]) == {"python", "sparse", "numba", "numba_parallel"}
    assert all(seconds > 0 for seconds in report["seconds"].values())
    assert report["shape"] == [200, 200] and report["pairs"] == branches[0]["counts"].nnz
    assert max(report["speedup_over_slowest"].values()) >= 1.0


def test_the_join_fails_when_two_variants_disagree(counts):
    good = timed_cooccurrence("sparse", counts)
    bad_counts = good["counts"].copy()
    bad_counts.data[-1] += 1
    with pytest.raises(PipelineError, match="disagree"):
        agreement([good, {**good, "variant": "broken", "counts": bad_counts}])


def test_unknown_variant_names_the_choices(counts):
    with pytest.raises(PipelineError, match="numba_parallel"):
        timed_cooccurrence("fortran", counts)


def test_standard_scale_scales_features_and_keeps_the_target():
    table = regression_table(n_samples=500, n_features=3)
    table[:, 1] = 7.0  # a constant column stays finite
    scaled = standard_scale(table)
    features, target = split_table(scaled)
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(features.std(axis=0), [1.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_array_equal(target, table[:, -1])


def test_train_test_split_partitions_the_rows_reproducibly():
    table = np.c_[np.arange(100.0), np.arange(100.0) % 2]
    split = train_test_split(table, test_fraction=0.2, seed=4)
    assert split["train"].shape == (80, 2) and split["test"].shape == (20, 2)
    rows = np.sort(np.r_[split["train"][:, 0], split["test"][:, 0]])
    np.testing.assert_array_equal(rows, np.arange(100.0))
    np.testing.assert_array_equal(train_test_split(table, 0.2, seed=4)["test"], split["test"])
    with pytest.raises(PipelineError, match="between 0 and 1"):
        train_test_split(table, test_fraction=1.0)
