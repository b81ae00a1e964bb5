"""components.evaluation: metrics, model comparison and the KS drift check."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from argosy.errors import PipelineError
from components.data import bundled_dataset, regression_table, split_table
from components.evaluation import compare_models, drift_check, regression_metrics, score_classifier
from components.features import train_test_split


def test_score_and_compare_classifiers_on_wine():
    split = train_test_split(bundled_dataset("wine"), test_fraction=0.3, seed=1)
    scores = [score_classifier(split, model) for model in ("knn", "logistic", "random_forest")]
    comparison = compare_models(scores, metric="accuracy")
    assert json.loads(json.dumps(comparison)) == comparison
    ranked = [score["accuracy"] for score in comparison["ranking"]]
    assert ranked == sorted(ranked, reverse=True)
    assert comparison["best"]["model"] in {"logistic", "random_forest"}  # unscaled knn is worse
    assert comparison["best"]["accuracy"] > 0.9
    with pytest.raises(PipelineError, match="missing"):
        compare_models(scores, metric="auc")


def test_regression_metrics_of_a_good_fit():
    table = regression_table(n_samples=2_000, n_features=3, noise=0.5)
    features, target = split_table(table)
    result = regression_metrics(LinearRegression().fit(features, target), table)
    assert result["r2"] > 0.95
    assert result["rmse"] == pytest.approx(0.5, rel=0.1)
    assert result["mae"] < result["rmse"]


def test_drift_check_flags_only_the_shifted_feature():
    reference = regression_table(n_samples=3_000, n_features=4, seed=0)
    current = regression_table(n_samples=3_000, n_features=4, seed=1)
    assert drift_check(reference, current)["drifted"] == []
    current[:, 2] += 0.3 * current[:, 2].std()
    report = drift_check(reference, current)
    assert report["drifted"] == [2]
    assert len(report["features"]) == 4 and report["features"][2]["p_value"] < 1e-6


def test_drift_check_needs_the_same_columns():
    with pytest.raises(PipelineError, match="same columns"):
        drift_check(np.ones((5, 3)), np.ones((5, 4)))
