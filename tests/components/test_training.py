"""components.training: classifiers, K-means, and partial_fit over chunks vs a full-batch fit."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from argosy.errors import PipelineError
from components.data import bundled_dataset, regression_chunk, split_table
from components.features import train_test_split
from components.training import best_kmeans, fit_classifier, incremental_fit, kmeans_fit


class _LiveChunks:
    """Chunk files loaded only when iterated, counting how many loaded chunks live at once."""

    def __init__(self, paths):
        self.paths = paths
        self.live = 0
        self.most_live = 0

    def __len__(self):
        return len(self.paths)

    def _released(self):
        self.live -= 1

    def __iter__(self):
        for path in self.paths:
            chunk = np.load(path)
            self.live += 1
            self.most_live = max(self.most_live, self.live)
            weakref.finalize(chunk, self._released)
            yield chunk
            del chunk


def test_live_chunks_sees_a_consumer_that_holds_every_chunk(tmp_path):
    paths = [tmp_path / f"{index}.npy" for index in range(4)]
    for path in paths:
        np.save(path, np.zeros(3))
    chunks = _LiveChunks(paths)
    held = list(chunks)
    assert chunks.most_live == len(held) == 4


def test_incremental_fit_matches_a_full_batch_fit(tmp_path):
    paths = []
    for index in range(6):
        path = tmp_path / f"{index}.npy"
        np.save(path, regression_chunk(index, chunk_size=2_000, n_features=5, noise=0.3))
        paths.append(path)
    chunks = _LiveChunks(paths)
    model = incremental_fit(chunks, epochs=5)
    assert chunks.most_live <= 2  # the chunk in use, and the next one while it loads

    full = np.concatenate([np.load(path) for path in paths])
    features, target = split_table(full)
    batch = LinearRegression().fit(features, target)
    held_out_features, held_out_target = split_table(regression_chunk(99, 2_000, 5, 0.3))
    incremental_prediction = model.predict(held_out_features)
    batch_prediction = batch.predict(held_out_features)
    spread = held_out_target.std()
    assert np.abs(incremental_prediction - batch_prediction).max() < 0.05 * spread
    scaler, regressor = model.named_steps["scaler"], model.named_steps["regressor"]
    np.testing.assert_allclose(scaler.mean_, features.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(regressor.coef_ / scaler.scale_, batch.coef_, rtol=0.02, atol=0.02)


def test_incremental_fit_refuses_no_chunks():
    with pytest.raises(PipelineError, match="at least one chunk"):
        incremental_fit([])


@pytest.fixture(scope="module")
def iris_split():
    return train_test_split(bundled_dataset("iris"), test_fraction=0.3, seed=0)


@pytest.mark.parametrize("model", ["logistic", "random_forest", "knn"])
def test_classifiers_learn_iris(iris_split, model):
    estimator = fit_classifier(iris_split, model=model)
    features, target = split_table(iris_split["test"])
    assert (estimator.predict(features) == target).mean() > 0.85


def test_unknown_classifier_names_the_choices(iris_split):
    with pytest.raises(PipelineError, match="random_forest"):
        fit_classifier(iris_split, model="perceptron")


def test_kmeans_fit_is_json_ready_and_best_picks_the_highest_silhouette():
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(center, 0.2, size=(100, 2)) for center in (0, 5, 10)])
    table = np.c_[blobs, np.zeros(300)]
    fits = [kmeans_fit(table, k) for k in (2, 3, 5)]
    assert [fit["k"] for fit in fits] == [2, 3, 5]
    assert len(fits[1]["centers"]) == 3 and all(isinstance(v, float) for v in fits[1]["centers"][0])
    assert best_kmeans(fits)["k"] == 3
    with pytest.raises(PipelineError, match="k must be"):
        kmeans_fit(table, 1)
