"""`argosy.Client` against real runs recorded with ``argosy run`` (tests/pipelines/recorded.py).

Every test runs twice: reading the embedded database, and reading it through the metadata
service (in-process, over HTTP) with the HTTP `MetadataClient`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from argosy import Client
from argosy.config import Settings
from argosy.errors import Ambiguous, MetadataError, NotFound, PickleNotAllowed, PipelineError
from tests.dsl.sample_pipelines import squares
from tests.pipelines.recorded import Recorded, recorded
from tests.store.planted import planted


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return recorded(tmp_path_factory.getbasetemp())


@pytest.fixture(params=["embedded", "http"])
def client(request: pytest.FixtureRequest, runs: Recorded) -> Iterator[Client]:
    """A client reading the embedded database, or the metadata service serving that database."""
    settings = Settings(home=runs.home, anonymous_reads=True)
    if request.param == "embedded":
        yield Client(settings)
        return
    from fastapi.testclient import TestClient

    from argosy.metadata.client import MetadataClient
    from argosy.metadata.service.app import create_app

    with TestClient(create_app(settings)) as http:
        yield Client(settings, reader=MetadataClient(str(http.base_url), http=http))


def test_runs_newest_first_with_filters(client: Client, runs: Recorded) -> None:
    every = [run.id for run in client.runs(limit=None)]
    assert len(every) == 6 and every[0] == runs.sweep and every[-1] == runs.ok
    assert every.index(runs.resumed) < every.index(runs.failed)
    assert [run.id for run in client.runs(limit=2)] == every[:2]
    assert {run.id for run in client.runs(status="failed")} == {runs.failed, runs.resumed}
    assert [run.id for run in client.runs(pipeline="kmeans_sweep")] == [runs.sweep]
    assert client.runs(pipeline="no_such_pipeline") == []


def test_latest_run(client: Client, runs: Recorded) -> None:
    assert client.latest_run("shouting").id == runs.cached
    assert client.latest_run("shouting", status="failed").id == runs.resumed
    with pytest.raises(NotFound, match="no runs of kmeans_sweep in status failed"):
        client.latest_run("kmeans_sweep", status="failed")


def test_run_by_id_or_unique_prefix(client: Client, runs: Recorded) -> None:
    run = client.run(runs.sweep)
    assert run.id == runs.sweep and run.pipeline == "kmeans_sweep"
    assert run.status == "succeeded"
    assert run.parameters == {"n_docs": 300, "ks": [2, 3], "seed": 0}
    assert run.duration is not None and run.duration > 0
    assert client.run("kmeans-sw").id == runs.sweep
    assert client.run("kmeans_sweep").id == runs.sweep  # a pipeline: its newest run
    assert client.run("shouting").id == runs.cached
    with pytest.raises(Ambiguous, match="run prefix 'shouting-' is ambiguous; it matches 5 runs"):
        client.run("shouting-")
    with pytest.raises(NotFound, match="no run 'nope-123'"):
        client.run("nope-123")
    with pytest.raises(NotFound):
        client.run("km")  # shorter than the shortest accepted prefix


def test_outputs_of_unmapped_and_mapped_steps(client: Client, runs: Recorded) -> None:
    run = client.run(runs.ok)
    shouted = run.output("shout")
    assert isinstance(shouted, list)
    assert [artifact.load() for artifact in shouted] == ["HELLO", "BRAVE", "NEW", "WORLD"]
    assert run.output("sentence").load() == "HELLO BRAVE NEW WORLD"
    lengths = run.output("lengths")
    assert (lengths.format, lengths.type, lengths.length) == ("npy", "numpy.ndarray", 4)
    assert lengths.size > 0 and len(lengths.digest) == 64
    np.testing.assert_array_equal(lengths.load(), [5, 5, 3, 5])
    np.testing.assert_array_equal(lengths.load(mmap=False), [5, 5, 3, 5])
    with pytest.raises(PipelineError, match="no such step"):
        run.output("shoot")


def test_the_design_example_works(client: Client, runs: Recorded) -> None:
    fit = client.run(runs.sweep).output("fit")[1].load()
    assert fit["k"] == 3 and len(fit["cluster_sizes"]) == 3
    assert sparse.issparse(client.run(runs.sweep).output("tfidf").load())


def test_tasks_statuses_and_metrics(client: Client, runs: Recorded) -> None:
    run = client.run(runs.ok)
    tasks = run.tasks()
    assert sorted((task.step, task.index) for task in tasks) == [
        ("lengths", 0),
        ("sentence", 0),
        *[("shout", index) for index in range(4)],
        ("words", 0),
    ]
    assert [task.index for task in run.tasks("shout")] == [0, 1, 2, 3]
    assert all(task.status == "succeeded" and task.duration is not None for task in tasks)
    [sentence] = run.tasks("sentence")
    assert sentence.metrics == {"words": 4.0}
    assert sentence.output is not None and sentence.output.load() == "HELLO BRAVE NEW WORLD"
    assert [(m.step, m.name, m.value) for m in run.metrics()] == [("sentence", "words", 4.0)]


def test_steps_and_tasks_by_step_status_and_page(client: Client, runs: Recorded) -> None:
    run = client.run(runs.failed)
    steps = {summary.name: summary for summary in run.steps()}
    assert list(steps) == [step.name for step in run.pipeline_ir.steps]
    shout = steps["shout"]
    assert (shout.mapped, shout.tasks, shout.retried, shout.outputs) == (True, 4, 1, 3)
    assert shout.statuses == {"succeeded": 3, "failed": 1} and shout.output is None
    assert shout.seconds is not None and shout.seconds > 0
    assert steps["sentence"].statuses == {"skipped": 1}
    assert steps["words"].output == run.output("words").info
    [failed] = run.tasks(statuses=["failed"])
    assert (failed.step, failed.index, failed.attempt) == ("shout", 2, 1)
    assert [task.index for task in run.tasks("shout", limit=2, offset=1)] == [1, 2]
    assert [task.id for task in run.tasks(limit=2, offset=4)] == [
        task.id for task in run.tasks()[4:6]
    ]
    with pytest.raises(MetadataError, match="a task status is one of running"):
        run.tasks(statuses=["exploded"])


def test_a_failed_run(client: Client, runs: Recorded) -> None:
    run = client.run(runs.failed)
    assert run.status == "failed"
    failed = run.tasks("shout")[2]
    assert (failed.status, failed.attempt, failed.output) == ("failed", 1, None)
    assert "refusing to shout 'new'" in failed.record.error
    assert {task.status for task in run.tasks("sentence")} == {"skipped"}
    with pytest.raises(NotFound, match="has no output"):
        run.output("shout")
    with pytest.raises(NotFound, match="has no output"):
        run.output("sentence")


def test_logs_of_each_attempt(client: Client, runs: Recorded) -> None:
    ok = client.run(runs.ok)
    assert "shouting brave" in ok.logs("shout", index=1)
    assert "stderr of brave" in ok.logs("shout", index=1)
    failed = client.run(runs.failed)
    for attempt in (None, 0, 1):
        assert "refusing to shout 'new'" in failed.logs("shout", index=2, attempt=attempt)
    with pytest.raises(NotFound, match="attempt 5"):
        failed.logs("shout", index=2, attempt=5)
    with pytest.raises(NotFound, match=r"no task shout\[9\]"):
        failed.logs("shout", index=9)


def test_clones_and_cache_hits(client: Client, runs: Recorded) -> None:
    resumed = client.run(runs.resumed)
    assert resumed.record.resumed_from == runs.failed
    clone = resumed.tasks("shout")[1]
    assert clone.record.cloned_from == f"{runs.failed}.shout.1"
    assert "shouting brave" in clone.logs()  # the log of the task it was cloned from
    assert clone.output == client.run(runs.failed).tasks("shout")[1].output  # by reference
    cached = client.run(runs.cached)
    assert all(task.record.cache_hit for task in cached.tasks())
    assert cached.output("sentence").load() == "CACHED WORDS"


def test_artifacts_by_prefix_with_their_lineage(client: Client, runs: Recorded) -> None:
    best = client.run(runs.sweep).output("pick_best")
    artifact = client.artifact(best.digest[:10])
    assert artifact.digest == best.digest and artifact.load()["best_k"] in (2, 3)
    assert artifact.record.produced_by == [f"{runs.sweep}.pick_best.0"]
    upstream = artifact.lineage()
    assert {n.step for n in upstream.nodes if n.kind == "task"} >= {"fit", "make_corpus"}
    downstream = client.run(runs.sweep).output("tfidf").lineage("downstream", depth=1)
    assert sorted(n.step for n in downstream.nodes if n.kind == "task") == ["fit", "fit"]
    with pytest.raises(NotFound, match="no artifact 'feedface'"):
        client.artifact("feedface")


def test_loading_a_run_output_does_not_run_planted_code(tmp_path: Path) -> None:
    """A reader loads what a writer stored: a pickle it planted runs nothing unless trusted."""
    settings = Settings(home=tmp_path / "home")
    marker = tmp_path / "code-ran"
    planted.run(settings=settings, marker=str(marker))
    artifact = Client(settings).latest_run("planted").output("plant")
    assert not isinstance(artifact, list) and artifact.format == "pickle"
    with pytest.raises(PickleNotAllowed, match=r"\.load\(allow_pickle=True\)"):
        artifact.load()
    assert not marker.exists(), "loading ran the planted code"
    artifact.load(allow_pickle=True)  # the reader trusts the writer: now the code runs
    assert marker.is_dir()


def test_the_output_of_an_empty_map_is_an_empty_list(tmp_path: Path) -> None:
    run = squares.run(settings=Settings(home=tmp_path), n=0)
    assert run.output("square") == []
    assert run.output("total").load() == 0
