"""Steps ordered without passing data run after what they wait for, and are skipped with it."""

from __future__ import annotations

import json
import subprocess
import sys

from argosy.backends.local import run_pipeline
from argosy.config import Settings
from argosy.metadata.schemas import RunStatus, TaskStatus
from tests.backends.local import flows
from tests.backends.local.conftest import tasks


def test_an_ordered_step_starts_after_every_task_it_waits_for(settings: Settings) -> None:
    result = run_pipeline(flows.ordered, {}, settings, max_workers=3, progress=False)

    assert result.succeeded
    recorded = tasks(settings, result.run_id)
    waited = [recorded["gate", 0], recorded["nap", 0], recorded["nap", 1]]
    assert recorded["last", 0].started_at >= max(t.finished_at for t in waited)
    assert recorded["last", 0].inputs == []


def test_when_a_step_waited_for_fails_the_ordered_step_is_skipped(settings: Settings) -> None:
    result = run_pipeline(flows.ordered, {"fail": True}, settings, progress=False)

    assert result.status is RunStatus.FAILED
    recorded = tasks(settings, result.run_id)
    assert recorded["gate", 0].status is TaskStatus.FAILED
    assert recorded["last", 0].status is TaskStatus.SKIPPED
    assert recorded["free", 0].status is TaskStatus.SUCCEEDED
    assert recorded["nap", 1].status is TaskStatus.SUCCEEDED
    shown = subprocess.run(
        [sys.executable, "-m", "argosy", "show", result.run_id, "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    statuses = {task["step"]: task["status"] for task in json.loads(shown.stdout)["tasks"]}
    assert statuses["last"] == TaskStatus.SKIPPED
