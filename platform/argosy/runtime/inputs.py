"""Input resolution: the value of every argument of one task.

Parameters come from the run's parameters, literals from the IR, upstream outputs from the
store through their output records (one named output alone when the argument reads a field), a
fan-in as the children ``0..width-1`` of the mapped step in map order (read several at once
from a remote store), a join (``one_of``) as the output of the first of its steps that
succeeded, the run's status from the scheduler or Argo, an import as a local path to the copy
the run captured; each mapped argument then gives the task its item, or the field of it the
step asked for (a ``catch`` step's task that failed for good left None as its output). Values
stored with pickle are unpickled only for a pipeline declared with ``allow_pickle=True``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import JsonValue

from argosy import ir
from argosy.errors import PipelineError
from argosy.metadata.schemas import TaskInput
from argosy.outputs import find_output, map_lengths, map_width, output_artifact
from argosy.runtime.imports import imported_artifact
from argosy.store import load
from argosy.store.base import ArtifactInfo, ArtifactStore
from argosy.store.concurrency import concurrently


@dataclass(frozen=True)
class ResolvedInputs:
    """A task's arguments, with what identifies them for lineage and for the cache key."""

    values: dict[str, Any] = field(default_factory=dict)
    """Argument name to the value the function receives."""
    artifacts: list[TaskInput] = field(default_factory=list)
    """The stored artifacts read (lineage); an item index when the task took one item."""
    plain: dict[str, JsonValue] = field(default_factory=dict)
    """Arguments that came from parameters, literals or the run's status, as received."""


@dataclass(frozen=True)
class RunView:
    """What a task's inputs are read from: its run, the run's parameters, the store."""

    pipeline: ir.Pipeline
    run_id: str
    params: Mapping[str, Any]
    store: ArtifactStore
    run_status: str | None = None
    """``succeeded`` or ``failed``: given to exit handlers."""

    def artifact(self, step: str, index: int = 0, field: str | None = None) -> ArtifactInfo:
        """The artifact of task ``index`` of ``step``'s output (its named output ``field``)."""
        return output_artifact(self.store, self.run_id, step, index, field)

    def output(
        self, step: str, index: int = 0, field: str | None = None
    ) -> tuple[Any, ArtifactInfo]:
        """The output value of task ``index`` of ``step`` (its named output ``field``), and its
        artifact."""
        artifact = self.artifact(step, index, field)
        return load(self.store, artifact, allow_pickle=self.pipeline.allow_pickle), artifact

    def value(self, source: ir.Subject) -> Any:
        """The value of a parameter or of an unmapped step's output."""
        if isinstance(source, ir.ParameterInput):
            return self.params[source.name]
        return self.output(source.step, field=source.field)[0]


def resolve_inputs(
    pipeline: ir.Pipeline,
    step: ir.Step,
    *,
    run_id: str,
    index: int,
    params: Mapping[str, Any],
    store: ArtifactStore,
    run_status: str | None = None,
) -> ResolvedInputs:
    """The arguments of task ``index`` of ``step`` in run ``run_id``."""
    run = RunView(pipeline, run_id, params, store, run_status)
    resolved = ResolvedInputs()
    items = mapped_items(run, step, index)
    for argument, source in step.inputs.items():
        item = items.get(argument)
        if isinstance(source, ir.ParameterInput | ir.LiteralInput):
            value = params[source.name] if isinstance(source, ir.ParameterInput) else source.value
            value = _item(value, item, pipeline, step, argument)
            resolved.plain[argument] = value
        elif isinstance(source, ir.RunStatusInput):
            value = resolved.plain[argument] = run_status
        elif isinstance(source, ir.OutputInput):
            value = _output(run, source, argument, item, step, resolved)
        elif isinstance(source, ir.OneOfInput):
            value = _one_of(run, source, argument, step, resolved)
        elif isinstance(source, ir.ImportInput):
            value = _imported(run, source, argument, resolved)
        else:
            value = _fan_in(run, source, argument, item, resolved)
        if argument in step.item_fields:
            value = _item_field(value, step.item_fields[argument], pipeline, step, argument)
        resolved.values[argument] = value
    return resolved


def mapped_items(run: RunView, step: ir.Step, index: int) -> dict[str, int]:
    """The item of each mapped argument that task ``index`` of ``step`` takes."""
    if step.mapped is None:
        return {}
    if not step.map_with:
        return {step.mapped: index}
    lengths = map_lengths(
        run.pipeline, step.name, run_id=run.run_id, params=run.params, store=run.store
    )
    width = map_width(
        run.pipeline, step.name, run_id=run.run_id, params=run.params, store=run.store
    )
    if not 0 <= index < width:
        raise PipelineError(
            f"task index {index} is out of range: the step has {width} tasks",
            pipeline=run.pipeline.name, step=step.name,
        )  # fmt: skip
    return step.items(index, lengths)


