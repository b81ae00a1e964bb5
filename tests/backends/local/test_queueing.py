"""Tasks of short steps wait behind a worker's running task, about 20 ms' worth of them,
and the scheduler pauses through part of that work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from argosy import ir
from argosy.backends.local import dispatch, outcomes, run_pipeline
from argosy.backends.local.dispatch import Dispatcher
from argosy.backends.local.outcomes import MAX_BEHIND, StepRun
from argosy.backends.local.pool import Worker, WorkerPool
from argosy.backends.local.slots import Capacity
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
        (4, 0.04, 2),  # 10 ms a task: two wait behind the running one
        (10, 0.01, 20),  # 1 ms a task: 20 ms of them
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
    result = run_pipeline(flows.fan, {"n": 120}, settings, max_workers=2, progress=False)

    assert result.succeeded
    assert output(settings, result, "collect") == [x * x for x in range(120)]
    assert max(deepest) == MAX_BEHIND + 1  # the running task and as many as may wait


@dataclass(eq=False)
class _Worker:
    sent: list[Any] = field(default_factory=list)
    cuda: str | None = None


class _Pool:
    """Workers that take whatever they are sent, and never finish it."""

    def __init__(self, size: int) -> None:
        self.workers = [_Worker() for _ in range(size)]

    def idle(self, cuda: str | None = None) -> Any:
        return next((worker for worker in self.workers if not worker.sent), None)

    def send(self, worker: Any, spec: Any, environment: Any, resources: Any) -> None:
        worker.sent.append(spec)


def _dispatcher(workers: int, run: StepRun) -> Dispatcher:
    pool: Any = _Pool(workers)
    capacity = Capacity(slots=workers, memory=1 << 40)
    spec: Any = lambda task: task  # noqa: E731
    return Dispatcher(pool, capacity, {run.step.name: run}, gpu_fallback=frozenset(), spec=spec)


@pytest.mark.parametrize(
    ("queued", "attempts", "seconds", "pause"),
    [
        (12, 10, 0.01, 0.0025),  # 1 ms a task, 5 behind each worker: half of 5 ms
        (20, 1000, 0.3, 0.00135),  # 0.3 ms a task, 9 behind each: half of 2.7 ms
        (20, 1000, 0.01, None),  # 10 us a task: 35 us behind, not worth a sleep
        (3, 10, 0.01, None),  # one worker has nothing behind its running task
        (20, 2, 0.2, None),  # 100 ms a task: nothing waits behind a running task
        (20, 10, 0.49, 0.005),  # 49 ms a task, one behind: the longest pause
    ],
)
def test_the_scheduler_pauses_through_half_the_work_queued_behind_every_worker(
    monkeypatch: pytest.MonkeyPatch,
    queued: int,
    attempts: int,
    seconds: float,
    pause: float | None,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(dispatch.time, "sleep", slept.append)
    dispatcher = _dispatcher(2, _step_run(attempts, seconds))
    for index in range(queued):
        dispatcher.push("s", index, 0)
    dispatcher.dispatch()
    dispatcher.pause()
    assert slept == ([] if pause is None else [pytest.approx(pause)])
