"""Output records: which artifact a task produced, at the task's deterministic address.

A task that succeeds writes an `OutputRecord` at `argosy.store.addresses.output_key` (run, step,
index). Downstream tasks, fan-ins, the scheduler (for fan-out widths) and resume read it there,
so nobody has to ask the metadata service where an output is.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from argosy.errors import ArtifactNotFound
from argosy.metadata.schemas import TaskInput
from argosy.store.addresses import output_key
from argosy.store.base import ArtifactInfo, ArtifactStore


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


__all__ = ["OutputRecord", "find_output", "read_output", "write_output"]
