"""Evaluation components: metrics, model comparison and a drift check between two data sets.

Every result is plain JSON data (floats, strings, lists), so it is stored as JSON and readable
from the metadata service without unpickling anything.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn import metrics
from sklearn.base import BaseEstimator

from argosy import Resources, step
from argosy.errors import PipelineError
from components.data import split_table
from components.training import classifier


def classification_metrics(estimator: BaseEstimator, table: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-averaged F1 of a fitted classifier on a table."""
    features, target = split_table(table)
    predicted = estimator.predict(features)
    return {
        "accuracy": float(metrics.accuracy_score(target, predicted)),
        "f1_macro": float(metrics.f1_score(target, predicted, average="macro")),
    }


@step(resources=Resources(cpu=1, memory="1Gi"))
def regression_metrics(estimator: BaseEstimator, table: np.ndarray) -> dict:
    """R², RMSE and MAE of a fitted regressor on a table."""
    features, target = split_table(np.asarray(table))
    predicted = estimator.predict(features)
    return {
        "r2": float(metrics.r2_score(target, predicted)),
        "rmse": float(np.sqrt(metrics.mean_squared_error(target, predicted))),
        "mae": float(metrics.mean_absolute_error(target, predicted)),
    }


@step(resources=Resources(cpu=1, memory="1Gi"))
def score_classifier(split: dict, model: str = "logistic", seed: int = 0) -> dict:
    """Fit a classifier on ``split["train"]`` and score it on ``split["test"]``.

    One task of a model sweep: ``score_classifier.map(model=[...], split=split)``.
    """
    features, target = split_table(split["train"])
    estimator = classifier(model, seed).fit(features, target)
    return {"model": model, **classification_metrics(estimator, split["test"])}


@step(resources=Resources(cpu=1, memory="512Mi"))
def compare_models(scores: list[dict], metric: str = "accuracy") -> dict:
    """Rank scored models by ``metric`` (higher is better) and name the best one."""
    if not scores:
        raise PipelineError("compare_models needs at least one score", argument="scores")
    missing = [score.get("model", "?") for score in scores if metric not in score]
    if missing:
        raise PipelineError(
            f"metric {metric!r} is missing from the scores of {', '.join(map(str, missing))}; "
            "pass a metric every score has",
            argument="metric",
        )
    ranking = sorted(scores, key=lambda score: score[metric], reverse=True)
    return {"metric": metric, "best": ranking[0], "ranking": ranking}


@step(resources=Resources(cpu=1, memory="1Gi"))
def drift_check(reference: np.ndarray, current: np.ndarray, alpha: float = 0.01) -> dict:
    """Two-sample Kolmogorov-Smirnov test per feature column between two tables.

    A feature has drifted when its p-value is below ``alpha`` divided by the number of
    features (Bonferroni), so a clean data set rarely raises a false alarm.
    """
    reference_features, _ = split_table(np.asarray(reference))
    current_features, _ = split_table(np.asarray(current))
    if reference_features.shape[1] != current_features.shape[1]:
        raise PipelineError(
            f"the tables have {reference_features.shape[1]} and {current_features.shape[1]} "
            "features; compare data sets with the same columns"
        )
    n_features = reference_features.shape[1]
    threshold = alpha / n_features
    per_feature = []
    for column in range(n_features):
        result = stats.ks_2samp(reference_features[:, column], current_features[:, column])
        per_feature.append(
            {
                "feature": column,
                "statistic": float(result.statistic),
                "p_value": float(result.pvalue),
                "drifted": bool(result.pvalue < threshold),
            }
        )
    drifted = [entry["feature"] for entry in per_feature if entry["drifted"]]
    return {"alpha": alpha, "drifted": drifted, "features": per_feature}


__all__ = [
    "classification_metrics",
    "compare_models",
    "drift_check",
    "regression_metrics",
    "score_classifier",
]
