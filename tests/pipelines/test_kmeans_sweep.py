"""pipelines/kmeans_sweep.py: its steps as plain functions, and the sweep finding the topics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse


@pytest.fixture(scope="module")
def kmeans(example):
    return example("kmeans_sweep")


@pytest.fixture(scope="module")
def counts(kmeans) -> sparse.csr_matrix:
    return kmeans.function("make_corpus")(1500, 3)


def test_corpus_is_a_seeded_sparse_bag_of_words(kmeans, counts):
    make_corpus = kmeans.function("make_corpus")
    assert sparse.isspmatrix_csr(counts)
    assert counts.shape == (1500, 2000)
    assert counts.min() >= 0 and counts.data.min() >= 1
    words_per_doc = np.asarray(counts.sum(axis=1)).ravel()
    assert 55 < words_per_doc.mean() < 67 and words_per_doc.min() >= 1
    assert (make_corpus(1500, 3) != counts).nnz == 0
    assert (make_corpus(1500, 4) != counts).nnz > 0


def test_word_frequencies_follow_a_zipf_law(counts):
    frequencies = np.sort(np.asarray(counts.sum(axis=0)).ravel())[::-1]
    ranks = np.arange(1, 301)
    slope = np.polyfit(np.log(ranks), np.log(frequencies[:300]), 1)[0]
    assert -1.3 < slope < -0.6
    assert frequencies[0] > 50 * np.median(frequencies)


def test_tfidf_rows_have_unit_length(kmeans, counts):
    X = kmeans.function("tfidf")(counts)
    assert sparse.isspmatrix_csr(X) and X.shape == counts.shape
    np.testing.assert_allclose(sparse.linalg.norm(X, axis=1), 1.0, rtol=1e-5)


def test_fit_reports_a_json_ready_score(kmeans, counts):
    X = kmeans.function("tfidf")(counts)
    result = kmeans.function("fit")(X, 3, 0)
    assert result["k"] == 3
    assert -1.0 <= result["silhouette"] <= 1.0
    assert sum(result["cluster_sizes"]) == 1500 and len(result["cluster_sizes"]) == 3
    assert all(type(value) in (int, float, list) for value in result.values())


def test_pick_best_takes_the_highest_silhouette_and_the_smaller_k_on_a_tie(kmeans):
    pick_best = kmeans.function("pick_best")
    fits = [{"k": k, "silhouette": s} for k, s in ((2, 0.1), (4, 0.3), (8, 0.3), (16, 0.2))]
    assert pick_best(fits) == {
        "best_k": 4,
        "silhouette": 0.3,
        "scores": {"2": 0.1, "4": 0.3, "8": 0.3, "16": 0.2},
    }


def test_the_sweep_rediscovers_the_hidden_topics(kmeans, counts):
    X = kmeans.function("tfidf")(counts)
    fits = [kmeans.function("fit")(X, k, 0) for k in (2, 4, 8, 16)]
    assert kmeans.function("pick_best")(fits)["best_k"] == 8


def test_pipeline_shape(kmeans):
    steps = {step.name: step for step in kmeans.ir.steps}
    assert list(steps) == ["make_corpus", "tfidf", "fit", "pick_best"]
    assert steps["fit"].mapped == "k"
    assert steps["pick_best"].inputs["fits"].kind == "fan_in"
    assert kmeans.resolve_parameters({}) == {"n_docs": 2000, "ks": [2, 4, 8, 16], "seed": 0}
