"""S3 dies in the middle of a run: a clear task error, nothing half-written, then resume works.

A real SeaweedFS of the test's own is stopped (SIGTERM) while the pipeline's middle task runs
(the task waits at a gate until then), and started again on the same ports and data before the
resume. Not SIGKILL: SeaweedFS killed that way sometimes loses a blob it had already
acknowledged (reading it after the restart is an InternalError), a loss no client can prevent.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

from minio import Minio
from minio.error import S3Error

from argosy.outputs import find_output, read_output
from argosy.store import load, open_store
from tests.servers.s3 import S3Server
from tests.store.s3_env import REPO, argosy, s3_environment

PIPELINE = str(Path(__file__).with_name("outage_pipeline.py").relative_to(REPO))


def _wait_for(path: Path, run: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert run.poll() is None, f"the run ended early: {run.communicate()}"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _assert_nothing_half_written(server: S3Server, bucket: str) -> None:
    """Every blob's bytes match its key (read after the restart: waits for each volume)."""
    client = server.client()
    for item in client.list_objects(bucket, "blobs/", recursive=True):
        digest = hashlib.sha256(
            _read_once_served(client, str(item.object_name), bucket)
        ).hexdigest()
        assert item.object_name == f"blobs/{digest}", "a blob's bytes do not match its key"


def _read_once_served(client: Minio, name: str, bucket: str, timeout: float = 60) -> bytes:
    """The object's bytes. Just restarted, SeaweedFS answers InternalError ("please try again")
    for an object whose volume has not registered again yet (the readiness check reads one
    object per bucket, not one per volume), and more so on a loaded machine: try again then."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = client.get_object(bucket, name)
        except S3Error as error:
            if error.code != "InternalError" or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()


def test_a_run_cut_by_an_s3_outage_resumes(private_s3_server: S3Server, tmp_path: Path) -> None:
    server = private_s3_server
    bucket = server.make_bucket()
    env = s3_environment(server, bucket, tmp_path / "home")
    gate = tmp_path / "gate"
    gate.mkdir()
    command = ["run", PIPELINE, "--param", f"gate={gate}", "--param", "n=1000", "--json"]
    run = subprocess.Popen(
        [sys.executable, "-m", "argosy", *command],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(gate / "arrived", run)
    server.stop()  # SIGKILLed, SeaweedFS may lose a blob it had acknowledged: not our outage
    (gate / "open").touch()
    stdout, stderr = run.communicate(timeout=180)

    assert run.returncode == 1, stderr
    failed = json.loads(stdout)
    steps = failed["steps"]
    assert failed["status"] == "failed"
    assert [steps[name]["state"] for name in ("produce", "wait_at_gate", "total")] == [
        "succeeded",
        "failed",
        "skipped",
    ]
    reason = steps["wait_at_gate"]["errors"][0].strip().splitlines()[-1]
    assert reason.startswith("argosy.errors.StoreUnavailable: cannot reach S3 at "), reason
    assert "check ARGOSY_S3_ENDPOINT and that the server is up" in reason
    assert list((tmp_path / "home" / "cache" / "s3" / "tmp").iterdir()) == []

    server.start()
    _assert_nothing_half_written(server, bucket)
    store = open_store(server.settings(bucket, tmp_path / "home"))
    assert find_output(store, failed["run_id"], "wait_at_gate", 0) is None

    code, resumed, stderr = argosy(env, "resume", failed["run_id"])
    assert code == 0, stderr
    assert resumed["status"] == "succeeded"
    assert resumed["steps"]["produce"]["cloned"] == 1
    answer = read_output(store, resumed["run_id"], "total", 0).artifact
    assert load(store, answer) == 2 * sum(range(1000))
