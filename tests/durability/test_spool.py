"""The spool replays what it can and never blocks the next run: torn lines, refused records, and
a live runner's spool are all dealt with. On a real embedded database."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunStatus, RunUpdate, TaskStatus
from argosy.metadata.spool import Spool, TaskSpool, replay_spools
from tests.metadata.factories import artifact, run, task


@pytest.fixture
def spools(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    repository = Repository(f"sqlite:///{tmp_path / 'metadata.db'}")
    repository.create_run(run("r1", steps=("fit",)))
    return repository


def _records(repository: Repository) -> dict[int, TaskStatus]:
    return {t.index: t.status for t in repository.list_tasks("r1")}


def _died_with(spool: Spool) -> None:
    """What a SIGKILL leaves of a spool: its files, no lock."""
    spool.close(sent=False)


def test_a_torn_line_is_passed_over_and_the_lines_after_it_are_sent(
    spools: Path, repository: Repository
) -> None:
    spool = Spool(spools, "r1")
    spool.add_task(task("r1", "fit", 0, output=artifact("a")))
    with spool.path.open("ab") as file:  # a worker killed mid-line, and its pid reused
        file.write(b'{"task": {"run_id": "r1", "st\n')
    spool.add_task(task("r1", "fit", 1, output=artifact("b")))
    _died_with(spool)

    assert replay_spools(spools, repository) == ["r1"]
    assert _records(repository) == {0: TaskStatus.SUCCEEDED, 1: TaskStatus.SUCCEEDED}
    ended = repository.get_run("r1")
    assert ended.status is RunStatus.FAILED and "runner stopped" in (ended.error or "")
    assert not list(spools.iterdir()), "the spool was not removed"


def test_a_record_the_store_refuses_does_not_hold_back_the_others(
    spools: Path, repository: Repository
) -> None:
    # the runner recorded attempt 1 as failed (it killed the worker on a timeout), while the
    # worker had spooled the same attempt as succeeded just before
    repository.record_tasks([task("r1", "fit", 0, status=TaskStatus.FAILED, error="timed out")])
    spool = Spool(spools, "r1")
    worker = TaskSpool(spools, "r1")
    worker.add_task(task("r1", "fit", 0, output=artifact("a")))
    worker.add_task(task("r1", "fit", 1, output=artifact("b")))
    _died_with(spool)

    assert replay_spools(spools, repository) == ["r1"]
    assert _records(repository) == {0: TaskStatus.FAILED, 1: TaskStatus.SUCCEEDED}
    assert not list(spools.iterdir())


def test_a_live_runners_spool_is_left_alone(spools: Path, repository: Repository) -> None:
    spool = Spool(spools, "r1")
    spool.add_task(task("r1", "fit", 0, output=artifact("a")))
    assert replay_spools(spools, repository) == []
    assert spool.path.exists() and _records(repository) == {}
    assert repository.get_run("r1").status is RunStatus.RUNNING


def test_a_clean_end_sends_the_end_once_and_removes_everything(
    spools: Path, repository: Repository
) -> None:
    spool = Spool(spools, "r1")
    offset = spool.add_task(task("r1", "fit", 0, output=artifact("a")))
    repository.record_tasks([task("r1", "fit", 0, output=artifact("a"))])
    spool.acknowledge(offset)
    spool.add_update(RunUpdate(status=RunStatus.SUCCEEDED))
    _died_with(spool)  # after spooling its end, before sending it

    replay_spools(spools, repository)
    assert repository.get_run("r1").status is RunStatus.SUCCEEDED
    assert _records(repository) == {0: TaskStatus.SUCCEEDED}
    assert not list(spools.iterdir())


def test_an_outputs_name_and_metadata_survive_the_spool(
    spools: Path, repository: Repository
) -> None:
    said = {"rows": 3, "columns": ["a", "b"]}
    output = artifact("a").model_copy(update={"name": "a.csv", "metadata": said})
    workers = TaskSpool(spools, "r1")
    workers.add_task(task("r1", "fit", 0, output=output))
    workers.close()
    _died_with(Spool(spools, "r1"))

    assert replay_spools(spools, repository) == ["r1"]
    recorded = repository.list_tasks("r1")[0].output
    assert recorded is not None and (recorded.name, recorded.metadata) == ("a.csv", said)
