"""A schedule declared in code, on the real Argo controller: ``argosy schedule`` creates the
CronWorkflow, its first run starts within a minute or so, its step sees the start the schedule
meant (Argo's ``scheduled-time`` annotation), and ``argosy schedule --delete`` removes it.

Small on purpose: one CronWorkflow firing every minute, deleted as soon as one run finished.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import pytest

from argosy.config import Settings
from argosy.metadata import open_reader
from argosy.runtime import read_output
from argosy.store import load, open_store
from tests.cluster.conftest import argosy, kubectl

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(600)]

PIPELINE = "tests/cluster/scheduled_pipelines.py:every_minute"
DONE = {"Succeeded", "Failed", "Error"}
SCHEDULED_TIME = "workflows.argoproj.io/scheduled-time"


def _spawned(env: dict[str, str], name: str) -> list[dict[str, Any]]:
    """The Workflows the CronWorkflow ``name`` started."""
    listed = kubectl(env, "get", "workflows", "-n", "argosy",
                     "-l", f"workflows.argoproj.io/cron-workflow={name}")  # fmt: skip
    return listed["items"]


def _first_finished(env: dict[str, str], name: str) -> dict[str, Any]:
    """The first run the CronWorkflow started, once it finished: it must start within 80 s."""
    started = time.monotonic()
    while True:
        spawned = _spawned(env, name)
        finished = [w for w in spawned if w.get("status", {}).get("phase") in DONE]
        if finished:
            return finished[0]
        waited = time.monotonic() - started
        assert spawned or waited < 80, "the CronWorkflow started no run within 80 s"
        assert waited < 400, f"its run {spawned[0]['metadata']['name']} did not finish in time"
        time.sleep(3)


def test_a_scheduled_run_sees_the_time_it_was_meant_to_start(
    argosy_env: dict[str, str], client_settings: Settings
) -> None:
    created = json.loads(argosy(argosy_env, "schedule", PIPELINE, "-n", "argosy", "--json").stdout)
    name = created["name"]
    assert (created["action"], created["schedule"]["crons"]) == ("created", ["* * * * *"])
    try:
        run = _first_finished(argosy_env, name)
    finally:
        argosy(argosy_env, "schedule", PIPELINE, "-n", "argosy", "--delete")

    assert run["status"]["phase"] == "Succeeded", run["status"].get("message")
    run_id = run["metadata"]["name"]
    store = open_store(client_settings)
    meant = load(store, read_output(store, run_id, "meant", 0).artifact)
    assert meant is not None, "the step saw no scheduled time"
    annotated = datetime.fromisoformat(run["metadata"]["annotations"][SCHEDULED_TIME])
    assert datetime.fromisoformat(meant) == annotated
    assert annotated.second == 0 and annotated.utcoffset() is not None
    assert open_reader(client_settings).get_run(run_id).status.value == "succeeded"
    remaining = kubectl(argosy_env, "get", "cronworkflows", "-n", "argosy")["items"]
    assert name not in [item["metadata"]["name"] for item in remaining]
