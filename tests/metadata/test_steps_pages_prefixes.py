"""What keeps a 100,000-task run readable, run against every implementation of the reader (the
repository on SQLite and Postgres, the HTTP client in-process and against a real server): the
summary of each step, tasks a page at a time, runs and artifacts found by id prefix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from argosy.errors import MetadataError, NotFound
from argosy.metadata.client import MetadataClient
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import TaskStatus
from argosy.store.base import ArtifactInfo
from tests.metadata.factories import artifact, run, task

Metadata = Repository | MetadataClient
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FAILED, RUNNING, SUCCEEDED = TaskStatus.FAILED, TaskStatus.RUNNING, TaskStatus.SUCCEEDED


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_run_steps_add_up_each_steps_tasks_in_pipeline_order(metadata: Metadata) -> None:
    metadata.create_run(run("r1", steps=("load", "fit", "best", "report"), mapped=("fit",)))
    data = artifact("data").model_copy(update={"name": "data.csv", "metadata": {"rows": 3}})
    metadata.record_tasks(
        [
            task("r1", "best", output=artifact("b"), cloned_from="r0.best.0"),
            task("r1", "fit", 0, output=artifact("f0"), started_at=_at(2), finished_at=_at(2.5)),
            task("r1", "fit", 1, status=FAILED, started_at=_at(2), finished_at=_at(3)),
            task(
                "r1", "fit", 1, attempt=1, output=artifact("f1"), started_at=_at(4),
                finished_at=_at(4.000001),
            ),
            task(
                "r1", "fit", 2, output=artifact("f0"), cache_hit=True, started_at=_at(2.1),
                finished_at=_at(2.2),
            ),
            task("r1", "fit", 3, status=FAILED, started_at=_at(3), finished_at=_at(9)),
            task("r1", "fit", 4, status=RUNNING, started_at=_at(5)),
            task("r1", "load", output=data, started_at=_at(0), finished_at=_at(1.25)),
        ]
    )  # fmt: skip
    load, fit, best, report = metadata.run_steps("r1")
    assert [load.name, fit.name, best.name, report.name] == ["load", "fit", "best", "report"]

    assert (load.mapped, load.tasks, load.statuses, load.outputs) == (False, 1, {SUCCEEDED: 1}, 1)
    assert load.output == data  # with what the task said of it
    assert (load.seconds, load.started_at, load.finished_at) == (1.25, _at(0), _at(1.25))

    assert (fit.mapped, fit.tasks, fit.outputs, fit.output) == (True, 5, 3, None)
    assert list(fit.statuses.items()) == [(RUNNING, 1), (SUCCEEDED, 3), (FAILED, 1)]
    assert (fit.retried, fit.cache_hits, fit.cloned) == (1, 1, 0)
    assert fit.seconds == pytest.approx(0.5 + 0.000001 + 0.1 + 6, abs=1e-9)  # latest attempts
    assert (fit.started_at, fit.finished_at) == (_at(2), _at(9))

    assert (best.cloned, best.seconds, best.started_at) == (1, None, None)
    assert best.output == artifact("b")
    assert (report.tasks, report.statuses, report.outputs, report.output) == (0, {}, 0, None)
    with pytest.raises(NotFound, match="no run nope"):
        metadata.run_steps("nope")


def test_tasks_come_a_page_at_a_time_in_pipeline_order(metadata: Metadata) -> None:
    metadata.create_run(run("r1", steps=("load", "fit", "best"), mapped=("fit",)))
    x = artifact("X")
    records = [
        task("r1", "best", inputs={"fits": artifact("f1")}, metrics={"score": 1.0}),
        task("r1", "load", output=x),
    ]
    records += [
        task(
            "r1", "fit", i, output=None if i % 4 == 3 else artifact(f"f{i}"), inputs={"X": x},
            metrics={"i": float(i)}, status=FAILED if i % 4 == 3 else SUCCEEDED,
        )
        for i in range(12)
    ]  # fmt: skip
    metadata.record_tasks(records)
    every = metadata.list_tasks("r1")
    assert [t.id for t in every] == ["r1.load.0", *[f"r1.fit.{i}" for i in range(12)], "r1.best.0"]
    assert every[2].inputs[0].artifact == x and every[2].metrics == {"i": 1.0}
    for offset, limit in [(0, 5), (5, 5), (10, 5), (12, 10), (13, 1), (14, 3), (3, 0), (1, None)]:
        assert metadata.list_tasks("r1", limit=limit, offset=offset) == every[offset:][:limit]

    fit = metadata.list_tasks("r1", step="fit", limit=4, offset=2)
    assert [t.index for t in fit] == [2, 3, 4, 5]
    failed = metadata.list_tasks("r1", statuses=[FAILED])
    assert [(t.step, t.index) for t in failed] == [("fit", 3), ("fit", 7), ("fit", 11)]
    either = metadata.list_tasks("r1", step="fit", statuses=[FAILED, SUCCEEDED], offset=10)
    assert either == every[11:13]
    assert metadata.list_tasks("r1", step="best", statuses=[RUNNING]) == []
    bare = metadata.list_tasks("r1", step="fit", limit=2, inputs=False)
    assert [t.inputs for t in bare] == [[], []]
    assert bare == [t.model_copy(update={"inputs": []}) for t in every[1:3]]

    with pytest.raises(MetadataError, match="no step 'nope'; its steps are load, fit, best") as bad:
        metadata.list_tasks("r1", step="nope")
    assert type(bad.value) is MetadataError  # a bad filter (400), not a missing run (404)
    with pytest.raises(MetadataError, match="a task status is one of running, succeeded"):
        metadata.list_tasks("r1", statuses=["exploded"])  # type: ignore[list-item]
    with pytest.raises(MetadataError):
        metadata.list_tasks("r1", limit=-1)
    with pytest.raises(NotFound):
        metadata.list_tasks("nope", limit=3)


def test_run_ids_are_found_by_prefix_newest_first(metadata: Metadata) -> None:
    for run_id in ("ab-c", "abc-x", "ab.z", "AB-x", "ab-cd", "ab-c9"):
        metadata.create_run(run(run_id))
    assert [r.id for r in metadata.find_runs("ab-c")] == ["ab-c9", "ab-cd", "ab-c"]
    assert [r.id for r in metadata.find_runs("ab-c", limit=2)] == ["ab-c9", "ab-cd"]
    assert {r.id for r in metadata.find_runs("ab")} == {"ab-c", "abc-x", "ab.z", "ab-cd", "ab-c9"}
    assert [r.id for r in metadata.find_runs("AB")] == ["AB-x"]
    assert [r.id for r in metadata.find_runs("ab-c9")] == ["ab-c9"]
    assert metadata.find_runs("ab/") == [] and metadata.find_runs("zz") == []
    page = metadata.list_runs(id_prefix="ab-c", pipeline="demo", limit=1)
    assert (page.count, [r.id for r in page.data]) == (3, ["ab-c9"])


def test_digests_are_found_by_prefix_in_order(metadata: Metadata) -> None:
    digests = [start + "0" * 60 for start in ("ab09", "ab0a", "ab0f", "ab10", "ffff")]
    metadata.put_artifacts(
        [ArtifactInfo(digest=d, format="json", type="builtins.int", size=1) for d in digests]
    )
    ab09, ab0a, ab0f, ab10, ffff = digests
    assert metadata.find_artifacts("ab0") == [ab09, ab0a, ab0f]
    assert metadata.find_artifacts("ab0", limit=2) == [ab09, ab0a]
    assert metadata.find_artifacts("ab09") == [ab09]  # not ab0a: the successor of 9 is a
    assert metadata.find_artifacts("ab0f") == [ab0f]  # not ab10
    assert metadata.find_artifacts("ab1") == [ab10]
    assert metadata.find_artifacts("ff") == [ffff] and metadata.find_artifacts(ffff) == [ffff]
    assert metadata.find_artifacts("AB0") == [] and metadata.find_artifacts("abz") == []
