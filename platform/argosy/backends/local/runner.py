"""`run_pipeline` and `resume_run`: a whole local run, from checks to the recorded outcome.

Before anything runs: parameters are checked, the store and the metadata are reached, and GPU
requests are matched to this machine. Then the run is recorded, the warm pool is forked, the
scheduler runs every task, the task records are written in batches, and the run's final
status is recorded. A failed run can be resumed by id (see `argosy.backends.local.resume`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argosy import ir
from argosy.backends.local.gpu import gpu_fallback_steps, visible_gpus
from argosy.backends.local.pool import WorkerPool
from argosy.backends.local.progress import RunProgress
from argosy.backends.local.recorder import RecordBuffer
from argosy.backends.local.result import RunResult, StepResult
from argosy.backends.local.resume import clone_outputs, reusable_outputs
from argosy.backends.local.scheduler import RunOptions, Scheduler, StepState
from argosy.backends.local.slots import Capacity, machine_memory
from argosy.config import Settings
from argosy.dsl import PipelineDefinition, load_pipeline
from argosy.dsl.loader import durable_ref
from argosy.errors import PipelineError
from argosy.metadata import open_reader, open_sink
from argosy.metadata.schemas import RunStatus, RunUpdate
from argosy.run_ids import new_run_id
from argosy.runtime.entrypoint import run_record
from argosy.store import open_store


@dataclass(frozen=True)
class _Knobs:
    """How to run, as the command line's flags say."""

    max_workers: int | None
    cache: bool
    gpu_fallback: bool
    progress: bool


@dataclass(frozen=True)
class _Origin:
    """The run a resume continues."""

    run_id: str
    pipeline: ir.Pipeline


def run_pipeline(
    definition: PipelineDefinition,
    params: dict[str, Any],
    settings: Settings,
    *,
    max_workers: int | None = None,
    cache: bool = False,
    gpu_fallback: bool = False,
    progress: bool = True,
) -> RunResult:
    """Run ``definition`` here on a warm pool of ``max_workers`` processes (default: CPUs)."""
    knobs = _Knobs(max_workers, cache, gpu_fallback, progress)
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
    then rerun, with their downstream (see `argosy.backends.local.resume`).
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
    knobs = _Knobs(max_workers, cache, gpu_fallback, progress)
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
    gpus = visible_gpus() if any(s.resources.gpu for s in pipeline.steps) else []
    fallback = gpu_fallback_steps(pipeline, gpus, fallback=knobs.gpu_fallback)
    slots = knobs.max_workers or settings.max_workers or os.cpu_count() or 1
    slots = min(slots, pipeline.max_parallel or slots)
    capacity = Capacity(slots=slots, memory=machine_memory(), gpus=gpus)
    options = RunOptions(
        run_id=new_run_id(pipeline.name),
        pipeline_ref=definition.ref,
        params=params,
        cache=knobs.cache,
        gpu_fallback=frozenset(fallback),
    )
    sink.create_run(
        run_record(
            definition,
            options.run_id,
            params,
            ref=durable_ref(definition),
            backend="local",
            resumed_from=None if origin is None else origin.run_id,
        )
    )
    records = RecordBuffer(sink)
    pool: WorkerPool | None = None
    try:
        preset = {}
        if origin is not None:
            reusable = reusable_outputs(
                origin.pipeline, pipeline, origin=origin.run_id, params=params, store=store
            )
            preset = clone_outputs(
                reusable, origin=origin.run_id, run_id=options.run_id, store=store
            )
            for clones in preset.values():
                for record in clones.values():
                    records.add(record)
        pool = WorkerPool(slots, settings, definition)
        with RunProgress(pipeline, enabled=knobs.progress) as bars:
            scheduler = Scheduler(
                pipeline,
                options,
                pool=pool,
                store=store,
                records=records,
                progress=bars,
                capacity=capacity,
                preset=preset,
            )
            steps = scheduler.run()
    except BaseException as error:  # the run is recorded as ended, whatever stopped it
        records.flush()
        interrupted = isinstance(error, KeyboardInterrupt)
        sink.update_run(
            options.run_id,
            RunUpdate(
                status=RunStatus.CANCELLED if interrupted else RunStatus.FAILED,
                finished_at=datetime.now(UTC),
                error="interrupted" if interrupted else f"{type(error).__name__}: {error}",
            ),
        )
        raise
    finally:
        if pool is not None:
            pool.close()
    records.flush()
    succeeded = all(run.state is StepState.SUCCEEDED for run in steps.values())
    failed = [name for name, run in steps.items() if run.state is StepState.FAILED]
    sink.update_run(
        options.run_id,
        RunUpdate(
            status=RunStatus.SUCCEEDED if succeeded else RunStatus.FAILED,
            finished_at=datetime.now(UTC),
            error=None if succeeded else f"step(s) failed: {', '.join(failed)}",
        ),
    )
    return RunResult(
        run_id=options.run_id,
        pipeline=pipeline.name,
        status=RunStatus.SUCCEEDED if succeeded else RunStatus.FAILED,
        steps={name: StepResult.of(run) for name, run in steps.items()},
        resumed_from=None if origin is None else origin.run_id,
        notes=capacity.notes(pipeline)
        + [f"step {name!r} ran without the GPUs it asks for (--gpu-fallback)" for name in fallback],
        seconds=time.monotonic() - started,
    )


__all__ = ["new_run_id", "resume_run", "run_pipeline"]
