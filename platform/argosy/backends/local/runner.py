"""`run_pipeline` and `resume_run`: a whole local run, from checks to the recorded outcome.

Before anything runs: parameters are checked, the store and the metadata are reached, what
earlier runners left in the spool is sent (`argosy.metadata.spool`), and GPU requests are
matched to this machine. Then the run is recorded, the warm pool is forked, the scheduler runs
every task, the task records are written in batches by a `RunRecorder` (with the run's
heartbeat), and the run's final status is recorded. Ctrl-C, SIGTERM and SIGHUP record the run
as cancelled and raise `RunInterrupted`, which says how to resume it; a failed, cancelled or
lost run can be resumed by id (see `argosy.runtime.resume`).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argosy import ir
from argosy.backends.local.gpu import gpu_fallback_steps, visible_gpus
from argosy.backends.local.outcomes import StepRun, failed_steps
from argosy.backends.local.pool import WorkerPool
from argosy.backends.local.progress import RunProgress
from argosy.backends.local.recorder import RunRecorder
from argosy.backends.local.result import RunResult, StepResult
from argosy.backends.local.scheduler import RunOptions, Scheduler
from argosy.backends.local.signals import StopSignals, signal_name
from argosy.backends.local.slots import Capacity, machine_memory
from argosy.config import Settings
from argosy.dsl import PipelineDefinition, load_pipeline
from argosy.dsl.loader import durable_ref
from argosy.errors import Conflict, MetadataError, PipelineError, RunInterrupted
from argosy.metadata import MetadataSink, open_reader, open_sink
from argosy.metadata.schemas import RunStatus, RunUpdate
from argosy.metadata.spool import Spool, replay_spools, spool_dir
from argosy.ownership import Ownership, resolve_ownership
from argosy.run_ids import new_nonce, new_run_id
from argosy.runtime.entrypoint import run_record
from argosy.runtime.imports import prepare_imports
from argosy.runtime.resume import clone_outputs, inherited_ownership, reusable_outputs
from argosy.store import ArtifactStore, open_store

_ID_ATTEMPTS = 3
"""Fresh ids tried when the one drawn is taken (a collision: 50 random bits a second make it
rare, and the nonce makes it an error, not a merge)."""


_ENDING_WAIT = 10.0
"""Seconds a stopped or failed run waits for the metadata store to take its end; after that,
the spool keeps it (a second Ctrl-C cuts the wait short too)."""


@dataclass(frozen=True)
class _Knobs:
    """How to run, as the command line's flags say."""

    max_workers: int | None
    cache: bool
    gpu_fallback: bool
    progress: bool
    ownership: Ownership


@dataclass(frozen=True)
class _Origin:
    """The run a resume continues."""

    run_id: str
    pipeline: ir.Pipeline


@dataclass(frozen=True)
class _Plan:
    """Everything decided before the first task starts."""

    definition: PipelineDefinition
    settings: Settings
    knobs: _Knobs
    origin: _Origin | None
    options: RunOptions
    capacity: Capacity


def run_pipeline(
    definition: PipelineDefinition,
    params: dict[str, Any],
    settings: Settings,
    *,
    max_workers: int | None = None,
    cache: bool = False,
    gpu_fallback: bool = False,
    progress: bool = True,
    ownership: Ownership | None = None,
) -> RunResult:
    """Run ``definition`` here on a warm pool of ``max_workers`` processes (default: CPUs).

    The run belongs to ``ownership`` (by default the pipeline's project and the current user,
    no tags; see `argosy.ownership.resolve_ownership`).
    """
    if ownership is None:
        ownership = resolve_ownership(definition.ir.project, user=settings.user)
    knobs = _Knobs(max_workers, cache, gpu_fallback, progress, ownership)
    return _run(definition, params, settings, knobs, None)


def resume_run(
    run_id: str,
    settings: Settings,
    *,
    max_workers: int | None = None,
    cache: bool = False,
    gpu_fallback: bool = False,
    progress: bool = True,
) -> RunResult:
    """A new run of run ``run_id``'s pipeline and parameters, taking over its finished tasks.

    The pipeline is loaded again from the reference the origin recorded; steps changed since
    then rerun, with their downstream (see `argosy.runtime.resume`). The new run keeps the
    origin's project, owner and tags.
    """
    reader = open_reader(settings)
    origin = reader.get_run(run_id)
    if origin.pipeline_ref is None:
        raise PipelineError(
            f"run {run_id!r} did not record where its pipeline is, so it cannot be resumed; "
            "start it again with `argosy run`"
        )
    definition = load_pipeline(origin.pipeline_ref)
    before = ir.Pipeline.model_validate(reader.get_pipeline_version(origin.pipeline_version))
    ownership = inherited_ownership(origin, user=settings.user)
    knobs = _Knobs(max_workers, cache, gpu_fallback, progress, ownership)
    return _run(definition, dict(origin.parameters), settings, knobs, _Origin(run_id, before))


