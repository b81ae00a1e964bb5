"""Small builders of metadata records for the tests."""

from __future__ import annotations

import hashlib
from typing import Any

from argosy.metadata.schemas import RunCreate, TaskInput, TaskRecord, TaskStatus
from argosy.metadata.sink import MetadataSink
from argosy.store.base import ArtifactInfo


def artifact(name: str, *, length: int | None = None) -> ArtifactInfo:
    """An artifact whose digest is derived from ``name`` (same name, same bytes)."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    return ArtifactInfo(digest=digest, format="json", type="builtins.list", size=10, length=length)


def run(
    run_id: str,
    pipeline: str = "demo",
    steps: tuple[str, ...] = ("load", "fit"),
    *,
    mapped: tuple[str, ...] = (),
    **fields: Any,
) -> RunCreate:
    """A run of a pipeline of ``steps``; those in ``mapped`` map over an argument ``x``."""
    ir = {
        "name": pipeline,
        "steps": [{"name": step} | ({"mapped": "x"} if step in mapped else {}) for step in steps],
    }
    version = hashlib.sha256(repr(ir).encode()).hexdigest()
    return RunCreate(
        id=run_id, pipeline=pipeline, pipeline_version=version, pipeline_ir=ir, **fields
    )


def task(
    run_id: str,
    step: str,
    index: int = 0,
    *,
    output: ArtifactInfo | None = None,
    inputs: dict[str, ArtifactInfo] | None = None,
    status: TaskStatus = TaskStatus.SUCCEEDED,
    **fields: Any,
) -> TaskRecord:
    return TaskRecord(
        run_id=run_id,
        step=step,
        index=index,
        status=status,
        output=output,
        inputs=[TaskInput(argument=k, artifact=v) for k, v in (inputs or {}).items()],
        **fields,
    )


def record_two_pipelines(sink: MetadataSink) -> dict[str, ArtifactInfo]:
    """Two pipelines sharing one artifact (the same bytes ``X``), as lineage tests need.

    ``train`` run r1: load -> X, fit(X) -> model.  ``score`` run r2: prep -> X, score(X) -> S.
    """
    a = {name: artifact(name) for name in ("raw", "X", "model", "S")}
    sink.create_run(run("r1", "train", ("load", "fit")))
    sink.create_run(run("r2", "score", ("prep", "score")))
    sink.record_tasks(
        [
            task("r1", "load", output=a["X"]),
            task("r1", "fit", output=a["model"], inputs={"X": a["X"]}),
            task("r2", "prep", output=a["X"], inputs={"raw": a["raw"]}),
            task("r2", "score", output=a["S"], inputs={"X": a["X"], "model": a["model"]}),
        ]
    )
    return a
