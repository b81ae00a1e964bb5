"""The metadata contract (sink and reader), run against every implementation: the repository on
SQLite and Postgres, the HTTP client in-process and against a real server (see conftest)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from argosy.errors import Conflict, MetadataError, NotFound
from argosy.metadata.client import MetadataClient
from argosy.metadata.reader import MetadataReader
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunStatus, RunUpdate, TaskStatus
from argosy.metadata.sink import MetadataSink
from tests.metadata.factories import artifact, record_two_pipelines, run, task

Metadata = Repository | MetadataClient


def test_implements_both_protocols(metadata: Metadata) -> None:
    assert isinstance(metadata, MetadataSink)
    assert isinstance(metadata, MetadataReader)
    metadata.check()


def test_create_run_is_idempotent_and_conflicts_are_refused(metadata: Metadata) -> None:
    started = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    metadata.create_run(
        run("r1", parameters={"k": [2, 4]}, started_at=started, pipeline_ref="p.py")
    )
    metadata.create_run(run("r1", parameters={"k": [2, 4]}))
    got = metadata.get_run("r1")
    assert (got.pipeline, got.parameters, got.status) == ("demo", {"k": [2, 4]}, RunStatus.RUNNING)
    assert got.started_at == started and got.pipeline_ref == "p.py"
    with pytest.raises(Conflict, match="parameters"):
        metadata.create_run(run("r1", parameters={"k": [8]}))
    metadata.create_run(run("r2", resumed_from="r1"))
    metadata.create_run(run("r2"))  # a pod of the resumed run, unaware of what it resumes
    assert metadata.get_run("r2").resumed_from == "r1"
    with pytest.raises(Conflict, match="resumed_from"):
        metadata.create_run(run("r2", resumed_from="r0"))
    assert metadata.list_runs().count == 2
    with pytest.raises(NotFound, match="no run nope"):
        metadata.get_run("nope")


def test_update_run_records_the_end_once(metadata: Metadata) -> None:
    metadata.create_run(run("r1"))
    metadata.update_run("r1", RunUpdate(status=RunStatus.FAILED, error="boom"))
    metadata.update_run("r1", RunUpdate(status=RunStatus.FAILED))  # a retried call, less detail
    got = metadata.get_run("r1")
    assert got.status == RunStatus.FAILED and got.error == "boom" and got.finished_at is not None
    with pytest.raises(Conflict, match="already ended as failed"):
        metadata.update_run("r1", RunUpdate(status=RunStatus.SUCCEEDED))
    with pytest.raises(NotFound):
        metadata.update_run("missing", RunUpdate(status=RunStatus.FAILED))


def test_record_tasks_is_idempotent(metadata: Metadata) -> None:
    metadata.create_run(run("r1"))
    records = [
        task("r1", "fit", i, output=artifact(f"o{i}"), metrics={"acc": i / 10}) for i in range(5)
    ]
    metadata.record_tasks(records)
    metadata.record_tasks(records)  # a retried write
    metadata.record_tasks(records[:2])
    tasks = metadata.list_tasks("r1")
    assert [t.id for t in tasks] == [f"r1.fit.{i}" for i in range(5)]
    assert all(t.attempts == 1 and t.status == TaskStatus.SUCCEEDED for t in tasks)
    assert [m.value for m in metadata.metrics("r1")] == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_an_attempt_moves_from_running_to_its_end_and_no_further(metadata: Metadata) -> None:
    metadata.create_run(run("r1"))
    started = datetime(2026, 1, 1, tzinfo=UTC)
    metadata.record_tasks([task("r1", "fit", status=TaskStatus.RUNNING, started_at=started)])
    assert metadata.list_tasks("r1")[0].status == TaskStatus.RUNNING
    done = task("r1", "fit", output=artifact("m"), finished_at=started)
    metadata.record_tasks([done])
    metadata.record_tasks([task("r1", "fit", status=TaskStatus.RUNNING)])  # stale: ignored
    [got] = metadata.list_tasks("r1")
    assert got.status == TaskStatus.SUCCEEDED and got.started_at == started
    assert got.output == artifact("m")
    with pytest.raises(Conflict, match="attempt 0 is already recorded"):
        metadata.record_tasks([task("r1", "fit", output=artifact("other"))])


def test_retries_are_attempts_of_one_task(metadata: Metadata) -> None:
    metadata.create_run(run("r1"))
    metadata.record_tasks(
        [
            task("r1", "fit", attempt=0, status=TaskStatus.FAILED, error="OOM", metrics={"x": 1}),
            task("r1", "fit", attempt=1, output=artifact("m"), metrics={"x": 2}),
        ]
    )
    metadata.record_tasks([task("r1", "fit", attempt=0, status=TaskStatus.FAILED, error="OOM")])
    [got] = metadata.list_tasks("r1")
    assert (got.attempt, got.attempts, got.status, got.error) == (1, 2, TaskStatus.SUCCEEDED, None)
    assert got.metrics == {"x": 2.0}
    attempts = metadata.list_attempts("r1", "fit")
    assert [(a.attempt, a.status, a.error) for a in attempts] == [
        (0, TaskStatus.FAILED, "OOM"),
        (1, TaskStatus.SUCCEEDED, None),
    ]
    with pytest.raises(NotFound):
        metadata.list_attempts("r1", "nope")


def test_tasks_of_an_unknown_run_are_refused(metadata: Metadata) -> None:
    with pytest.raises(NotFound, match="create_run"):
        metadata.record_tasks([task("ghost", "fit")])


def test_find_cached_returns_the_newest_success(metadata: Metadata) -> None:
    metadata.create_run(run("r1"))
    metadata.create_run(run("r2"))
    assert metadata.find_cached("key") is None
    metadata.record_tasks([task("r1", "fit", output=artifact("m1"), cache_key="key")])
    metadata.record_tasks([task("r2", "fit", status=TaskStatus.FAILED, cache_key="key")])
    assert metadata.find_cached("key").output == artifact("m1")
    metadata.record_tasks(
        [
            task(
                "r2",
                "fit",
                attempt=1,
                output=artifact("m1"),
                cache_key="key",
                inputs={"X": artifact("x")},
            )
        ]
    )
    hit = metadata.find_cached("key")
    assert (hit.run_id, hit.attempt, hit.inputs[0].artifact) == ("r2", 1, artifact("x"))


def test_an_outputs_name_and_metadata_round_trip_on_its_edges(metadata: Metadata) -> None:
    metadata.create_run(run("r1", steps=("load", "fit")))
    metadata.create_run(run("r2", steps=("load", "fit")))
    data = artifact("data.csv").model_copy(update={"format": "file", "name": "data.csv"})
    said = {"auc": 0.93, "tags": ["a", "b"], "nested": {"ok": True, "none": None}}
    model = artifact("model").model_copy(update={"metadata": said})
    first = task("r1", "load", output=data)
    fit = task("r1", "fit", output=model, inputs={"data": data}, cache_key="k")
    unnamed = data.model_copy(update={"name": None})  # the same bytes, said nothing of
    metadata.record_tasks([first, fit])
    metadata.record_tasks([task("r2", "load", output=unnamed)])

    load, fitted = metadata.list_tasks("r1")
    assert (load.output, fitted.output, fitted.inputs[0].artifact) == (data, model, data)
    assert metadata.list_tasks("r2")[0].output == unnamed
    assert metadata.list_attempts("r1", "fit") == [fit]
    assert metadata.find_cached("k") == fit
    assert metadata.get_artifact(model.digest).metadata == said
    assert metadata.get_artifact(data.digest).name == "data.csv"  # its first producer's name


def test_list_runs_pages_with_a_cursor_and_filters(metadata: Metadata) -> None:
    for n in range(7):
        metadata.create_run(run(f"r{n}", pipeline="even" if n % 2 == 0 else "odd"))
    metadata.update_run("r3", RunUpdate(status=RunStatus.SUCCEEDED))
    seen, cursor = [], None
    while True:
        page = metadata.list_runs(limit=3, cursor=cursor)
        assert page.count == 7 and len(page.data) <= 3
        seen += [r.id for r in page.data]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"r{n}" for n in reversed(range(7))]
    assert [r.id for r in metadata.list_runs(pipeline="odd").data] == ["r5", "r3", "r1"]
    assert [r.id for r in metadata.list_runs(status=RunStatus.SUCCEEDED).data] == ["r3"]
    assert metadata.list_runs(pipeline="none").data == []
    with pytest.raises(MetadataError, match="cursor parameter") as refused:
        metadata.list_runs(cursor="not-a-cursor")
    assert type(refused.value) is MetadataError  # 400, not 404: the cursor is wrong, not missing


def test_list_tasks_follows_pipeline_order_with_inputs(metadata: Metadata) -> None:
    metadata.create_run(run("r1", steps=("load", "fit", "best")))
    x = artifact("X")
    metadata.record_tasks(
        [
            task("r1", "best", inputs={"fits": artifact("f1")}),
            task("r1", "fit", 1, output=artifact("f1"), inputs={"X": x}),
            task("r1", "fit", 0, output=artifact("f0"), inputs={"X": x}),
            task("r1", "load", output=x),
        ]
    )
    tasks = metadata.list_tasks("r1")
    assert [t.id for t in tasks] == ["r1.load.0", "r1.fit.0", "r1.fit.1", "r1.best.0"]
    assert tasks[1].inputs[0].argument == "X" and tasks[1].inputs[0].artifact == x
    with pytest.raises(NotFound):
        metadata.list_tasks("nope")


def test_artifacts_know_their_producers_and_consumers(metadata: Metadata) -> None:
    a = record_two_pipelines(metadata)
    x = metadata.get_artifact(a["X"].digest)
    assert x.produced_by == ["r1.load.0", "r2.prep.0"]
    assert x.consumed_by == ["r1.fit.0", "r2.score.0"]
    assert (x.format, x.size) == ("json", 10)
    metadata.put_artifacts([artifact("lonely"), artifact("lonely")], uri="file:///x")
    lonely = metadata.get_artifact(artifact("lonely").digest)
    assert (lonely.produced_by, lonely.uri) == ([], "file:///x")
    with pytest.raises(NotFound):
        metadata.get_artifact("0" * 64)


def test_lineage_upstream_crosses_pipelines(metadata: Metadata) -> None:
    a = record_two_pipelines(metadata)
    graph = metadata.lineage(a["S"].digest, "upstream")
    ids = {n.id for n in graph.nodes}
    assert ids == {
        a["S"].digest, a["X"].digest, a["model"].digest, a["raw"].digest,
        "r2.score.0", "r1.fit.0", "r1.load.0", "r2.prep.0",
    }  # fmt: skip
    assert ("r1.load.0", a["X"].digest, "output") in {
        (e.source, e.target, e.kind) for e in graph.edges
    }
    depths = {n.id: n.depth for n in graph.nodes}
    assert depths[a["S"].digest] == 0 and depths["r2.score.0"] == 1
    assert depths[a["X"].digest] == 1 and depths["r1.fit.0"] == 2

    shallow = metadata.lineage(a["S"].digest, "upstream", depth=1)
    assert {n.id for n in shallow.nodes} == {
        a["S"].digest,
        "r2.score.0",
        a["X"].digest,
        a["model"].digest,
    }


def test_lineage_downstream_crosses_pipelines(metadata: Metadata) -> None:
    a = record_two_pipelines(metadata)
    graph = metadata.lineage(a["X"].digest, "downstream")
    assert {n.id for n in graph.nodes} == {
        a["X"].digest, "r1.fit.0", a["model"].digest, "r2.score.0", a["S"].digest,
    }  # fmt: skip
    score = next(n for n in graph.nodes if n.id == "r2.score.0")
    assert (score.depth, score.run_id, score.step) == (1, "r2", "score")
    edge = (a["X"].digest, "r1.fit.0", "input", "X")
    assert edge in {(e.source, e.target, e.kind, e.argument) for e in graph.edges}
    assert {n.id for n in metadata.lineage(a["raw"].digest, "downstream", depth=1).nodes} == {
        a["raw"].digest, "r2.prep.0", a["X"].digest,
    }  # fmt: skip
    with pytest.raises(NotFound):
        metadata.lineage("0" * 64)


def test_lineage_of_a_step_that_returns_its_input_terminates(metadata: Metadata) -> None:
    metadata.create_run(run("r1", steps=("same",)))
    x = artifact("X")
    metadata.record_tasks([task("r1", "same", output=x, inputs={"x": x})])
    assert {n.id for n in metadata.lineage(x.digest).nodes} == {x.digest, "r1.same.0"}


def test_lineage_of_a_long_chain_is_bounded_by_depth(metadata: Metadata) -> None:
    metadata.create_run(run("r1", steps=("step",)))
    chain = [artifact(f"c{n}") for n in range(30)]
    metadata.record_tasks(
        [task("r1", "step", n, output=chain[n], inputs={"x": chain[n - 1]}) for n in range(1, 30)]
    )
    assert len(metadata.lineage(chain[-1].digest).nodes) == 30 + 29
    ten = metadata.lineage(chain[-1].digest, depth=10)
    assert max(n.depth for n in ten.nodes) == 10 and len(ten.nodes) == 11 + 10


def test_run_graph_metrics_and_diff(metadata: Metadata) -> None:
    a = record_two_pipelines(metadata)
    graph = metadata.run_graph("r2")
    assert {n.id for n in graph.nodes if n.kind == "task"} == {"r2.prep.0", "r2.score.0"}
    assert len(graph.edges) == 5
    with pytest.raises(NotFound):
        metadata.run_graph("nope")

    metadata.create_run(run("r3", "train", ("load", "fit"), parameters={"k": 3}))
    metadata.record_tasks(
        [
            task("r3", "load", output=a["X"]),
            task(
                "r3", "fit", output=artifact("model2"), inputs={"X": a["X"]}, metrics={"acc": 0.9}
            ),
        ]
    )
    diff = metadata.diff_runs("r1", "r3")
    assert diff.same_version
    assert [(c.key, c.a, c.b) for c in diff.parameters] == [("k", None, 3)]
    assert [(c.key, c.a, c.b) for c in diff.outputs] == [
        ("fit[0]", a["model"].digest, artifact("model2").digest)
    ]
    assert [(c.key, c.b) for c in diff.metrics] == [("fit[0].acc", 0.9)]
    assert metadata.metrics("r3")[0].task_id == "r3.fit.0"


def test_pipelines_and_versions(metadata: Metadata) -> None:
    metadata.create_run(run("r1", "train", ("load",)))
    metadata.create_run(run("r2", "train", ("load", "fit")))
    [train] = metadata.list_pipelines()
    assert (train.name, train.versions) == ("train", 2)
    versions = metadata.list_pipeline_versions("train")
    assert train.latest_version == versions[-1].digest
    assert metadata.get_pipeline_version(versions[-1].digest)["steps"][1] == {"name": "fit"}
    with pytest.raises(NotFound):
        metadata.list_pipeline_versions("nope")
    with pytest.raises(NotFound):
        metadata.get_pipeline_version("nope")
