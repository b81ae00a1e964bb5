"""A pipeline whose tasks run OpenMP code (scikit-learn's K-means) in the workers."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from argosy import pipeline, step


@step
def inertia(k: int) -> float:
    points = np.random.default_rng(k).random((400, 3))
    return float(KMeans(n_clusters=k, n_init=1, random_state=0).fit(points).inertia_)


@pipeline
def openmp_sweep(ks: list[int] = [2, 3, 4]):
    return inertia.map(k=ks)