def _run(
    definition: PipelineDefinition,
    params: dict[str, Any],
    settings: Settings,
    knobs: _Knobs,
    origin: _Origin | None,
) -> RunResult:
    started = time.monotonic()
    pipeline = definition.ir
    params = definition.resolve_parameters(params)
    store = open_store(settings)
    store.check()
    sink = open_sink(settings)
    sink.check()
    replayed = replay_spools(spool_dir(settings), sink)
    asks = any(s.resources.gpu or "gpu" in s.resources_from for s in pipeline.steps)
    gpus = visible_gpus() if asks else []
    fallback = gpu_fallback_steps(pipeline, gpus, fallback=knobs.gpu_fallback)
    slots = knobs.max_workers or settings.max_workers or os.cpu_count() or 1
    slots = min(slots, pipeline.max_parallel or slots)
    capacity = Capacity(slots=slots, memory=machine_memory(), gpus=gpus)
    give_imports = prepare_imports(
        pipeline, params, store, settings, resumed_from=None if origin is None else origin.run_id
    )
    options = RunOptions(
        run_id=_record_run(sink, definition, params, origin, knobs.ownership),
        pipeline_ref=definition.ref,
        params=params,
        cache=knobs.cache,
        gpu_fallback=frozenset(fallback),
        ownership=knobs.ownership,
    )
    give_imports(options.run_id)
    plan = _Plan(definition, settings, knobs, origin, options, capacity)
    spool = Spool(spool_dir(settings), options.run_id)
    records = RunRecorder(sink, spool, options.run_id, heartbeat_seconds=settings.heartbeat_seconds)
    with StopSignals() as signals:
        try:
            steps = _schedule(plan, store, records, signals)
        except KeyboardInterrupt as interrupt:
            name = signal_name(interrupt)
            _end_anyway(records, RunStatus.CANCELLED, f"stopped by {name}")
            raise RunInterrupted(options.run_id, name) from interrupt
        except BaseException as error:  # the run is recorded as ended, whatever stopped it
            _end_anyway(records, RunStatus.FAILED, f"{type(error).__name__}: {error}")
            raise
        failed = failed_steps(pipeline, steps)
        status = RunStatus.FAILED if failed else RunStatus.SUCCEEDED
        error = f"step(s) failed: {', '.join(failed)}" if failed else None
        records.close(RunUpdate(status=status, finished_at=datetime.now(UTC), error=error))
    return RunResult(
        run_id=options.run_id,
        pipeline=pipeline.name,
        status=status,
        steps={name: StepResult.of(run) for name, run in steps.items()},
        resumed_from=None if origin is None else origin.run_id,
        notes=capacity.notes(pipeline)
        + [f"step {name!r} ran without the GPUs it asks for (--gpu-fallback)" for name in fallback]
        + [f"recorded what the stopped runner of run {run} had left unsent" for run in replayed],
        seconds=time.monotonic() - started,
    )


def _record_run(
    sink: MetadataSink,
    definition: PipelineDefinition,
    params: dict[str, Any],
    origin: _Origin | None,
    ownership: Ownership,
) -> str:
    """Record a new run under a fresh id (another, should the id be taken); return the id."""
    for attempt in range(_ID_ATTEMPTS):
        run_id = new_run_id(definition.ir.name)
        record = run_record(
            definition,
            run_id,
            params,
            ref=durable_ref(definition),
            backend="local",
            ownership=ownership,
            resumed_from=None if origin is None else origin.run_id,
            nonce=new_nonce(),
        )
        try:
            sink.create_run(record)
        except Conflict:
            if attempt == _ID_ATTEMPTS - 1:
                raise
            continue
        return run_id
    raise AssertionError("unreachable")


def _schedule(
    plan: _Plan, store: ArtifactStore, records: RunRecorder, signals: StopSignals
) -> dict[str, StepRun]:
    """Run every task on a warm pool; the pool and its workers are gone when this returns."""
    preset = {}
    origin, options = plan.origin, plan.options
    if origin is not None:
        reusable = reusable_outputs(
            origin.pipeline,
            plan.definition.ir,
            origin=origin.run_id,
            params=options.params,
            store=store,
        )
        preset = clone_outputs(reusable, origin=origin.run_id, run_id=options.run_id, store=store)
        for clones in preset.values():
            for record in clones.values():
                records.add(record)
    pool = WorkerPool(plan.capacity.slots, plan.settings, plan.definition)
    try:
        with RunProgress(plan.definition.ir, enabled=plan.knobs.progress) as bars:
            scheduler = Scheduler(
                plan.definition.ir,
                options,
                pool=pool,
                store=store,
                records=records,
                progress=bars,
                capacity=plan.capacity,
                preset=preset,
                stop=signals.check,
            )
            return scheduler.run()
    finally:
        pool.close()


def _end_anyway(records: RunRecorder, status: RunStatus, error: str) -> None:
    """Record the run's end while another error is on its way out: the spool keeps what the
    metadata store does not take, and that error, not the store's, is the one to report."""
    with contextlib.suppress(MetadataError):
        update = RunUpdate(status=status, finished_at=datetime.now(UTC), error=error)
        records.close(update, wait=_ENDING_WAIT)


__all__ = ["new_run_id", "resume_run", "run_pipeline"]
