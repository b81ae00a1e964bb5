"""The ready-set loop of a local run: which task runs next, on which worker, and what then.

A step is decided once every step it needs (`ir.Step.upstream`) has ended: it is skipped when
one of them did not end as it needs (success, unless ``after(..., on=...)`` asks for a failure,
any or no success, or any end; a join needs one branch to have run) or when one of its
conditions is false; otherwise it becomes active, its width (tasks) and any resources decided
at run time are known then, so a fan-out over an upstream output gets its width at run time.
Exit handlers are decided once every other step has ended, and told how the run went. Active
steps' tasks go to workers through the run's queue (`argosy.backends.local.dispatch`). A failed
task is retried while its step allows; one that fails for good fails its step (or, in a
``catch`` step, is recorded caught, its output None, and counts as done), while independent
branches run on. Timeouts kill the worker running the task. A run fails as an Argo workflow
does: when a last step of a branch failed, or was skipped because a step before it failed; or
when all else succeeded and an exit handler failed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from argosy import ir
from argosy.backends.local.dispatch import Dispatcher, QueuedTask, SentTask
from argosy.backends.local.outcomes import (
    StepRun,
    StepState,
    call_failures,
    ended_as,
    failed_steps,
)
from argosy.backends.local.pool import Died, Finished, Worker, WorkerPool
from argosy.backends.local.progress import RunProgress
from argosy.backends.local.recorder import RunRecorder
from argosy.backends.local.slots import Capacity
from argosy.errors import ArgosyError, ResourceError, StoreError
from argosy.metadata.schemas import TaskRecord, TaskStatus
from argosy.ownership import Ownership
from argosy.runtime import TaskSpec, map_width
from argosy.runtime.decisions import task_resources, unmet_condition
from argosy.runtime.execute import is_caught, store_caught
from argosy.runtime.inputs import RunView
from argosy.store.addresses import log_key
from argosy.store.base import ArtifactStore

_FLUSHED_AT_STEP_END = 50
"""When a step ends with this many task records or more waiting to be sent, they are sent at
once, while the steps after it run (fewer wait for the writer at the end of the run)."""


@dataclass(frozen=True)
class RunOptions:
    """How a run is scheduled: what the command line and `run_pipeline` set."""

    run_id: str
    pipeline_ref: str
    params: dict[str, Any]
    cache: bool = False
    gpu_fallback: frozenset[str] = frozenset()
    """Steps that asked for GPUs this machine lacks, and run without them."""
    ownership: Ownership = field(default_factory=Ownership)
    """The run's project, owner and tags, which every task is told."""


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
            project=options.ownership.project,
            owner=options.ownership.owner,
            tags=list(options.ownership.tags),
        )
        """Validated once: each task's spec is a copy with its own step, index and attempt."""
        self._pool = pool
        self._store = store
        self._records = records
        self._progress = progress
        self._preset = preset or {}
        self._steps = {step.name: StepRun(step) for step in pipeline.steps}
        self._tasks = Dispatcher(
            pool, capacity, self._steps, gpu_fallback=options.gpu_fallback, spec=self._spec
        )
        self._capacity = capacity
        self._stop = stop
        """Called between events: raises (KeyboardInterrupt) when the run must stop."""
        self._view = RunView(pipeline, options.run_id, options.params, store)
        self._exiting = False
        """Every other step has ended: exit handlers may start."""
        self._run_status: str | None = None
        self._group_runs: Counter[str] = Counter()
        """How often each sub-pipeline call has been run again."""
        self._restarts: dict[str, float] = {}
        """Sub-pipeline calls to run again, and when."""

    def run(self) -> dict[str, StepRun]:
        for step in self._pipeline.steps:
            self._decide(step.name)
        self._drain()
        self._exiting = True
        self._run_status = "failed" if failed_steps(self._pipeline, self._steps) else "succeeded"
        for step in self._pipeline.steps:
            self._decide(step.name)
        self._drain()
        self._records.flush()  # the last records are written while the pool closes
        return self._steps

    def _drain(self) -> None:
        """Run tasks until none is queued or running."""
        while self._tasks.queued or self._tasks.busy or self._restarts:
            self._restart_due()
            self._tasks.dispatch()
            self._tasks.pause()
            wake_in = self._tasks.wake_in(self._restarts.values())
            for event in self._pool.wait(wake_in) if self._tasks.busy else self._idle(wake_in):
                if isinstance(event, Finished):
                    done = self._tasks.finished(event.worker)
                    self._finish(done.task, event.record, spooled=True)
                elif isinstance(event, Died):
                    running = self._tasks.abandon(event.worker)
                    self._pool.replace(event.worker)
                    self._finish(running.task, self._lost(event.worker, running, event.reason))
            self._expire()
            self._records.check()
            self._stop()
            self._progress.tick()

    def _idle(self, wake_in: float) -> list[Finished | Died]:
        """Nothing runs: sleep until the first queued retry may start."""
        time.sleep(wake_in)
        return []

    def _expire(self) -> None:
        """Stop the tasks past their step's timeout, and record them failed."""
        for worker, running in self._tasks.overdue():
            limit = self._steps[running.task.step].step.timeout_seconds
            reason = f"timed out after {limit:g} s and was stopped; raise the step's timeout"
            self._finish(running.task, self._lost(worker, running, reason))

    def _spec(self, queued: QueuedTask) -> TaskSpec:
        return self._template.model_copy(
            update={
                "step": queued.step,
                "index": queued.index,
                "attempt": queued.attempt,
                "gpu_fallback": queued.step in self._options.gpu_fallback,
                "run_status": self._run_status if self._steps[queued.step].step.exit else None,
            }
        )

    # --- outcomes ---------------------------------------------------------------------------

    def _lost(self, worker: Worker, running: SentTask, reason: str) -> TaskRecord:
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
        self, task: QueuedTask, started: datetime, reason: str, *, log: str | None = None
    ) -> TaskRecord:
        spec = self._spec(task)
        error = f"task {spec.task_id}: {reason}"
        output = None
        if is_caught(self._steps[task.step].step, task.attempt):
            try:
                output = store_caught(self._store, spec, [])
            except StoreError as store_error:
                error += f"\n(its None output: {store_error})"
        return TaskRecord(
            run_id=self._options.run_id,
            step=task.step,
            index=task.index,
            attempt=task.attempt,
            status=TaskStatus.FAILED if output is None else TaskStatus.CAUGHT,
            started_at=started,
            finished_at=datetime.now(UTC),
            output=output,
            error=error,
            log_key=log,
            gpu_fallback=task.step in self._options.gpu_fallback,
        )

    def _finish(self, task: QueuedTask, record: TaskRecord, *, spooled: bool = False) -> None:
        self._records.add(record, spooled=spooled)
        run = self._steps[task.step]
        if record.started_at is not None and record.finished_at is not None:
            run.seconds += (record.finished_at - record.started_at).total_seconds()
            run.attempts += 1
        if record.status in (TaskStatus.SUCCEEDED, TaskStatus.CAUGHT):
            run.done[task.index] = record
            if record.status is TaskStatus.CAUGHT:
                run.caught.add(task.index)
                self._progress.note(task.step, f"[yellow]{len(run.caught)} caught")
            self._progress.advance(task.step)
            self._settle(run)
            return
        retry = run.step.retry
        if retry.own(task.attempt) < retry.limit:
            self._progress.note(task.step, f"[yellow]retrying #{task.index}")
            delay = retry.delay(retry.own(task.attempt) + 1)
            self._tasks.push(task.step, task.index, task.attempt + 1, delay)
            return
        run.failed[task.index] = record
        self._progress.note(task.step, f"[red]{len(run.failed)} failed")
        self._settle(run)

    def _settle(self, run: StepRun) -> None:
        """End the step once every task has, and decide the steps waiting for it."""
        if run.state is not StepState.ACTIVE or len(run.done) + len(run.failed) < (run.width or 0):
            return
        run.state = StepState.FAILED if run.failed else StepState.SUCCEEDED
        self._records.flush(least=_FLUSHED_AT_STEP_END)
        self._ended(run)

    def _ended(self, run: StepRun) -> None:
        """Decide what waits for the step that just ended (and for its sub-pipeline)."""
        if run.step.group is not None:
            self._end_group(run.step.group)
        for downstream in self._pipeline.downstream(run.step.name):
            self._decide(downstream)

    def _end_group(self, group: str) -> None:
        """Once every step of a sub-pipeline call has ended: run it again if one of its
        branches failed and it may, or else decide the steps outside it that wait for it."""
        runs = [self._steps[step.name] for step in self._pipeline.group_steps(group)]
        if not all(run.ended for run in runs) or group in self._restarts:
            return
        retry = next(g for g in self._pipeline.groups if g.name == group).retry
        failed = call_failures(group, self._steps)
        if failed and self._group_runs[group] < retry.limit:
            self._group_runs[group] += 1
            self._restarts[group] = time.monotonic() + retry.delay(self._group_runs[group])
            for run in runs:
                self._progress.note(run.step.name, "[yellow]sub-pipeline runs again")
            return
        for run in runs:
            for downstream in self._pipeline.downstream(run.step.name):
                if self._steps[downstream].step.group != group:
                    self._decide(downstream)

    def _restart_due(self) -> None:
        """Run again the sub-pipeline calls whose backoff is over, all their steps afresh."""
        now = time.monotonic()
        for group, at in list(self._restarts.items()):
            if at > now:
                continue
            del self._restarts[group]
            steps = self._pipeline.group_steps(group)
            for step in steps:
                self._steps[step.name].reset(self._group_runs[group] * (step.retry.limit + 1))
            for step in steps:
                self._decide(step.name)

    def _waits_for_group(self, upstream: str, step: ir.Step) -> bool:
        """Whether ``upstream`` is in a sub-pipeline call (not ``step``'s) not yet over."""
        group = self._steps[upstream].step.group
        if group is None or group == step.group:
            return False
        runs = [self._steps[s.name] for s in self._pipeline.group_steps(group)]
        return group in self._restarts or not all(run.ended for run in runs)

    def _decide(self, name: str) -> None:
        """Activate or skip a waiting step once everything it needs has ended."""
        run = self._steps[name]
        step = run.step
        if run.state is not StepState.WAITING or (step.exit and not self._exiting):
            return
        needed = [
            upstream
            for upstream in step.upstream
            if not step.exit or self._steps[upstream].step.exit
        ]
        if not all(self._steps[upstream].ended for upstream in needed) or any(
            self._waits_for_group(upstream, step) for upstream in needed
        ):
            return
        reason = self._unmet_need(step, needed)
        try:
            if reason is None:
                condition = unmet_condition(self._view, step)
                reason = None if condition is None else f"condition {condition.describe()} is false"
        except ArgosyError as error:
            self._fail_step(run, error)
            return
        if reason is None:
            self._activate(name)
        else:
            self._skip(run, reason)

    def _unmet_need(self, step: ir.Step, needed: list[str]) -> str | None:
        """Why ``step`` cannot run after how the steps it needs ended; None when it can."""
        for upstream in needed:
            outcome = step.outcome(upstream)
            if not ended_as(self._as_seen_by(step, upstream), outcome):
                state = self._steps[upstream].state.value
                wanted = "" if outcome in ("succeeded", "one_of") else f" (it runs on {outcome})"
                return f"step {upstream!r} {state}{wanted}"
        for source in step.inputs.values():
            if isinstance(source, ir.OneOfInput) and not any(
                self._steps[branch].state is StepState.SUCCEEDED for branch in source.steps
            ):
                return f"none of steps {', '.join(source.steps)} ran"
        return None

    def _as_seen_by(self, step: ir.Step, upstream: str) -> StepRun:
        """How ``upstream`` ended as ``step`` waits for it: a step of another sub-pipeline call
        is waited for as that whole call (Argo runs the call as one DAG task), so it failed
        when a branch of the call failed for good."""
        run = self._steps[upstream]
        group = run.step.group
        if group is None or group == step.group or not call_failures(group, self._steps):
            return run
        return StepRun(run.step, state=StepState.FAILED, width=run.width)

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
            if run.step.resources_from:
                run.resources = [
                    task_resources(self._view, run.step, index) for index in range(run.width)
                ]
                self._check_gpus(run.step, run.resources)
        except ArgosyError as error:
            self._fail_step(run, error)
            return
        preset = self._preset.get(name, {})
        run.done.update({i: r for i, r in preset.items() if i < run.width})
        self._progress.total(name, run.width, done=len(run.done))
        for index in range(run.width):
            if index not in run.done:
                self._tasks.push(name, index, run.base_attempt)
        self._settle(run)

    def _check_gpus(self, step: ir.Step, resources: list[ir.Resources]) -> None:
        """ResourceError when a task asks, at run time, for more GPUs than the machine has."""
        wanted = max(r.gpu for r in resources)
        if wanted > len(self._capacity.gpus):
            raise ResourceError(
                f"step {step.name!r} decided at run time to ask for {wanted} GPU(s), but this "
                f"machine has {len(self._capacity.gpus)}; run it where there are GPUs (`argosy "
                "submit`)"
            )

    def _fail_step(self, run: StepRun, error: ArgosyError) -> None:
        """The step cannot start (its width, resources or conditions cannot be known)."""
        queued = self._tasks.task(run.step.name, 0, run.base_attempt)
        failure = self._failure(queued, datetime.now(UTC), str(error))
        run.width = 0
        self._records.add(failure)
        run.failed[0] = failure
        run.state = StepState.FAILED
        self._ended(run)

    def _skip(self, run: StepRun, reason: str) -> None:
        run.state = StepState.SKIPPED
        self._progress.note(run.step.name, "[dim]skipped")
        self._records.add(
            TaskRecord(
                run_id=self._options.run_id,
                step=run.step.name,
                attempt=run.base_attempt,
                status=TaskStatus.SKIPPED,
                error=f"skipped: {reason}",
            )
        )
        self._ended(run)


__all__ = ["RunOptions", "Scheduler"]
