"""Resume: which tasks of an earlier run a new run takes over, by reference, without recompute.

Both backends resume this way: the local runner and the Argo backend's `resume_run`.

A step's tasks are cloned when the step is unchanged since the origin run (same code
digest, inputs, mapping and image) and every step it reads was cloned whole; each task whose
output record exists in the origin run is cloned: a new output record pointing at the same
artifact (no bytes are copied) and a task record with ``cloned_from``. Everything else (failed,
skipped, changed steps and their downstream) runs again. So a pipeline edited since the origin
run reruns exactly the steps whose code or wiring changed, and what depends on them. The new
run belongs where the origin did: its project, owner and tags (`inherited_ownership`). A remote
store's records are read and written several at once (`argosy.store.concurrency`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from argosy import ir
from argosy.errors import ArgosyError
from argosy.metadata.schemas import RunPublic, TaskRecord, TaskStatus, task_id
from argosy.outputs import OutputRecord, find_output, map_width, write_output
from argosy.ownership import Ownership, user_owner
from argosy.store.base import ArtifactStore
from argosy.store.concurrency import concurrently
from argosy.store.fields import named_artifacts

_IDENTITY = {"code_digest", "inputs", "mapped", "image", "outputs", "item_fields"}


def _fingerprint(step: ir.Step) -> str:
    identity = step.model_dump(mode="json", include=_IDENTITY)
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def reusable_outputs(
    origin_pipeline: ir.Pipeline,
    pipeline: ir.Pipeline,
    *,
    origin: str,
    params: Mapping[str, Any],
    store: ArtifactStore,
) -> dict[str, dict[int, OutputRecord]]:
    """Per step, the origin run's output records the new run can take over."""
    before = {step.name: _fingerprint(step) for step in origin_pipeline.steps}
    reusable: dict[str, dict[int, OutputRecord]] = {}
    whole: set[str] = set()
    for step in pipeline.steps:
        if before.get(step.name) != _fingerprint(step) or not set(step.upstream) <= whole:
            continue
        try:
            width = map_width(pipeline, step.name, run_id=origin, params=params, store=store)
        except ArgosyError:
            continue
        found = concurrently(store, partial(find_output, store, origin, step.name), range(width))
        reusable[step.name] = {i: record for i, record in enumerate(found) if record is not None}
        if len(reusable[step.name]) == width:
            whole.add(step.name)
    return reusable


def inherited_ownership(origin: RunPublic, *, user: str | None) -> Ownership:
    """The project, owner and tags of the run that resumes ``origin``: the origin's (its tags
    as they are now); a run recorded without an owner goes to the current user (``user``)."""
    return Ownership(
        project=origin.project,
        owner=origin.owner or user_owner(user),
        tags=tuple(origin.tags),
    )


def clone_outputs(
    reusable: dict[str, dict[int, OutputRecord]], *, origin: str, run_id: str, store: ArtifactStore
) -> dict[str, dict[int, TaskRecord]]:
    """Point run ``run_id``'s output records at the reusable artifacts; the clones' task records."""
    now = datetime.now(UTC)
    clones: dict[str, dict[int, TaskRecord]] = {}
    for step, outputs in reusable.items():
        clone = partial(_clone, store, origin=origin, run_id=run_id, step=step, now=now)
        records = concurrently(store, clone, list(outputs.items()))
        clones[step] = {record.index: record for record in records}
    return clones


def _clone(
    store: ArtifactStore,
    task: tuple[int, OutputRecord],
    *,
    origin: str,
    run_id: str,
    step: str,
    now: datetime,
) -> TaskRecord:
    """Write run ``run_id``'s output record of task ``task`` (its index and its output in run
    ``origin``) of ``step``; the clone's task record."""
    index, output = task
    write_output(store, run_id, step, index, output)
    return TaskRecord(
        run_id=run_id,
        step=step,
        index=index,
        status=TaskStatus.SUCCEEDED,
        started_at=now,
        finished_at=now,
        inputs=output.inputs,
        output=output.artifact,
        named_outputs=named_artifacts(store, output.artifact),
        metrics=output.metrics,
        cloned_from=task_id(origin, step, index),
    )


__all__ = ["clone_outputs", "inherited_ownership", "reusable_outputs"]
