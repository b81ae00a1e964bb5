"""Tasks of short steps wait behind a worker's running task, a few milliseconds' worth of them."""

from __future__ import annotations

from typing import Any

import pytest

from argosy import ir
from argosy.backends.local import outcomes, run_pipeline
from argosy.backends.local.outcomes import MAX_BEHIND, StepRun
from argosy.backends.local.pool import Worker, WorkerPool
from argosy.config import Settings
from tests.backends.local import flows
from tests.backends.local.conftest import output


def _step_run(attempts: int, seconds: float) -> StepRun:
    step = ir.Step(name="s", function="m:s", code_digest="0" * 64)
    return StepRun(step, attempts=attempts, seconds=seconds)


@pytest.mark.parametrize(
    ("attempts", "seconds", "behind"),
    [
        (0, 0.0, 0),  # nothing known yet
        (1, 0.0001, 0),
        (2, 0.2, 0),  # 100 ms a task: not short
        (4, 0.19, 1),  # 47.5 ms a task: short, so one waits
        (4, 0.04, 1),  # 10 ms a task: one waits behind the running one
        (10, 0.01, 5),  # 1 ms a task: 5 ms of them
        (1000, 0.3, MAX_BEHIND),  # 0.3 ms a task: as many as may wait
        (3, 0.0, MAX_BEHIND),  # too quick for the clock
    ],
)
def test_how_many_tasks_wait_behind_a_running_one(
    attempts: int, seconds: float, behind: int
) -> None:
    assert _step_run(attempts, seconds).behind == behind


def test_a_wide_fan_out_of_short_tasks_keeps_every_worker_queue_full(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outcomes, "QUEUED_SECONDS", 10.0)  # any task is quick enough to queue
    deepest: list[int] = []
    send = WorkerPool.send

    def counting_send(pool: WorkerPool, worker: Worker, *args: Any, **kwargs: Any) -> None:
        send(pool, worker, *args, **kwargs)
        deepest.append(len(worker.sent))

    monkeypatch.setattr(WorkerPool, "send", counting_send)
    result = run_pipeline(flows.fan, {"n": 60}, settings, max_workers=2, progress=False)

    assert result.succeeded
    assert output(settings, result, "collect") == [x * x for x in range(60)]
    assert max(deepest) == MAX_BEHIND + 1  # the running task and as many as may wait
