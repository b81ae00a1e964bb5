"""Faults in turn during one 2,000-wide run on S3 and a metadata service: a worker, the metadata
service, the S3 server (SIGTERM) and at last the runner are killed; then the run is resumed.
Every task is recorded exactly once, and every output's bytes match its digest."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from pathlib import Path

from pydantic import SecretStr

from argosy.config import Settings
from argosy.metadata import open_reader
from argosy.metadata.schemas import RunStatus, TaskStatus
from argosy.store import load, open_store
from tests.durability.harness import (
    PIPELINE,
    TOKEN,
    MetadataService,
    Run,
    alive,
    environment,
    marks,
    s3_variables,
    wait_for,
    workers,
)
from tests.durability.recorded import recorded_tasks, stored_outputs
from tests.servers.s3 import S3Server

WIDTH = 2000


def test_a_wide_run_survives_faults_in_turn_and_resumes_with_every_task_recorded_once(
    home: Path, tmp_path: Path, metadata_service: MetadataService, private_s3_server: S3Server
) -> None:
    s3 = private_s3_server
    bucket = s3.make_bucket()
    variables = metadata_service.variables() | s3_variables(s3, bucket)
    env = environment(home, **variables, ARGOSY_METADATA_RETRY_SECONDS="120")
    done = tmp_path / "marks"
    args = ["run", PIPELINE, "-p", f"n={WIDTH}", "-p", "pause=0.005", "-p", f"marks={done}"]
    runner = Run(env, *args)

    def reach(count: int) -> None:
        wait_for(f"{count} finished tasks", lambda: runner.running() and marks(done) >= count)

    reach(200)
    os.kill(min(workers(runner.pid)), signal.SIGKILL)
    reach(500)
    metadata_service.kill()
    time.sleep(3)
    metadata_service.start()
    reach(800)
    s3.stop()  # SIGTERM: SeaweedFS SIGKILLed may lose blobs it acknowledged (see test_s3_outage)
    time.sleep(2)
    s3.start()
    reach(1100)
    pool = workers(runner.pid)
    runner.signal(signal.SIGKILL)
    runner.finish()
    wait_for("the workers to die with their runner", lambda: not alive(pool), 10)

    settings = s3.settings(bucket, home).model_copy(
        update={"metadata_url": metadata_service.url, "token": SecretStr(TOKEN)}
    )
    origin = open_reader(settings).list_runs().data[0]
    code, out, err = Run(env, "resume", origin.id, "--json").finish()
    assert code == 0, err
    resumed = json.loads(out)
    assert resumed["status"] == "succeeded"

    finished = stored_outputs(settings, origin.id, WIDTH)
    recorded = recorded_tasks(settings, origin.id)
    assert len(finished) >= WIDTH // 4 and set(recorded) <= finished
    assert len(finished - set(recorded)) <= len(pool), "finished tasks went unrecorded"
    assert open_reader(settings).get_run(origin.id).status is RunStatus.FAILED
    assert set(recorded_tasks(settings, resumed["run_id"])) == set(range(WIDTH))
    _every_output_verifies(settings, s3, bucket, resumed["run_id"])


def _every_output_verifies(settings: Settings, s3: S3Server, bucket: str, run_id: str) -> None:
    """Each task's output: its blob's sha256 is its digest, and it loads as the right value."""
    tasks = open_reader(settings).list_tasks(run_id)
    assert all(task.status is TaskStatus.SUCCEEDED for task in tasks)
    store, client = open_store(settings), s3.client()
    for task in tasks:
        assert task.output is not None
        response = client.get_object(bucket, f"blobs/{task.output.digest}")
        try:
            assert hashlib.sha256(response.read()).hexdigest() == task.output.digest
        finally:
            response.close()
            response.release_conn()
        if task.step == "work":
            assert load(store, task.output) == task.index**2
    total = next(task for task in tasks if task.step == "total")
    assert load(store, total.output) == sum(i * i for i in range(WIDTH))
