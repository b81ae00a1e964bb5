"""Two classifiers trained in parallel on the wine data; the better one on held-out data wins.

The wine recognition data ships with scikit-learn (178 wines, 13 chemical measurements, three
cultivars), so nothing is downloaded. One step splits it into a training and a held-out set
(stratified); two branches that do not depend on each other, and so run in parallel, each tune
a model by cross-validation on the training set: k-nearest-neighbours and a support vector
machine, both behind a standard scaler. The join scores both on the held-out set, records the
accuracies as metrics, and names the winner. The fitted models reach the join pickled, so the
pipeline allows its steps to unpickle their inputs (``allow_pickle=True``); reading a model
afterwards asks for it again: ``run.output("train_knn").load(allow_pickle=True)``.

    argosy run pipelines/classifier.py
    argosy run pipelines/classifier.py --param test_size=0.25 --param seed=7
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from argosy import Resources, log_metric, pipeline, step

CV_FOLDS = 5


@step
def split(test_size: float, seed: int) -> dict:
    """The wine data, split into training and held-out sets that keep the class proportions.

    Plain lists, so the split is stored as JSON that any tool can read.
    """
    features, labels = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_size, random_state=seed, stratify=labels
    )
    print(f"{len(y_train)} wines to train on, {len(y_test)} held out")
    return {
        "X_train": X_train.tolist(),
        "y_train": y_train.tolist(),
        "X_test": X_test.tolist(),
        "y_test": y_test.tolist(),
    }


def _tune(model: object, grid: dict[str, list], data: dict) -> Pipeline:
    """``model`` behind a standard scaler, its grid searched by cross-validation, refitted."""
    pipe = make_pipeline(StandardScaler(), model)
    grid = {f"{pipe.steps[-1][0]}__{name}": values for name, values in grid.items()}
    search = GridSearchCV(pipe, grid, cv=CV_FOLDS).fit(
        np.asarray(data["X_train"]), np.asarray(data["y_train"])
    )
    print(f"best {search.best_params_}: cross-validated accuracy {search.best_score_:.3f}")
    log_metric("cv_accuracy", float(search.best_score_))
    return search.best_estimator_


@step(resources=Resources(cpu=1, memory="512Mi"))
def train_knn(data: dict) -> Pipeline:
    """k-nearest-neighbours, with k and the weighting tuned."""
    grid = {"n_neighbors": [1, 3, 5, 7, 9, 15], "weights": ["uniform", "distance"]}
    return _tune(KNeighborsClassifier(), grid, data)


@step(resources=Resources(cpu=1, memory="512Mi"))
def train_svc(data: dict) -> Pipeline:
    """A support vector machine with an RBF kernel, C and gamma tuned."""
    grid = {"C": [0.1, 1.0, 10.0, 100.0], "gamma": ["scale", 0.01, 0.1]}
    return _tune(SVC(), grid, data)


@step
def pick_best(data: dict, knn: Pipeline, svc: Pipeline) -> dict:
    """Held-out accuracy of both models; the winner is the step whose output to deploy."""
    X_test, y_test = np.asarray(data["X_test"]), np.asarray(data["y_test"])
    accuracy = {"train_knn": knn.score(X_test, y_test), "train_svc": svc.score(X_test, y_test)}
    for name, value in accuracy.items():
        log_metric(f"{name}_accuracy", float(value))
        print(f"{name}: held-out accuracy {value:.3f}")
    winner = max(accuracy, key=accuracy.__getitem__)  # a tie goes to the simpler model, knn
    print(f"winner: {winner}")
    return {"winner": winner, "accuracy": {name: float(value) for name, value in accuracy.items()}}


@pipeline(allow_pickle=True)
def classifier(test_size: float = 0.3, seed: int = 0):
    data = split(test_size, seed)
    knn = train_knn(data)
    svc = train_svc(data)
    return pick_best(data, knn, svc)
