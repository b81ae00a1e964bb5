"""Churn model selection: a customer table imported into the run, a grid of models fitted in
parallel, the best one reported.

What pipelines ported from Metaflow, KFP and Hera need, in one place: the customer table is
outside data, captured by content digest when the run starts (`importer`), so the run is
reproducible and a cached step reruns when the table changed; ``load_table`` returns a
NamedTuple whose fields are artifacts of their own (``data.features``, ``data.labels``); the grid
is a list of configurations whose fields each task takes (`each`); ``fit`` returns named outputs
too, and ``choose`` reads only the accuracies of all fits; ``report`` writes a Markdown file in
its task's own directory (``current.tempdir``) and returns it with the model's figures as
metadata. Runs belong to the project ``churn``.

    argosy run pipelines/churn.py                     # from the repository's root
    argosy run pipelines/churn.py --param table=my_customers.csv --tag trial
    argosy submit pipelines/churn.py --watch          # on Argo: the table is captured here
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from argosy import Artifact, current, each, importer, pipeline, step

GRID = [
    {"c": 0.01, "max_iter": 200},
    {"c": 0.1, "max_iter": 200},
    {"c": 1.0, "max_iter": 200},
    {"c": 10.0, "max_iter": 400},
]
"""Inverse regularization strengths to try (scikit-learn's ``C``), with their iteration caps."""
LABEL = "churned"
"""The column that says whether the customer left."""


class Dataset(NamedTuple):
    """The customer table as model inputs."""

    features: np.ndarray
    labels: np.ndarray
    columns: list[str]


class Fitted(NamedTuple):
    """One fitted model and how well it does on held-out customers."""

    coefficients: np.ndarray
    accuracy: float


@step
def load_table(table: Path) -> Dataset:
    """Read the CSV: every column but the label is a feature, standardized."""
    header = table.read_text().splitlines()[0].split(",")
    rows = np.loadtxt(table, delimiter=",", skiprows=1)
    label = header.index(LABEL)
    features = np.delete(rows, label, axis=1)
    columns = [name for name in header if name != LABEL]
    return Dataset(StandardScaler().fit_transform(features), rows[:, label].astype(int), columns)


@step
def fit(features: np.ndarray, labels: np.ndarray, c: float, max_iter: int) -> Fitted:
    """Fit a logistic regression on 75% of the customers; score it on the rest."""
    train_x, test_x, train_y, test_y = train_test_split(
        features, labels, test_size=0.25, random_state=0, stratify=labels
    )
    model = LogisticRegression(C=c, max_iter=max_iter).fit(train_x, train_y)
    return Fitted(model.coef_[0], float(model.score(test_x, test_y)))


@step
def choose(accuracies: list[float], configs: list[dict[str, Any]]) -> dict[str, Any]:
    """The best configuration (the first of equals: the most regularized)."""
    best = int(np.argmax(accuracies))
    return {**configs[best], "accuracy": accuracies[best], "index": best}


@step
def report(best: dict[str, Any], columns: list[str], coefficients: list[np.ndarray]) -> Path:
    """What drives churn in the best model, strongest first: a Markdown file, with the model's
    figures as its metadata."""
    weights = coefficients[best["index"]]
    order = np.argsort(-np.abs(weights))
    lines = [f"# Churn drivers ({current.project})", ""]
    lines += [f"Best C={best['c']}, accuracy {best['accuracy']:.3f} on held-out customers.", ""]
    lines += [f"- {columns[i]}: {weights[i]:+.3f}" for i in order]
    path = current.tempdir / "churn_report.md"
    path.write_text("\n".join(lines) + "\n")
    metadata = {"c": best["c"], "accuracy": best["accuracy"], "strongest": columns[order[0]]}
    return Artifact(path, metadata=metadata)  # type: ignore[return-value]


@pipeline(project="churn")
def churn(table: str = "pipelines/data/customers.csv", configs: list[dict[str, Any]] = GRID):
    """Pick the regularization of a churn model over a customer table."""
    data = load_table(importer(table, name="customers"))
    fits = fit.map(
        features=data.features,
        labels=data.labels,
        c=each(configs).c,
        max_iter=each(configs).max_iter,
    )
    best = choose(fits.accuracy, configs)
    return report(best, data.columns, fits.coefficients)
