"""The repository's contract (sink and reader), run against SQLite and Postgres alike."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from argosy.errors import Conflict, NotFound
from argosy.metadata.reader import MetadataReader
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunStatus, RunUpdate, TaskStatus
from argosy.metadata.sink import MetadataSink
from tests.metadata.factories import artifact, record_two_pipelines, run, task


def test_implements_both_protocols(repo: Repository) -> None:
    assert isinstance(repo, MetadataSink)
    assert isinstance(repo, MetadataReader)
    repo.check()


def test_create_run_is_idempotent_and_conflicts_are_refused(repo: Repository) -> None:
    started = datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    repo.create_run(run("r1", parameters={"k": [2, 4]}, started_at=started, pipeline_ref="p.py"))
    repo.create_run(run("r1", parameters={"k": [2, 4]}))
    got = repo.get_run("r1")
    assert (got.pipeline, got.parameters, got.status) == ("demo", {"k": [2, 4]}, RunStatus.RUNNING)
    assert got.started_at == started and got.pipeline_ref == "p.py"
    assert repo.list_runs().count == 1
    with pytest.raises(Conflict, match="parameters"):
        repo.create_run(run("r1", parameters={"k": [8]}))
    with pytest.raises(NotFound, match="no run nope"):
        repo.get_run("nope")


def test_update_run_records_the_end_once(repo: Repository) -> None:
    repo.create_run(run("r1"))
    repo.update_run("r1", RunUpdate(status=RunStatus.FAILED, error="boom"))
    repo.update_run("r1", RunUpdate(status=RunStatus.FAILED, error="boom"))  # a retried call
    got = repo.get_run("r1")
    assert got.status == RunStatus.FAILED and got.error == "boom" and got.finished_at is not None
    with pytest.raises(Conflict, match="already ended as failed"):
        repo.update_run("r1", RunUpdate(status=RunStatus.SUCCEEDED))
    with pytest.raises(NotFound):
        repo.update_run("missing", RunUpdate(status=RunStatus.FAILED))


def test_record_tasks_is_idempotent(repo: Repository) -> None:
    repo.create_run(run("r1"))
    records = [
        task("r1", "fit", i, output=artifact(f"o{i}"), metrics={"acc": i / 10}) for i in range(5)
    ]
    repo.record_tasks(records)
    repo.record_tasks(records)  # a retried write
    repo.record_tasks(records[:2])
    tasks = repo.list_tasks("r1")
    assert [t.id for t in tasks] == [f"r1.fit.{i}" for i in range(5)]
    assert all(t.attempts == 1 and t.status == TaskStatus.SUCCEEDED for t in tasks)
    assert [m.value for m in repo.metrics("r1")] == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_an_attempt_moves_from_running_to_its_end_and_no_further(repo: Repository) -> None:
    repo.create_run(run("r1"))
    started = datetime(2026, 1, 1, tzinfo=UTC)
    repo.record_tasks([task("r1", "fit", status=TaskStatus.RUNNING, started_at=started)])
    assert repo.list_tasks("r1")[0].status == TaskStatus.RUNNING
    done = task("r1", "fit", output=artifact("m"), finished_at=started)
    repo.record_tasks([done])
    repo.record_tasks([task("r1", "fit", status=TaskStatus.RUNNING)])  # stale: ignored
    [got] = repo.list_tasks("r1")
    assert got.status == TaskStatus.SUCCEEDED and got.started_at == started
    assert got.output == artifact("m")
    with pytest.raises(Conflict, match="attempt 0 is already recorded"):
        repo.record_tasks([task("r1", "fit", output=artifact("other"))])


def test_retries_are_attempts_of_one_task(repo: Repository) -> None:
    repo.create_run(run("r1"))
    repo.record_tasks(
        [
            task("r1", "fit", attempt=0, status=TaskStatus.FAILED, error="OOM", metrics={"x": 1}),
            task("r1", "fit", attempt=1, output=artifact("m"), metrics={"x": 2}),
        ]
    )
    repo.record_tasks([task("r1", "fit", attempt=0, status=TaskStatus.FAILED, error="OOM")])
    [got] = repo.list_tasks("r1")
    assert (got.attempt, got.attempts, got.status, got.error) == (1, 2, TaskStatus.SUCCEEDED, None)
    assert got.metrics == {"x": 2.0}
    attempts = repo.list_attempts("r1", "fit")
    assert [(a.attempt, a.status, a.error) for a in attempts] == [
        (0, TaskStatus.FAILED, "OOM"),
        (1, TaskStatus.SUCCEEDED, None),
    ]
    with pytest.raises(NotFound):
        repo.list_attempts("r1", "nope")


def test_tasks_of_an_unknown_run_are_refused(repo: Repository) -> None:
    with pytest.raises(NotFound, match="create_run"):
        repo.record_tasks([task("ghost", "fit")])


def test_find_cached_returns_the_newest_success(repo: Repository) -> None:
    repo.create_run(run("r1"))
    repo.create_run(run("r2"))
    assert repo.find_cached("key") is None
    repo.record_tasks([task("r1", "fit", output=artifact("m1"), cache_key="key")])
    repo.record_tasks([task("r2", "fit", status=TaskStatus.FAILED, cache_key="key")])
    assert repo.find_cached("key").output == artifact("m1")
    repo.record_tasks(
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
    hit = repo.find_cached("key")
    assert (hit.run_id, hit.attempt, hit.inputs[0].artifact) == ("r2", 1, artifact("x"))


def test_list_runs_pages_with_a_cursor_and_filters(repo: Repository) -> None:
    for n in range(7):
        repo.create_run(run(f"r{n}", pipeline="even" if n % 2 == 0 else "odd"))
    repo.update_run("r3", RunUpdate(status=RunStatus.SUCCEEDED))
    seen, cursor = [], None
    while True:
        page = repo.list_runs(limit=3, cursor=cursor)
        assert page.count == 7 and len(page.data) <= 3
        seen += [r.id for r in page.data]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"r{n}" for n in reversed(range(7))]
    assert [r.id for r in repo.list_runs(pipeline="odd").data] == ["r5", "r3", "r1"]
    assert [r.id for r in repo.list_runs(status=RunStatus.SUCCEEDED).data] == ["r3"]
    assert repo.list_runs(pipeline="none").data == []
    with pytest.raises(NotFound, match="cursor"):
        repo.list_runs(cursor="not-a-cursor")


def test_list_tasks_follows_pipeline_order_with_inputs(repo: Repository) -> None:
    repo.create_run(run("r1", steps=("load", "fit", "best")))
    x = artifact("X")
    repo.record_tasks(
        [
            task("r1", "best", inputs={"fits": artifact("f1")}),
            task("r1", "fit", 1, output=artifact("f1"), inputs={"X": x}),
            task("r1", "fit", 0, output=artifact("f0"), inputs={"X": x}),
            task("r1", "load", output=x),
        ]
    )
    tasks = repo.list_tasks("r1")
    assert [t.id for t in tasks] == ["r1.load.0", "r1.fit.0", "r1.fit.1", "r1.best.0"]
    assert tasks[1].inputs[0].argument == "X" and tasks[1].inputs[0].artifact == x
    with pytest.raises(NotFound):
        repo.list_tasks("nope")


def test_artifacts_know_their_producers_and_consumers(repo: Repository) -> None:
    a = record_two_pipelines(repo)
    x = repo.get_artifact(a["X"].digest)
    assert x.produced_by == ["r1.load.0", "r2.prep.0"]
    assert x.consumed_by == ["r1.fit.0", "r2.score.0"]
    assert (x.format, x.size) == ("json", 10)
    repo.put_artifacts([artifact("lonely"), artifact("lonely")], uri="file:///x")
    lonely = repo.get_artifact(artifact("lonely").digest)
    assert (lonely.produced_by, lonely.uri) == ([], "file:///x")
    with pytest.raises(NotFound):
        repo.get_artifact("0" * 64)


def test_lineage_upstream_crosses_pipelines(repo: Repository) -> None:
    a = record_two_pipelines(repo)
    graph = repo.lineage(a["S"].digest, "upstream")
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

    shallow = repo.lineage(a["S"].digest, "upstream", depth=1)
    assert {n.id for n in shallow.nodes} == {
        a["S"].digest,
        "r2.score.0",
        a["X"].digest,
        a["model"].digest,
    }


def test_lineage_downstream_crosses_pipelines(repo: Repository) -> None:
    a = record_two_pipelines(repo)
    graph = repo.lineage(a["X"].digest, "downstream")
    assert {n.id for n in graph.nodes} == {
        a["X"].digest, "r1.fit.0", a["model"].digest, "r2.score.0", a["S"].digest,
    }  # fmt: skip
    score = next(n for n in graph.nodes if n.id == "r2.score.0")
    assert (score.depth, score.run_id, score.step) == (1, "r2", "score")
    edge = (a["X"].digest, "r1.fit.0", "input", "X")
    assert edge in {(e.source, e.target, e.kind, e.argument) for e in graph.edges}
    assert {n.id for n in repo.lineage(a["raw"].digest, "downstream", depth=1).nodes} == {
        a["raw"].digest, "r2.prep.0", a["X"].digest,
    }  # fmt: skip
    with pytest.raises(NotFound):
        repo.lineage("0" * 64)


def test_lineage_of_a_step_that_returns_its_input_terminates(repo: Repository) -> None:
    repo.create_run(run("r1", steps=("same",)))
    x = artifact("X")
    repo.record_tasks([task("r1", "same", output=x, inputs={"x": x})])
    assert {n.id for n in repo.lineage(x.digest).nodes} == {x.digest, "r1.same.0"}


def test_lineage_of_a_long_chain_is_bounded_by_depth(repo: Repository) -> None:
    repo.create_run(run("r1", steps=("step",)))
    chain = [artifact(f"c{n}") for n in range(30)]
    repo.record_tasks(
        [task("r1", "step", n, output=chain[n], inputs={"x": chain[n - 1]}) for n in range(1, 30)]
    )
    assert len(repo.lineage(chain[-1].digest).nodes) == 30 + 29
    ten = repo.lineage(chain[-1].digest, depth=10)
    assert max(n.depth for n in ten.nodes) == 10 and len(ten.nodes) == 11 + 10


def test_run_graph_metrics_and_diff(repo: Repository) -> None:
    a = record_two_pipelines(repo)
    graph = repo.run_graph("r2")
    assert {n.id for n in graph.nodes if n.kind == "task"} == {"r2.prep.0", "r2.score.0"}
    assert len(graph.edges) == 5
    with pytest.raises(NotFound):
        repo.run_graph("nope")

    repo.create_run(run("r3", "train", ("load", "fit"), parameters={"k": 3}))
    repo.record_tasks(
        [
            task("r3", "load", output=a["X"]),
            task(
                "r3", "fit", output=artifact("model2"), inputs={"X": a["X"]}, metrics={"acc": 0.9}
            ),
        ]
    )
    diff = repo.diff_runs("r1", "r3")
    assert diff.same_version
    assert [(c.key, c.a, c.b) for c in diff.parameters] == [("k", None, 3)]
    assert [(c.key, c.a, c.b) for c in diff.outputs] == [
        ("fit[0]", a["model"].digest, artifact("model2").digest)
    ]
    assert [(c.key, c.b) for c in diff.metrics] == [("fit[0].acc", 0.9)]
    assert repo.metrics("r3")[0].task_id == "r3.fit.0"


def test_pipelines_and_versions(repo: Repository) -> None:
    repo.create_run(run("r1", "train", ("load",)))
    repo.create_run(run("r2", "train", ("load", "fit")))
    [train] = repo.list_pipelines()
    assert (train.name, train.versions) == ("train", 2)
    versions = repo.list_pipeline_versions("train")
    assert train.latest_version == versions[-1].digest
    assert repo.get_pipeline_version(versions[-1].digest)["steps"][1] == {"name": "fit"}
    with pytest.raises(NotFound):
        repo.list_pipeline_versions("nope")
    with pytest.raises(NotFound):
        repo.get_pipeline_version("nope")


def test_tokens_are_kept_hashed(repo: Repository) -> None:
    repo.add_token("secret-token", "read", "ci")
    repo.add_token("secret-token", "read", "ci")
    assert repo.token_scope("secret-token") == "read"
    assert repo.token_scope("other") is None
    with repo.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT token_hash FROM api_tokens").scalars().all()
    assert stored and "secret-token" not in stored[0]


def test_a_thousand_tasks_are_recorded_fast(repo: Repository) -> None:
    """The local runner's budget is 2 ms per task, all of it; metadata must take far less."""
    repo.create_run(run("r1", steps=("work",)))
    shared = artifact("shared")
    records = [
        task("r1", "work", i, output=artifact(f"out{i}"), inputs={"x": shared}, metrics={"t": 1.0})
        for i in range(1000)
    ]
    began = time.perf_counter()
    for start in range(0, 1000, 100):
        repo.record_tasks(records[start : start + 100])
    elapsed = time.perf_counter() - began
    assert len(repo.list_tasks("r1")) == 1000
    assert elapsed / 1000 < 0.002, f"{elapsed / 1000 * 1e3:.2f} ms per task"