def _output(
    run: RunView,
    source: ir.OutputInput,
    argument: str,
    item: int | None,
    step: ir.Step,
    resolved: ResolvedInputs,
) -> Any:
    if item is None:
        value, artifact = run.output(source.step, field=source.field)
    else:
        artifact = run.artifact(source.step, field=source.field)
        whole = _mapped_source(run.store, artifact, run.pipeline.allow_pickle)
        value = copy.deepcopy(_item(whole, item, run.pipeline, step, argument))
    resolved.artifacts.append(TaskInput(argument=argument, artifact=artifact, item=item))
    return value


@lru_cache(maxsize=4)
def _mapped_source(store: ArtifactStore, artifact: ArtifactInfo, allow_pickle: bool) -> Any:
    """An upstream output a step is mapped over, loaded once per process: a worker runs many
    tasks of the same fan-out, and each takes one item of it (a copy, so none can change it)."""
    return load(store, artifact, allow_pickle=allow_pickle)


def _one_of(
    run: RunView, source: ir.OneOfInput, argument: str, step: ir.Step, resolved: ResolvedInputs
) -> Any:
    """The output of the first step of the join that succeeded."""
    for producer in source.steps:
        if find_output(run.store, run.run_id, producer, 0) is not None:
            return _output(run, ir.OutputInput(step=producer), argument, None, step, resolved)
    raise PipelineError(
        f"joins steps {', '.join(source.steps)}, and none of them has an output: none ran",
        pipeline=run.pipeline.name, step=step.name, argument=argument,
    )  # fmt: skip


def _imported(run: RunView, source: ir.ImportInput, argument: str, resolved: ResolvedInputs) -> Any:
    """A local path to the copy of outside data the run captured when it started."""
    artifact = imported_artifact(run.store, run.run_id, source.name)
    resolved.artifacts.append(TaskInput(argument=argument, artifact=artifact))
    return load(run.store, artifact)


def _fan_in(
    run: RunView, source: ir.FanInInput, argument: str, item: int | None, resolved: ResolvedInputs
) -> Any:
    """The outputs of the mapped step ``source`` reads in map order (each task's named output
    ``source.field``), or only child ``item`` of them."""
    producer = source.step
    width = map_width(run.pipeline, producer, run_id=run.run_id, params=run.params, store=run.store)
    if item is not None and not 0 <= item < width:
        raise PipelineError(
            f"task index {item} is out of range: step {producer!r} has {width} tasks",
            pipeline=run.pipeline.name,
            argument=argument,
        )
    children = [item] if item is not None else range(width)

    def read(child: int) -> tuple[Any, ArtifactInfo]:
        return run.output(producer, child, source.field)

    outputs = concurrently(run.store, read, children)
    resolved.artifacts.extend(TaskInput(argument=argument, artifact=a) for _, a in outputs)
    values = [value for value, _ in outputs]
    return values[0] if item is not None else values


def _item_field(value: Any, field: str, pipeline: ir.Pipeline, step: ir.Step, argument: str) -> Any:
    """Field ``field`` of one mapped item: a key of a mapping, or an attribute."""
    if isinstance(value, Mapping):
        if field in value:
            return value[field]
    elif field in _record_fields(value):
        return getattr(value, field)
    keys = f"; it has {', '.join(map(str, value))}" if isinstance(value, Mapping) else ""
    raise PipelineError(
        f"takes field {field!r} of each item, but an item is a {type(value).__name__} without "
        f"it{keys}",
        pipeline=pipeline.name, step=step.name, argument=argument,
    )  # fmt: skip


def _record_fields(value: Any) -> tuple[str, ...]:
    """The fields of a dataclass or NamedTuple item (no other attribute is a field)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(f.name for f in dataclasses.fields(value))
    return tuple(getattr(value, "_fields", ())) if isinstance(value, tuple) else ()


def _item(value: Any, item: int | None, pipeline: ir.Pipeline, step: ir.Step, argument: str) -> Any:
    if item is None:
        return value
    try:
        return value[item]
    except (IndexError, KeyError, TypeError):
        raise PipelineError(
            f"cannot take item {item} of a {type(value).__name__} to map over",
            pipeline=pipeline.name,
            step=step.name,
            argument=argument,
        ) from None


__all__ = ["ResolvedInputs", "RunView", "mapped_items", "resolve_inputs"]
