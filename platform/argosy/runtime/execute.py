"""`run_task`: execute one attempt of one task, from its inputs to its recorded output.

This is the only code that calls a step's function, in local workers and in Argo pods alike:
resolve the inputs, look the task up in the cache when caching is on, call the function with
its output captured and its context (``argosy.current``) set, store the output value and its
output record, record the attempt.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argosy import ir
from argosy.dsl import PipelineDefinition, load_pipeline
from argosy.errors import StoreError
from argosy.metadata.schemas import TaskInput, TaskRecord, TaskStatus
from argosy.metadata.sink import MetadataSink
from argosy.outputs import OutputRecord, write_output
from argosy.runtime.cache import cache_key
from argosy.runtime.capture import captured_output
from argosy.runtime.context import TaskContext, collecting_metrics, running_task
from argosy.runtime.decisions import task_resources
from argosy.runtime.inputs import RunView, resolve_inputs
from argosy.runtime.read_only import note_read_only_inputs
from argosy.runtime.scratch import task_scratch
from argosy.runtime.spec import TaskSpec
from argosy.runtime.threads import limited_threads
from argosy.store import save
from argosy.store.addresses import log_key
from argosy.store.base import ArtifactInfo, ArtifactStore
from argosy.store.fields import field_values, named_artifacts, save_fields

_ERROR_LIMIT = 8000
"""Characters of a traceback kept on the task record (the whole one is in the task's log)."""


@dataclass
class _Outcome:
    """What one attempt found out, gathered as it goes."""

    inputs: list[TaskInput] = field(default_factory=list)
    output: ArtifactInfo | None = None
    named_outputs: dict[str, ArtifactInfo] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    cache_key: str | None = None
    cache_hit: bool = False
    error: str | None = None
    log_key: str | None = None


def run_task(
    spec: TaskSpec,
    *,
    store: ArtifactStore,
    sink: MetadataSink,
    definition: PipelineDefinition | None = None,
    echo_logs: bool = False,
    capture_to: Path | None = None,
) -> TaskRecord:
    """Run one attempt of a task and record it; a failure of the task is recorded, not raised.

    ``definition`` saves loading the pipeline by reference again; ``echo_logs`` copies the
    captured output to this process's stderr afterwards (so pod logs show it too);
    ``capture_to`` is the file output is captured in (a temporary one by default).
    """
    if definition is None:
        definition = load_pipeline(spec.pipeline)
    step = definition.ir.step(spec.step)
    started = datetime.now(UTC)
    outcome = _Outcome()
    try:
        params = definition.resolve_parameters(spec.params)
        resolved = resolve_inputs(
            definition.ir,
            step,
            run_id=spec.run_id,
            index=spec.index,
            params=params,
            store=store,
            run_status=spec.run_status,
        )
        outcome.inputs = resolved.artifacts
        if spec.cache or step.cache:
            outcome.cache_key = cache_key(step, resolved)
            outcome.output = _cached_output(sink, store, outcome.cache_key)
            outcome.cache_hit = outcome.output is not None
        if outcome.output is None:
            function = definition.function(step.name)
            cpu = task_resources(
                RunView(definition.ir, spec.run_id, params, store), step, spec.index
            ).cpu
            context = TaskContext.of(spec, definition.ir)
            scratch = task_scratch(store.staging_dir())
            with limited_threads(cpu), running_task(context), scratch:
                _call(function, resolved.values, step, spec, store, outcome, echo_logs, capture_to)
        if outcome.output is not None:
            record = OutputRecord(
                artifact=outcome.output,
                task=spec.task_id,
                inputs=outcome.inputs,
                metrics=outcome.metrics,
            )
            write_output(store, spec.run_id, spec.step, spec.index, record)
            outcome.named_outputs = named_artifacts(store, outcome.output)
    except Exception as failure:  # resolving inputs or storing failed: so did the task
        outcome.error = _describe(failure)
    caught = outcome.error is not None and is_caught(step, spec.attempt)
    if caught:
        try:
            outcome.output = store_caught(store, spec, outcome.inputs)
        except StoreError as error:
            caught, outcome.error = False, f"{outcome.error}\n(its None output: {error})"
    record = _task_record(spec, started, outcome, caught=caught)
    sink.record_tasks([record])
    return record


def is_caught(step: ir.Step, attempt: int) -> bool:
    """Whether a failure of attempt ``attempt`` is caught: the step has ``catch`` and the
    attempt was its last try."""
    return step.catch and step.retry.own(attempt) == step.retry.limit


def store_caught(store: ArtifactStore, spec: TaskSpec, inputs: list[TaskInput]) -> ArtifactInfo:
    """A caught task's output, None, stored and recorded as any output: what reads it (a
    fan-in, a join, a condition) gets None, on either backend, with no special case."""
    artifact = save(store, None)
    record = OutputRecord(artifact=artifact, task=spec.task_id, inputs=inputs)
    write_output(store, spec.run_id, spec.step, spec.index, record)
    return artifact


def _call(
    function: Callable[..., Any],
    arguments: dict[str, Any],
    step: ir.Step,
    spec: TaskSpec,
    store: ArtifactStore,
    outcome: _Outcome,
    echo_logs: bool,
    capture_to: Path | None,
) -> None:
    """Call the step function and store its value, with metrics collected and output captured."""
    with collecting_metrics() as metrics, captured_output(capture_to) as captured:
        try:
            outcome.output = save_output(store, step, _returned(function, arguments))
        except (Exception, SystemExit) as failure:
            note_read_only_inputs(failure, arguments)
            traceback.print_exc()
            outcome.error = _describe(failure)
    outcome.metrics = metrics
    if captured.data:
        if echo_logs:
            os.write(2, captured.data)
        outcome.log_key = log_key(spec.run_id, spec.step, spec.index, spec.attempt)
        try:
            store.put_record(outcome.log_key, captured.data)
        except StoreError:
            outcome.log_key = None
            if outcome.error is None:
                raise
            # the task had failed already (often on the same store): keep that error, not this


def save_output(store: ArtifactStore, step: ir.Step, value: Any) -> ArtifactInfo:
    """Store what ``step`` returned: one artifact, or for named outputs one per field and the
    manifest that stands for them all (`argosy.store.fields`)."""
    if not step.outputs:
        return save(store, value)
    fields = {name: save(store, v) for name, v in field_values(value, step.outputs).items()}
    kind = type(value)
    return save_fields(store, fields, f"{kind.__module__}.{kind.__qualname__}")


def _returned(function: Callable[..., Any], arguments: dict[str, Any]) -> Any:
    """What the step function returned; ``sys.exit()`` or ``sys.exit(0)`` returns None."""
    try:
        return function(**arguments)
    except SystemExit as exit_:
        if exit_.code in (0, None):
            return None
        raise


def _cached_output(sink: MetadataSink, store: ArtifactStore, key: str) -> ArtifactInfo | None:
    """The output of an earlier task with the same cache key, if its bytes are still stored."""
    earlier = sink.find_cached(key)
    if earlier is None or earlier.output is None or not store.has(earlier.output.digest):
        return None
    return earlier.output


def _describe(failure: BaseException) -> str:
    return "".join(traceback.format_exception(failure))[-_ERROR_LIMIT:]


def _task_record(
    spec: TaskSpec, started: datetime, outcome: _Outcome, *, caught: bool
) -> TaskRecord:
    failed = outcome.error is not None and not caught
    status = TaskStatus.CAUGHT if caught else TaskStatus.FAILED if failed else TaskStatus.SUCCEEDED
    return TaskRecord(
        run_id=spec.run_id,
        step=spec.step,
        index=spec.index,
        attempt=spec.attempt,
        status=status,
        started_at=started,
        finished_at=datetime.now(UTC),
        inputs=outcome.inputs,
        output=None if failed else outcome.output,
        named_outputs={} if failed else outcome.named_outputs,
        metrics=outcome.metrics,
        cache_key=outcome.cache_key,
        cache_hit=outcome.cache_hit,
        error=outcome.error,
        log_key=outcome.log_key,
        gpu_fallback=spec.gpu_fallback,
    )


__all__ = ["is_caught", "run_task", "save_output", "store_caught"]
