"""Each example pipeline run end to end by ``argosy run`` (small parameters), read by Client."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy import Client
from argosy.config import Settings
from tests.pipelines.recorded import run_json


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return Client(Settings(home=tmp_path))


def test_kmeans_sweep_finds_the_hidden_topics(tmp_path: Path, client: Client) -> None:
    args = ["run", "pipelines/kmeans_sweep.py", "--param", "n_docs=600", "--param", "ks=[2,4,8]"]
    run = client.run(run_json(tmp_path, *args, "--param", "seed=1", status="succeeded"))
    assert run.parameters == {"n_docs": 600, "ks": [2, 4, 8], "seed": 1}
    assert [fit.load()["k"] for fit in run.output("fit")] == [2, 4, 8]
    best = run.output("pick_best").load()
    assert best["best_k"] == 8 and set(best["scores"]) == {"2", "4", "8"}
    assert run.output("tfidf").format == "npz"
    assert "<- best" in run.logs("pick_best")


def test_classifier_picks_the_better_model_on_held_out_data(tmp_path: Path, client: Client) -> None:
    run = client.run(run_json(tmp_path, "run", "pipelines/classifier.py", status="succeeded"))
    result = run.output("pick_best").load()
    accuracy = result["accuracy"]
    assert result["winner"] == max(accuracy, key=accuracy.__getitem__)
    assert min(accuracy.values()) > 0.85
    model = run.output(result["winner"]).load(allow_pickle=True)  # a fitted model, pickled
    data = run.output("split").load()
    assert model.score(data["X_test"], data["y_test"]) == accuracy[result["winner"]]
    metrics = {(m.step, m.name) for m in run.metrics()}
    assert metrics == {
        ("train_knn", "cv_accuracy"),
        ("train_svc", "cv_accuracy"),
        ("pick_best", "train_knn_accuracy"),
        ("pick_best", "train_svc_accuracy"),
    }


def test_wide_foreach_fans_out_to_the_width_it_is_given(tmp_path: Path, client: Client) -> None:
    args = ("run", "pipelines/wide_foreach.py", "--param", "width=250")
    run = client.run(run_json(tmp_path, *args, status="succeeded"))
    assert len(run.tasks("square")) == 250
    assert [square.load() for square in run.output("square")[:4]] == [0, 1, 4, 9]
    assert run.output("total").load() == 249 * 250 * 499 // 6
    assert "250 squares sum to" in run.logs("total")


def test_release_checks_publish_only_after_both_named_checks_pass(
    tmp_path: Path, client: Client
) -> None:
    run = client.run(run_json(tmp_path, "run", "pipelines/release_checks.py", status="succeeded"))
    assert run.output("publish").load()["count"] == 1000
    assert "the summary is published" in run.logs("announce")
    failed = client.run(
        run_json(tmp_path, "run", "pipelines/release_checks.py", "--param", "n=0", status="failed")
    )
    statuses = {task.step: task.status for task in failed.tasks()}
    assert statuses["check_count"] == statuses["check_mean"] == "failed"
    assert statuses["publish"] == statuses["announce"] == "skipped"
