"""The ready-set loop of a local run: which task runs next, on which worker, and what then.

A step becomes active when every step it reads or runs after (`ir.Step.upstream`) has succeeded;
its width (tasks) is known then, so a fan-out over an upstream output gets its width at run
time. Active steps' tasks queue by
the time they may start (retries wait out their backoff) and go to idle workers while the
machine has worker slots, memory and GPUs for them (`argosy.backends.local.slots`). Tasks of
a step whose tasks have been short (a wide fan-out of small tasks) are also queued one deep
behind a worker's running task, so workers never wait for the scheduler between them. A
failed task is retried while its step allows; a step whose task finally fails takes its
downstream steps with it (skipped), while independent branches run on. Timeouts kill the
worker running the task.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from argosy import ir
from argosy.backends.local.pool import Died, Finished, Worker, WorkerPool
from argosy.backends.local.progress import RunProgress
from argosy.backends.local.recorder import RunRecorder
from argosy.backends.local.slots import Capacity, Claim
from argosy.errors import ArgosyError
from argosy.metadata.schemas import TaskRecord, TaskStatus, task_id
from argosy.runtime import TaskSpec, map_width
from argosy.store.addresses import log_key
from argosy.store.base import ArtifactStore

_SHORT_SECONDS = 0.05
"""Tasks shorter than this on average are queued behind a worker's running task..."""
_LIGHT = Claim(slots=1)
"""...when they, and the task they queue behind, take one slot and nothing else."""


