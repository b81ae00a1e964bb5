"""A runner that dies leaves true records: SIGKILL, SIGTERM, SIGHUP and Ctrl-C, for real."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from argosy.config import Settings
from argosy.metadata.schemas import RunStatus
from argosy.metadata.spool import spool_dir
from tests.durability.harness import (
    PIPELINE,
    QUICK,
    Run,
    alive,
    descendants,
    environment,
    marks,
    wait_for,
)
from tests.durability.recorded import only_run, recorded_tasks, run_of, stored_outputs

WIDTH = 400


def _start(home: Path, done: Path) -> tuple[Run, set[int]]:
    """A run of WIDTH tasks of 10 ms on 2 workers; returns once 100 are done, with its workers."""
    args = ["run", PIPELINE, "-p", f"n={WIDTH}", "-p", "pause=0.01", "-p", f"marks={done}"]
    runner = Run(environment(home), *args)
    wait_for("100 finished tasks", lambda: runner.running() and marks(done) >= 100)
    workers = descendants(runner.pid)
    assert workers, "the run has no worker processes"
    return runner, workers


def _settings(home: Path) -> Settings:
    return Settings(home=home, lost_after_seconds=float(QUICK["ARGOSY_LOST_AFTER_SECONDS"]))


def test_a_killed_runner_reads_as_failed_and_resume_records_every_finished_task(
    home: Path, tmp_path: Path
) -> None:
    runner, workers = _start(home, tmp_path / "marks")
    runner.signal(signal.SIGKILL)
    runner.finish()
    wait_for("the workers to die with their runner", lambda: not alive(workers), 10)

    settings = _settings(home)
    wait_for("the run to read as lost", lambda: only_run(settings).status is RunStatus.FAILED)
    lost = only_run(settings)
    assert "stopped sending heartbeats" in (lost.error or "")
    assert f"argosy resume {lost.id}" in (lost.error or "")
    assert list(spool_dir(settings).glob("*.jsonl")), "the unsent records were not spooled"

    code, out, err = Run(environment(home), "resume", lost.id, "--json").finish()
    assert code == 0, err
    resumed = json.loads(out)
    assert resumed["status"] == "succeeded"
    assert any(lost.id in note for note in resumed["notes"])

    finished = stored_outputs(settings, lost.id, WIDTH)
    recorded = recorded_tasks(settings, lost.id)
    assert set(recorded) <= finished
    assert len(finished - set(recorded)) <= len(workers), "finished tasks went unrecorded"
    assert set(recorded_tasks(settings, resumed["run_id"])) == set(range(WIDTH))
    assert resumed["steps"]["work"]["cloned"] == len(finished)
    assert "the runner stopped before the run ended" in (run_of(settings, lost.id).error or "")
    assert not list(spool_dir(settings).glob("*.jsonl")), "the spool was not emptied"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_the_run_like_ctrl_c_and_says_how_to_resume(
    signum: signal.Signals, home: Path, tmp_path: Path
) -> None:
    runner, workers = _start(home, tmp_path / "marks")
    runner.signal(signum)
    code, _, err = runner.finish(timeout=60)
    assert code == 130, err

    run = only_run(_settings(home))
    assert run.status is RunStatus.CANCELLED
    assert f"argosy resume {run.id}" in err
    assert signum.name in (run.error or "") or signum is signal.SIGINT
    # the workers are gone; the guardian ends when it reads the runner's exit, a moment later
    wait_for("the workers and the guardian to end with the run", lambda: not alive(workers), 10)
    assert not list(spool_dir(_settings(home)).glob("*.jsonl")), "records were left unsent"
    finished = stored_outputs(_settings(home), run.id, WIDTH)
    recorded = set(recorded_tasks(_settings(home), run.id))
    assert recorded <= finished
    assert len(finished - recorded) <= len(workers), "finished tasks went unrecorded"
