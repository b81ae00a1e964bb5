"""A metadata service that goes away: the run goes on within its retry budget, and what it could
not send is spooled and sent on the next contact. A real `argosy server` on Postgres, killed."""

from __future__ import annotations

import json
import time
from pathlib import Path

from argosy.config import Settings
from argosy.metadata.schemas import RunStatus
from argosy.metadata.spool import spool_dir
from tests.durability.harness import (
    PIPELINE,
    TOKEN,
    MetadataService,
    Run,
    environment,
    marks,
    wait_for,
)
from tests.durability.recorded import recorded_tasks, run_of, stored_outputs

WIDTH = 300


def _client_settings(home: Path, service: MetadataService) -> Settings:
    return Settings(home=home, metadata_url=service.url, token=TOKEN)


def _start(home: Path, done: Path, service: MetadataService, budget: float, pause: float) -> Run:
    env = environment(home, **service.variables(), ARGOSY_METADATA_RETRY_SECONDS=f"{budget:g}")
    args = ["run", PIPELINE, "-p", f"n={WIDTH}", "-p", f"pause={pause}", "-p", f"marks={done}"]
    runner = Run(env, *args, "--json")
    wait_for("50 finished tasks", lambda: runner.running() and marks(done) >= 50)
    return runner


def test_a_ten_second_outage_within_the_budget_loses_nothing(
    home: Path, tmp_path: Path, metadata_service: MetadataService
) -> None:
    runner = _start(home, tmp_path / "marks", metadata_service, budget=120, pause=0.01)
    metadata_service.kill()
    time.sleep(10)
    metadata_service.start()
    code, out, err = runner.finish()
    assert code == 0, err
    run_id = json.loads(out)["run_id"]

    settings = _client_settings(home, metadata_service)
    assert run_of(settings, run_id).status is RunStatus.SUCCEEDED
    recorded = recorded_tasks(settings, run_id)
    assert set(recorded) == set(range(WIDTH))
    assert set(recorded.values()) == {1}, "a task was recorded with extra attempts"
    assert not list(spool_dir(settings).glob("*.jsonl"))


def test_an_outage_beyond_the_budget_stops_the_run_and_the_next_contact_sends_its_records(
    home: Path, tmp_path: Path, metadata_service: MetadataService
) -> None:
    # 300 tasks of 50 ms on 2 workers outlast the 2 s budget
    runner = _start(home, tmp_path / "marks", metadata_service, budget=2, pause=0.05)
    metadata_service.kill()
    code, _, err = runner.finish()
    assert code == 1
    settings = _client_settings(home, metadata_service)
    (spooled,) = spool_dir(settings).glob("*.jsonl")
    run_id = spooled.stem
    assert str(spooled) in err and f"argosy resume {run_id}" in err

    metadata_service.start()
    code, out, err = Run(
        environment(home, **metadata_service.variables()), "resume", run_id, "--json"
    ).finish()
    assert code == 0, err
    assert json.loads(out)["status"] == "succeeded"
    finished = stored_outputs(settings, run_id, WIDTH)
    recorded = set(recorded_tasks(settings, run_id))
    assert recorded <= finished
    # what stopping the run cut short: a task whose worker stored its output, then was killed
    # before it could report (at most one a worker)
    assert len(finished - recorded) <= 2, "a finished task's record was lost in the outage"
    origin = run_of(settings, run_id)
    assert origin.status is RunStatus.FAILED
    assert "cannot reach the metadata service" in (origin.error or "")
