"""pipelines/classifier.py: its steps as plain functions (metrics collected as a task would)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from argosy.runtime.context import collecting_metrics


@pytest.fixture(scope="module")
def classifier(example):
    return example("classifier")


@pytest.fixture(scope="module")
def data(classifier) -> dict:
    return classifier.function("split")(0.3, 0)


def test_split_is_stratified_plain_data(classifier, data):
    assert json.loads(json.dumps(data)) == data
    assert len(data["y_train"]) + len(data["y_test"]) == 178
    assert len(data["y_test"]) == 54
    train, test = np.bincount(data["y_train"]), np.bincount(data["y_test"])
    np.testing.assert_allclose(train / train.sum(), test / test.sum(), atol=0.02)
    assert classifier.function("split")(0.3, 1) != data


@pytest.mark.parametrize("step", ["train_knn", "train_svc"])
def test_training_tunes_a_scaled_model_and_logs_its_cv_accuracy(classifier, data, step):
    with collecting_metrics() as metrics:
        model = classifier.function(step)(data)
    assert isinstance(model.steps[0][1], StandardScaler)
    assert 0.9 < metrics["cv_accuracy"] <= 1.0
    assert model.score(np.asarray(data["X_test"]), np.asarray(data["y_test"])) > 0.85


def test_pick_best_names_the_model_that_wins_on_held_out_data(classifier, data):
    good = classifier.function("train_svc")
    with collecting_metrics():
        svc = good(data)
        shuffled = dict(data, y_train=list(np.random.default_rng(0).permutation(data["y_train"])))
        poor_knn = classifier.function("train_knn")(shuffled)
    with collecting_metrics() as metrics:
        result = classifier.function("pick_best")(data, poor_knn, svc)
    assert result["winner"] == "train_svc"
    assert result["accuracy"]["train_svc"] > result["accuracy"]["train_knn"]
    assert metrics == {f"{name}_accuracy": value for name, value in result["accuracy"].items()}


def test_the_two_branches_are_independent(classifier):
    steps = {step.name: step for step in classifier.ir.steps}
    assert steps["train_knn"].upstream == ["split"] == steps["train_svc"].upstream
    assert steps["pick_best"].upstream == ["split", "train_knn", "train_svc"]
