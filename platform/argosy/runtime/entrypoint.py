"""The process entrypoint of one task (``python -m argosy task``), as Argo pods run it.

Opens the store and the metadata sink from `Settings`, installs the code package when one is
named, makes sure the run is recorded (idempotently: every pod of a run may be first), runs the
task with its output echoed to the pod's log as well, and writes the small output files Argo
reads: ``digest`` (the output artifact) and ``length`` (the width of a fan-out over it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argosy.config import Settings
from argosy.dsl import PipelineDefinition, load_pipeline
from argosy.metadata import open_sink
from argosy.metadata.schemas import RunCreate, TaskRecord
from argosy.runtime.capture import limit_logs
from argosy.runtime.execute import run_task
from argosy.runtime.spec import TaskSpec
from argosy.store import open_store


def run_record(
    definition: PipelineDefinition,
    run_id: str,
    params: dict[str, Any],
    *,
    ref: str,
    backend: str,
    resumed_from: str | None = None,
    nonce: str | None = None,
) -> RunCreate:
    """How a run of ``definition`` is recorded when it starts (its IR, ref and parameters);
    its creator gives a ``nonce`` (`argosy.run_ids.new_nonce`), its pods none."""
    pipeline = definition.ir
    return RunCreate(
        id=run_id,
        pipeline=pipeline.name,
        pipeline_version=pipeline.digest(),
        pipeline_ir=pipeline.model_dump(mode="json"),
        pipeline_ref=ref,
        parameters=params,
        backend=backend,
        resumed_from=resumed_from,
        nonce=nonce,
        started_at=datetime.now(UTC),
    )


def run_entrypoint(
    spec: TaskSpec,
    settings: Settings,
    *,
    assignments: Sequence[str] = (),
    outputs_dir: Path | None = None,
    backend: str = "argo",
) -> TaskRecord:
    """Run the task ``spec`` names in this process and record it; the task's record.

    ``assignments``, when given, are the run parameters as the command line gives them
    (``NAME=VALUE``, JSON when it parses), read once the pipeline is loaded, instead of
    ``spec.params``.
    """
    limit_logs(settings.max_log_bytes)
    store = open_store(settings)
    if spec.code_package is not None:
        from argosy.code_package import install

        install(store, spec.code_package)
    definition = load_pipeline(spec.pipeline)
    params = (
        definition.parse_params(assignments)
        if assignments
        else definition.resolve_parameters(spec.params)
    )
    spec = spec.model_copy(update={"params": params})
    sink = open_sink(settings)
    sink.create_run(run_record(definition, spec.run_id, params, ref=spec.pipeline, backend=backend))
    record = run_task(spec, store=store, sink=sink, definition=definition, echo_logs=True)
    if outputs_dir is not None and record.output is not None:
        outputs_dir.mkdir(parents=True, exist_ok=True)
        (outputs_dir / "digest").write_text(record.output.digest)
        if record.output.length is not None:
            (outputs_dir / "length").write_text(str(record.output.length))
    return record


__all__ = ["run_entrypoint", "run_record"]
