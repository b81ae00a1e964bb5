"""Input resolution: the value of every argument of one task.

Parameters come from the run's parameters, literals from the IR, upstream outputs from the
store through their output records, a fan-in as the children ``0..width-1`` of the mapped step
in map order; the mapped argument then gives the task its item ``index``. Values stored with
pickle are unpickled only for a pipeline declared with ``allow_pickle=True``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import JsonValue

from argosy import ir
from argosy.errors import PipelineError
from argosy.metadata.schemas import TaskInput
from argosy.outputs import map_width, read_output
from argosy.store import load
from argosy.store.base import ArtifactInfo, ArtifactStore


@dataclass(frozen=True)
class ResolvedInputs:
    """A task's arguments, with what identifies them for lineage and for the cache key."""

    values: dict[str, Any] = field(default_factory=dict)
    """Argument name to the value the function receives."""
    artifacts: list[TaskInput] = field(default_factory=list)
    """The stored artifacts read (lineage); an item index when the task took one item."""
    plain: dict[str, JsonValue] = field(default_factory=dict)
    """Arguments that came from parameters or literals, as the function receives them."""


def resolve_inputs(
    pipeline: ir.Pipeline,
    step: ir.Step,
    *,
    run_id: str,
    index: int,
    params: Mapping[str, Any],
    store: ArtifactStore,
) -> ResolvedInputs:
    """The arguments of task ``index`` of ``step`` in run ``run_id``."""
    resolved = ResolvedInputs()
    for argument, source in step.inputs.items():
        item = index if argument == step.mapped else None
        if isinstance(source, ir.ParameterInput | ir.LiteralInput):
            value = params[source.name] if isinstance(source, ir.ParameterInput) else source.value
            value = _item(value, item, pipeline, step, argument)
            resolved.plain[argument] = value
        elif isinstance(source, ir.OutputInput):
            artifact = read_output(store, run_id, source.step, 0).artifact
            if item is None:
                value = load(store, artifact, allow_pickle=pipeline.allow_pickle)
            else:
                whole = _mapped_source(store, artifact, pipeline.allow_pickle)
                value = copy.deepcopy(_item(whole, item, pipeline, step, argument))
            resolved.artifacts.append(TaskInput(argument=argument, artifact=artifact, item=item))
        else:
            value = _fan_in(pipeline, source.step, argument, item, run_id, params, store, resolved)
        resolved.values[argument] = value
    return resolved


@lru_cache(maxsize=4)
def _mapped_source(store: ArtifactStore, artifact: ArtifactInfo, allow_pickle: bool) -> Any:
    """An upstream output a step is mapped over, loaded once per process: a worker runs many
    tasks of the same fan-out, and each takes one item of it (a copy, so none can change it)."""
    return load(store, artifact, allow_pickle=allow_pickle)


def _fan_in(
    pipeline: ir.Pipeline,
    producer: str,
    argument: str,
    item: int | None,
    run_id: str,
    params: Mapping[str, Any],
    store: ArtifactStore,
    resolved: ResolvedInputs,
) -> Any:
    """The outputs of the mapped ``producer`` in map order, or only child ``item`` of them."""
    width = map_width(pipeline, producer, run_id=run_id, params=params, store=store)
    if item is not None and not 0 <= item < width:
        raise PipelineError(
            f"task index {item} is out of range: step {producer!r} has {width} tasks",
            pipeline=pipeline.name,
            argument=argument,
        )
    children = [item] if item is not None else range(width)
    values = []
    for child in children:
        artifact = read_output(store, run_id, producer, child).artifact
        resolved.artifacts.append(TaskInput(argument=argument, artifact=artifact))
        values.append(load(store, artifact, allow_pickle=pipeline.allow_pickle))
    return values[0] if item is not None else values


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


__all__ = ["ResolvedInputs", "resolve_inputs"]
