"""Training components: K-means fits, classifiers, and incremental learning over chunks.

Fitted estimators are returned as they are: the store pickles them, and records that it did,
so a pipeline that passes one to a later step declares ``@pipeline(allow_pickle=True)``.
Summaries such as a K-means fit are plain JSON data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDRegressor
from sklearn.metrics import silhouette_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from argosy import Resources, step
from argosy.errors import PipelineError
from components.data import split_table

CLASSIFIERS: dict[str, Callable[[int], BaseEstimator]] = {
    "logistic": lambda seed: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=2_000, random_state=seed)
    ),
    "random_forest": lambda seed: RandomForestClassifier(n_estimators=100, random_state=seed),
    "knn": lambda seed: make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5)),
}
"""Classifiers by name; each factory takes the random seed."""


def classifier(model: str, seed: int = 0) -> BaseEstimator:
    """A fresh, unfitted classifier by name."""
    try:
        return CLASSIFIERS[model](seed)
    except KeyError:
        raise PipelineError(
            f"unknown classifier {model!r}; choose one of {', '.join(CLASSIFIERS)}",
            argument="model",
        ) from None


@step(resources=Resources(cpu=1, memory="1Gi"))
def fit_classifier(split: dict, model: str = "logistic", seed: int = 0) -> BaseEstimator:
    """Fit a classifier (by name, see `CLASSIFIERS`) on ``split["train"]``."""
    features, target = split_table(split["train"])
    return classifier(model, seed).fit(features, target)


@step(resources=Resources(cpu=1, memory="1Gi"))
def kmeans_fit(table: np.ndarray, k: int, seed: int = 0) -> dict:
    """K-means with ``k`` clusters on the table's features: inertia, silhouette, centers."""
    features, _ = split_table(table)
    if not 2 <= k < features.shape[0]:
        raise PipelineError(
            f"k must be at least 2 and below the number of rows, got {k}", argument="k"
        )
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(features)
    sample = min(features.shape[0], 2_000)
    return {
        "k": k,
        "inertia": float(model.inertia_),
        "silhouette": float(
            silhouette_score(features, model.labels_, sample_size=sample, random_state=seed)
        ),
        "iterations": int(model.n_iter_),
        "centers": model.cluster_centers_.tolist(),
    }


@step(resources=Resources(cpu=1, memory="1Gi"))
def best_kmeans(fits: list[dict]) -> dict:
    """The K-means fit with the highest silhouette score (the elbow of a sweep)."""
    if not fits:
        raise PipelineError("best_kmeans needs at least one fit")
    return max(fits, key=lambda fit: fit["silhouette"])


def _chunks(chunks: Sequence[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Each chunk's features and target, materializing one chunk (a memory map) at a time."""
    for chunk in chunks:
        yield split_table(np.asarray(chunk))


@step(resources=Resources(cpu=1, memory="1Gi"))
def incremental_fit(
    chunks: list[np.ndarray], epochs: int = 5, alpha: float = 1e-6, seed: int = 0
) -> Pipeline:
    """A linear regressor learned with ``partial_fit``, never holding more than one chunk.

    One pass fits a `StandardScaler` incrementally, then ``epochs`` passes train an
    `SGDRegressor` on the scaled chunks. Chunks stored as ``.npy`` arrive memory-mapped, so the
    full data set is never in memory at once. Returns scaler and regressor as one pipeline.
    """
    if not chunks:
        raise PipelineError("incremental_fit needs at least one chunk", argument="chunks")
    if epochs < 1:
        raise PipelineError(f"epochs must be 1 or more, got {epochs}", argument="epochs")
    scaler = StandardScaler()
    for features, _ in _chunks(chunks):
        scaler.partial_fit(features)
    regressor = SGDRegressor(alpha=alpha, learning_rate="invscaling", eta0=0.01, random_state=seed)
    for _ in range(epochs):
        for features, target in _chunks(chunks):
            regressor.partial_fit(scaler.transform(features), target)
    return Pipeline([("scaler", scaler), ("regressor", regressor)])


__all__ = [
    "CLASSIFIERS",
    "best_kmeans",
    "classifier",
    "fit_classifier",
    "incremental_fit",
    "kmeans_fit",
]