class StepState(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class StepRun:
    """How far one step has come in this run."""

    step: ir.Step
    state: StepState = StepState.WAITING
    width: int | None = None
    done: dict[int, TaskRecord] = field(default_factory=dict)
    failed: dict[int, TaskRecord] = field(default_factory=dict)
    """The last attempt of each task that failed for good."""
    seconds: float = 0.0
    """Time its finished attempts took, together."""
    attempts: int = 0

    @property
    def short(self) -> bool:
        """Its tasks take so little time that the way to and from a worker matters."""
        return self.attempts >= 2 and self.seconds / self.attempts < _SHORT_SECONDS


@dataclass(order=True)
class _Queued:
    not_before: float
    sequence: int
    step: str = field(compare=False)
    index: int = field(compare=False)
    attempt: int = field(compare=False)


@dataclass
class _Running:
    """A task sent to a worker: running, or queued behind the worker's running task."""

    task: _Queued
    claim: Claim
    gpus: list[str]
    """The device ids granted."""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    deadline: float | None = None


@dataclass(frozen=True)
class RunOptions:
    """How a run is scheduled: what the command line and `run_pipeline` set."""

    run_id: str
    pipeline_ref: str
    params: dict[str, Any]
    cache: bool = False
    gpu_fallback: frozenset[str] = frozenset()
    """Steps that asked for GPUs this machine lacks, and run without them."""


class Scheduler:
    """Runs the tasks of one run on ``pool``; `run` returns every step's outcome."""

    def __init__(
        self,
        pipeline: ir.Pipeline,
        options: RunOptions,
        *,
        pool: WorkerPool,
        store: ArtifactStore,
        records: RunRecorder,
        progress: RunProgress,
        capacity: Capacity,
        preset: dict[str, dict[int, TaskRecord]] | None = None,
        stop: Callable[[], None] = lambda: None,
    ) -> None:
        self._pipeline = pipeline
        self._options = options
        self._template = TaskSpec(
            pipeline=options.pipeline_ref,
            step=pipeline.steps[0].name,
            run_id=options.run_id,
            params=options.params,
            cache=options.cache,
        )
        """Validated once: each task's spec is a copy with its own step, index and attempt."""
        self._pool = pool
        self._store = store
        self._records = records
        self._progress = progress
        self._preset = preset or {}
        self._steps = {step.name: StepRun(step) for step in pipeline.steps}
        self._queue: list[_Queued] = []
        self._sequence = itertools.count()
        self._running: dict[Worker, deque[_Running]] = {}
        """Per busy worker its tasks, the running one first."""
        self._capacity = capacity
        self._stop = stop
        """Called between events: raises (KeyboardInterrupt) when the run must stop."""

    def run(self) -> dict[str, StepRun]:
        for step in self._pipeline.steps:
            if not step.upstream:
                self._activate(step.name)
        while self._queue or self._running:
            self._dispatch()
            for event in self._pool.wait(self._wake_in()) if self._running else self._idle():
                if isinstance(event, Finished):
                    self._finish(self._next(event.worker).task, event.record, spooled=True)
                elif isinstance(event, Died):
                    running = self._abandon(event.worker)
                    self._pool.replace(event.worker)
                    self._finish(running.task, self._lost(event.worker, running, event.reason))
            self._expire()
            self._records.check()
            self._stop()
            self._progress.tick()
        for run in self._steps.values():
            if run.state is StepState.WAITING:
                self._skip(run)
        return self._steps

    # --- queue and dispatch ------------------------------------------------------------------

    def _push(self, step: str, index: int, attempt: int, delay: float = 0.0) -> None:
        heapq.heappush(
            self._queue,
            _Queued(time.monotonic() + delay, next(self._sequence), step, index, attempt),
        )

    def _dispatch(self) -> None:
        now = time.monotonic()
        while self._queue and self._queue[0].not_before <= now:
            queued = self._queue[0]
            step = self._steps[queued.step].step
            claim = self._capacity.claim(step, gpu_fallback=step.name in self._options.gpu_fallback)
            cuda = ",".join(self._capacity.next_gpus(claim)) if claim.gpus else None
            worker = self._pool.idle(cuda) if self._capacity.fits(claim) else None
            if worker is not None:
                running = _Running(queued, claim, self._capacity.take(claim))
                self._start(running, step)
                self._running[worker] = deque([running])
            elif claim == _LIGHT and self._steps[queued.step].short:
                worker = self._behind()
                if worker is None:
                    return
                self._running[worker].append(_Running(queued, claim, []))
            else:
                return
            heapq.heappop(self._queue)
            environment: dict[str, str | None] = {}
            if cuda is not None:
                environment["CUDA_VISIBLE_DEVICES"] = worker.cuda = cuda
            elif step.resources.gpu:
                environment["CUDA_VISIBLE_DEVICES"] = ""
            self._pool.send(worker, self._spec(queued), environment)

    def _behind(self) -> Worker | None:
        """A worker running one short single-slot CPU task and nothing queued behind it."""
        for worker, tasks in self._running.items():
            head = tasks[0]
            if len(tasks) == 1 and head.claim == _LIGHT and self._steps[head.task.step].short:
                return worker
        return None

    @staticmethod
    def _start(running: _Running, step: ir.Step) -> None:
        running.started = datetime.now(UTC)
        if step.timeout_seconds is not None:
            running.deadline = time.monotonic() + step.timeout_seconds

    def _spec(self, queued: _Queued) -> TaskSpec:
        return self._template.model_copy(
            update={
                "step": queued.step,
                "index": queued.index,
                "attempt": queued.attempt,
                "gpu_fallback": queued.step in self._options.gpu_fallback,
            }
        )

    def _next(self, worker: Worker) -> _Running:
        """The worker's running task finished: start the one queued behind it, if any."""
        tasks = self._running[worker]
        done = tasks.popleft()
        if tasks:
            self._start(tasks[0], self._steps[tasks[0].task.step].step)  # takes over the slot
        else:
            del self._running[worker]
            self._capacity.give(done.claim, done.gpus)
        return done

    def _abandon(self, worker: Worker) -> _Running:
        """The worker is gone: free its resources, queue again what waited behind its task."""
        running, *waiting = self._running.pop(worker)
        self._capacity.give(running.claim, running.gpus)
        for behind in waiting:
            self._push(behind.task.step, behind.task.index, behind.task.attempt)
        return running

    def _wake_in(self) -> float | None:
        """Seconds until something is due: a retry, a timeout, a redraw."""
        now = time.monotonic()
        due = [0.1]
        if self._queue and self._queue[0].not_before > now:  # else it waits for a worker
            due.append(self._queue[0].not_before - now)
        due += [t[0].deadline - now for t in self._running.values() if t[0].deadline is not None]
        return max(0.0, min(due))

    def _idle(self) -> list[Finished | Died]:
        """Nothing runs: sleep until the first queued retry may start."""
        time.sleep(self._wake_in() or 0.0)
        return []

    def _expire(self) -> None:
        now = time.monotonic()
        for worker, tasks in list(self._running.items()):
            running = tasks[0]
            if running.deadline is not None and now >= running.deadline:
                self._abandon(worker)
                self._pool.kill(worker)
                limit = self._steps[running.task.step].step.timeout_seconds
                reason = f"timed out after {limit:g} s and was stopped; raise the step's timeout"
                self._finish(running.task, self._lost(worker, running, reason))

    # --- outcomes ---------------------------------------------------------------------------

    def _lost(self, worker: Worker, running: _Running, reason: str) -> TaskRecord:
        """The record of a task whose worker died or was killed, with what it had written."""
        task = running.task
        key = log_key(self._options.run_id, task.step, task.index, task.attempt)
        try:
            written = worker.log.read_bytes()
        except FileNotFoundError:
            written = b""
        self._store.put_record(key, written + f"\n[argosy] {reason}\n".encode())
        return self._failure(task, running.started, reason, log=key)

    def _failure(
        self, task: _Queued, started: datetime, reason: str, *, log: str | None = None
    ) -> TaskRecord:
        return TaskRecord(
            run_id=self._options.run_id,
            step=task.step,
            index=task.index,
            attempt=task.attempt,
            status=TaskStatus.FAILED,
            started_at=started,
            finished_at=datetime.now(UTC),
            error=f"task {task_id(self._options.run_id, task.step, task.index)}: {reason}",
            log_key=log,
            gpu_fallback=task.step in self._options.gpu_fallback,
        )

    def _finish(self, task: _Queued, record: TaskRecord, *, spooled: bool = False) -> None:
        self._records.add(record, spooled=spooled)
        run = self._steps[task.step]
        if record.started_at is not None and record.finished_at is not None:
            run.seconds += (record.finished_at - record.started_at).total_seconds()
            run.attempts += 1
        if record.status is TaskStatus.SUCCEEDED:
            run.done[task.index] = record
            self._progress.advance(task.step)
            self._complete(run)
            return
        retry = run.step.retry
        if task.attempt < retry.limit:
            self._progress.note(task.step, f"[yellow]retrying #{task.index}")
            self._push(task.step, task.index, task.attempt + 1, retry.delay(task.attempt + 1))
            return
        run.failed[task.index] = record
        self._progress.note(task.step, f"[red]{len(run.failed)} failed")
        if run.state is StepState.ACTIVE:
            run.state = StepState.FAILED
            self._skip_downstream(task.step)

    def _complete(self, run: StepRun) -> None:
        if run.state is not StepState.ACTIVE or len(run.done) < (run.width or 0):
            return
        run.state = StepState.SUCCEEDED
        for name in self._pipeline.downstream(run.step.name):
            upstream = self._pipeline.step(name).upstream
            if all(self._steps[u].state is StepState.SUCCEEDED for u in upstream):
                self._activate(name)

    def _activate(self, name: str) -> None:
        run = self._steps[name]
        run.state = StepState.ACTIVE
        try:
            run.width = (
                map_width(
                    self._pipeline,
                    name,
                    run_id=self._options.run_id,
                    params=self._options.params,
                    store=self._store,
                )
                if run.step.mapped
                else 1
            )
        except ArgosyError as error:
            queued = _Queued(time.monotonic(), next(self._sequence), name, 0, 0)
            failure = self._failure(queued, datetime.now(UTC), str(error))
            run.width = 0
            self._records.add(failure)
            run.failed[0] = failure
            run.state = StepState.FAILED
            self._skip_downstream(name)
            return
        preset = self._preset.get(name, {})
        run.done.update({i: r for i, r in preset.items() if i < run.width})
        self._progress.total(name, run.width, done=len(run.done))
        for index in range(run.width):
            if index not in run.done:
                self._push(name, index, 0)
        self._complete(run)

    def _skip_downstream(self, name: str) -> None:
        for downstream in self._pipeline.downstream(name):
            run = self._steps[downstream]
            if run.state is StepState.WAITING:
                self._skip(run)
                self._skip_downstream(downstream)

    def _skip(self, run: StepRun) -> None:
        run.state = StepState.SKIPPED
        self._progress.note(run.step.name, "[dim]skipped")
        self._records.add(
            TaskRecord(run_id=self._options.run_id, step=run.step.name, status=TaskStatus.SKIPPED)
        )


__all__ = ["RunOptions", "Scheduler", "StepRun", "StepState"]
