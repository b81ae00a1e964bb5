"""Choosing and deleting runs for `argosy gc`, on SQLite and Postgres (`argosy.metadata.pruning`,
`references`, `deletion` through the `Repository`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from argosy.metadata.models import (
    ArtifactRow,
    AttemptRow,
    CacheEntryRow,
    EventRow,
    MetricRow,
    RunRow,
    RunTagRow,
    TaskRow,
    utcnow,
)
from argosy.metadata.pruning import RunSelection
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunStatus, TaskStatus, task_id
from tests.metadata.factories import artifact, run, task

FAILED = frozenset({RunStatus.FAILED})


def _finish(repo: Repository, run_id: str, status: RunStatus) -> None:
    with repo.engine.begin() as connection:
        connection.execute(update(RunRow).where(RunRow.id == run_id).values(status=status.value))


def _rows(repo: Repository, run_id: str) -> dict[str, int]:
    """How many rows of each table belong to run ``run_id``."""
    counts = {}
    with repo.engine.connect() as connection:
        for model in (RunTagRow, TaskRow, AttemptRow, EventRow, MetricRow):
            counts[model.__tablename__] = connection.execute(
                select(func.count()).select_from(model).where(model.run_id == run_id)
            ).scalar_one()
        counts["runs"] = connection.execute(
            select(func.count()).select_from(RunRow).where(RunRow.id == run_id)
        ).scalar_one()
    return counts


def _artifacts(repo: Repository) -> set[str]:
    with repo.engine.connect() as connection:
        return set(connection.execute(select(ArtifactRow.digest)).scalars())


def _cache_entries(repo: Repository) -> set[str]:
    with repo.engine.connect() as connection:
        return set(connection.execute(select(CacheEntryRow.task_id)).scalars())


def test_a_deleted_run_takes_its_rows_and_the_artifacts_only_it_used(repo: Repository) -> None:
    shared, own, other = artifact("shared"), artifact("own"), artifact("other")
    repo.create_run(run("old", tags=["keep-me-not"], owner="user:a"))
    repo.create_run(run("new", owner="user:a"))
    repo.record_tasks(
        [
            task("old", "load", output=shared, cache_key="k-load", metrics={"loss": 1.0}),
            task("old", "fit", output=own, inputs={"x": shared}, cache_key="k-fit"),
            task("old", "fit", 1, output=None, status=TaskStatus.FAILED, attempt=0),
            task("old", "fit", 1, output=own, attempt=1),
            task("new", "load", output=shared, cache_key="k-new"),
            task("new", "fit", output=other, inputs={"x": shared}),
        ]
    )
    for r in ("old", "new"):
        _finish(repo, r, RunStatus.SUCCEEDED)

    choice = repo.choose_runs(RunSelection(run_ids=("old",)))
    assert [r.id for r in choice.doomed] == ["old"] and choice.kept == []
    references = repo.references(choice.doomed_ids)
    assert references.leaving == {own.digest}
    assert references.digests == {shared.digest, other.digest}
    assert repo.references().digests == {shared.digest, own.digest, other.digest}

    deleted = repo.delete_run("old", choice.doomed_ids)
    assert deleted is not None and deleted.tasks == 3
    assert set(_rows(repo, "old").values()) == {0}
    assert _rows(repo, "new")["tasks"] == 2
    assert _cache_entries(repo) == {task_id("new", "load", 0)}
    assert repo.delete_artifacts([own.digest, shared.digest]) == 1  # shared is still used
    assert _artifacts(repo) == {shared.digest, other.digest}
    assert repo.delete_run("old", choice.doomed_ids) is None  # gone already


def test_runs_are_chosen_by_age_status_pipeline_owner_and_keep_last(repo: Repository) -> None:
    for n, (pipeline, owner) in enumerate(
        [("a", "user:x"), ("a", "user:x"), ("a", "user:x"), ("b", "user:x"), ("a", "user:y")]
    ):
        repo.create_run(run(f"r{n}", pipeline, owner=owner))
        _finish(repo, f"r{n}", RunStatus.FAILED if n == 1 else RunStatus.SUCCEEDED)
    with repo.engine.begin() as connection:  # r0 is oldest, r4 newest
        for n in range(5):
            connection.execute(
                update(RunRow)
                .where(RunRow.id == f"r{n}")
                .values(created_at=utcnow() - timedelta(days=10 - n))
            )

    def chosen(**selection: object) -> list[str]:
        return [r.id for r in repo.choose_runs(RunSelection(**selection)).doomed]  # type: ignore[arg-type]

    assert chosen() == [] and chosen(owner="user:x") == []  # no selection: no runs
    assert chosen(created_before=utcnow() - timedelta(days=7, hours=12)) == ["r0", "r1", "r2"]
    assert chosen(statuses=FAILED) == ["r1"]
    assert chosen(pipeline="a", owner="user:x") == ["r0", "r1", "r2"]
    assert chosen(keep_last=1, owner="user:x") == ["r0", "r1"]  # r2 for a, r3 for b stay
    assert chosen(keep_last=1) == ["r0", "r1", "r2"]  # r4 is a's newest, of every owner
    assert chosen(keep_last=2, pipeline="a", statuses=FAILED) == ["r1"]
    assert chosen(run_ids=("r3", "r4"), pipeline="b") == ["r3"]
    kept = repo.choose_runs(RunSelection(keep_last=1, owner="user:x")).kept
    assert [(k.id, k.reason) for k in kept] == [
        ("r2", "it is among the 1 newest runs of a"),
        ("r3", "it is among the 1 newest runs of b"),
    ]


def test_live_runs_stay_and_lost_ones_may_go(repo: Repository) -> None:
    repo.create_run(run("beating"))
    repo.heartbeat("beating")
    repo.create_run(run("pending", status=RunStatus.PENDING))
    repo.create_run(run("silent"))
    repo.heartbeat("silent")
    with repo.engine.begin() as connection:
        connection.execute(
            update(RunRow)
            .where(RunRow.id == "silent")
            .values(heartbeat_at=utcnow() - timedelta(minutes=5))
        )
    choice = repo.choose_runs(RunSelection(run_ids=("beating", "pending", "silent")))
    assert [r.id for r in choice.doomed] == ["silent"]
    assert choice.doomed[0].status is RunStatus.FAILED  # lost: read as failed
    assert {(k.id, k.reason) for k in choice.kept} == {
        ("beating", "it is running"),
        ("pending", "it is pending"),
    }
    assert set(repo.references().live) == {"beating", "pending"}
    assert repo.delete_run("beating", frozenset({"beating"})) is None  # checked again
    assert repo.delete_run("silent", frozenset({"silent"})) is not None


def test_an_origin_stays_while_a_run_that_stays_reads_it(repo: Repository) -> None:
    x = artifact("x")
    repo.create_run(run("first"))
    repo.record_tasks([task("first", "load", output=x)])
    _finish(repo, "first", RunStatus.FAILED)
    repo.create_run(run("second", resumed_from="first"))
    repo.record_tasks([task("second", "load", output=x, cloned_from=task_id("first", "load", 0))])
    _finish(repo, "second", RunStatus.FAILED)
    repo.create_run(run("third", resumed_from="second"))  # live: reads second's records
    repo.create_run(run("fresh-start", resumed_from="first"))  # cloned nothing, finished
    _finish(repo, "fresh-start", RunStatus.SUCCEEDED)

    everything = ("first", "second", "fresh-start")
    choice = repo.choose_runs(RunSelection(run_ids=everything))
    assert [r.id for r in choice.doomed] == ["fresh-start"]
    assert {(k.id, k.reason) for k in choice.kept} == {
        ("second", "run third resumed it and reads its records"),
        ("first", "run second resumed it and reads its records"),
    }
    assert repo.delete_run("second", frozenset(everything)) is None  # third reads it
    _finish(repo, "third", RunStatus.SUCCEEDED)  # ended, and cloned nothing
    choice = repo.choose_runs(RunSelection(run_ids=everything))
    assert [r.id for r in choice.doomed] == ["first", "second", "fresh-start"]
    for doomed in choice.doomed:
        assert repo.delete_run(doomed.id, choice.doomed_ids) is not None
    assert _rows(repo, "third")["runs"] == 1
