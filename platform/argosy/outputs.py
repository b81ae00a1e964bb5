"""Output records: which artifact a task produced, at the task's deterministic address.

A task that succeeds writes an `OutputRecord` at `argosy.store.addresses.output_key` (run, step,
index). Downstream tasks, fan-ins, the scheduler and the client (for fan-out widths, through
`map_width`) and resume read it there, so nobody has to ask the metadata service where an
output is. The runtime writes these records; both backends and the client read them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from argosy import ir
from argosy.errors import ArtifactNotFound, PipelineError
from argosy.metadata.schemas import TaskInput
from argosy.store.addresses import output_key
from argosy.store.base import ArtifactInfo, ArtifactStore
from argosy.store.fields import output_part


class OutputRecord(BaseModel):
    """The artifact a task produced, and how it came to be."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    artifact: ArtifactInfo
    """The output value; ``artifact.length`` is the width of a fan-out over it."""
    task: str
    """Id of the task that computed it (an earlier one for cache hits and resumed clones)."""
    inputs: list[TaskInput] = Field(default_factory=list)
    """The artifacts that task read, so a clone keeps its lineage."""
    metrics: dict[str, float] = Field(default_factory=dict)


def write_output(
    store: ArtifactStore, run_id: str, step: str, index: int, record: OutputRecord
) -> None:
    """Record ``record`` as the output of task (run_id, step, index)."""
    store.put_record(output_key(run_id, step, index), record.model_dump_json().encode())


def find_output(store: ArtifactStore, run_id: str, step: str, index: int) -> OutputRecord | None:
    """The output record of task (run_id, step, index), or None if it has not succeeded."""
    data = store.get_record(output_key(run_id, step, index))
    return None if data is None else OutputRecord.model_validate_json(data)


def read_output(store: ArtifactStore, run_id: str, step: str, index: int) -> OutputRecord:
    """The output record of task (run_id, step, index); ArtifactNotFound if there is none."""
    record = find_output(store, run_id, step, index)
    if record is None:
        raise ArtifactNotFound(
            f"run {run_id!r} has no output of step {step!r} (index {index}): that task has not "
            f"succeeded; run its upstream steps first (or `argosy resume {run_id}`)"
        )
    return record


def output_artifact(
    store: ArtifactStore, run_id: str, step: str, index: int, field: str | None = None
) -> ArtifactInfo:
    """The artifact of task (run_id, step, index)'s output, or of its named output ``field``."""
    return output_part(store, read_output(store, run_id, step, index).artifact, field)


def map_width(
    pipeline: ir.Pipeline,
    step: str,
    *,
    run_id: str,
    params: Mapping[str, Any],
    store: ArtifactStore,
) -> int:
    """How many tasks the mapped ``step`` has: the length of its mapped argument's source (of
    each, when it zips several: they must be equal; their product when it crosses them).

    Known once that source is: a literal or parameter list at once, an upstream output when
    its task has succeeded (its recorded length), a fan-in when its mapped step's width is.
    """
    lengths = map_lengths(pipeline, step, run_id=run_id, params=params, store=store)
    if not lengths:
        return 1
    node = pipeline.step(step)
    if node.map_product:
        return math.prod(lengths)
    if len(set(lengths)) > 1:
        described = ", ".join(
            f"{argument} has {length}"
            for argument, length in zip(node.mapped_arguments, lengths, strict=True)
        )
        raise PipelineError(
            f"zips its mapped arguments, whose lengths differ ({described}); give lists of one "
            "length, or cross them with map(..., product=True)",
            pipeline=pipeline.name,
            step=step,
        )
    return lengths[0]


def map_lengths(
    pipeline: ir.Pipeline,
    step: str,
    *,
    run_id: str,
    params: Mapping[str, Any],
    store: ArtifactStore,
) -> list[int]:
    """The length of each mapped argument of ``step``'s source, in `ir.Step.mapped_arguments`
    order; empty for an unmapped step."""
    node = pipeline.step(step)
    return [
        _source_length(pipeline, node, argument, run_id=run_id, params=params, store=store)
        for argument in node.mapped_arguments
    ]


def _source_length(
    pipeline: ir.Pipeline,
    node: ir.Step,
    argument: str,
    *,
    run_id: str,
    params: Mapping[str, Any],
    store: ArtifactStore,
) -> int:
    source = node.inputs[argument]
    where = {"pipeline": pipeline.name, "step": node.name, "argument": argument}
    if isinstance(source, ir.FanInInput):
        return map_width(pipeline, source.step, run_id=run_id, params=params, store=store)
    if isinstance(source, ir.OutputInput):
        artifact = output_artifact(store, run_id, source.step, 0, source.field)
        if artifact.length is None:
            raise PipelineError(
                f"is mapped over the output {source.describe()}, a {artifact.type} with no "
                "length; return a list, tuple or array from that step",
                **where,
            )
        return artifact.length
    value = params[source.name] if isinstance(source, ir.ParameterInput) else source.value  # type: ignore[union-attr]
    if not isinstance(value, list):
        raise PipelineError(f"is mapped over a {type(value).__name__}, not a list", **where)
    return len(value)


__all__ = [
    "OutputRecord",
    "find_output",
    "map_lengths",
    "map_width",
    "output_artifact",
    "read_output",
    "write_output",
]
