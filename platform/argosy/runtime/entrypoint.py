"""The process entrypoint of one task (``python -m argosy task``), as Argo pods run it.

Opens the store and the metadata sink from `Settings`, installs the code package when one is
named, makes sure the run is recorded (idempotently: every pod of a run may be first), runs the
task with its output echoed to the pod's log as well, and writes the small output files Argo
reads: ``digest`` (the output artifact), ``length`` (the width of a fan-out over it) and, when
asked, ``value`` (the output as JSON, for a condition or a resource Argo decides on); for a step
with named outputs, ``length-<name>`` and ``value-<name>`` of each.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argosy.config import Settings
from argosy.dsl import PipelineDefinition, load_pipeline
from argosy.metadata import open_sink
from argosy.metadata.schemas import RunCreate, TaskRecord
from argosy.ownership import Ownership
from argosy.runtime.capture import limit_logs
from argosy.runtime.execute import run_task
from argosy.runtime.spec import TaskSpec
from argosy.store import load, open_store
from argosy.store.fields import FIELDS_FORMAT, field_infos


def run_record(
    definition: PipelineDefinition,
    run_id: str,
    params: dict[str, Any],
    *,
    ref: str,
    backend: str,
    ownership: Ownership,
    resumed_from: str | None = None,
    nonce: str | None = None,
) -> RunCreate:
    """How a run of ``definition`` is recorded when it starts (its IR, ref, parameters,
    project, owner and tags); its creator gives a ``nonce`` (`argosy.run_ids.new_nonce`), its
    pods none."""
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
        project=ownership.project,
        owner=ownership.owner,
        tags=list(ownership.tags),
    )


def run_entrypoint(
    spec: TaskSpec,
    settings: Settings,
    *,
    assignments: Sequence[str] = (),
    outputs_dir: Path | None = None,
    backend: str = "argo",
    write_value: bool = False,
    field_values: Sequence[str] = (),
    group_attempt: int = 0,
) -> TaskRecord:
    """Run the task ``spec`` names in this process and record it; the task's record.

    ``assignments``, when given, are the run parameters as the command line gives them
    (``NAME=VALUE``, JSON when it parses), read once the pipeline is loaded, instead of
    ``spec.params``. ``group_attempt`` counts the runs of the task's sub-pipeline call before
    this one (Argo retries its DAG): its attempts are numbered on from theirs. ``write_value``
    and ``field_values`` ask for the ``value`` files of the output and of named outputs.
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
    retry = definition.ir.step(spec.step).retry
    attempt = group_attempt * (retry.limit + 1) + spec.attempt  # `ir.Retry.own` reads it back
    spec = spec.model_copy(update={"params": params, "attempt": attempt})
    sink = open_sink(settings)
    ownership = Ownership(spec.project, spec.owner, tuple(spec.tags))
    sink.create_run(
        run_record(
            definition, spec.run_id, params, ref=spec.pipeline, backend=backend, ownership=ownership
        )
    )
    record = run_task(spec, store=store, sink=sink, definition=definition, echo_logs=True)
    if outputs_dir is not None and record.output is not None:
        outputs_dir.mkdir(parents=True, exist_ok=True)
        (outputs_dir / "digest").write_text(record.output.digest)
        fields = field_infos(store, record.output) if record.output.format == FIELDS_FORMAT else {}
        reported = {"": record.output} | {f"-{name}": info for name, info in fields.items()}
        for suffix, artifact in reported.items():
            if artifact.length is not None:
                (outputs_dir / f"length{suffix}").write_text(str(artifact.length))
        asked = ([""] if write_value else []) + [f"-{name}" for name in field_values]
        for suffix in asked:  # a caught task's None output has no named outputs: None each
            value = load(store, reported[suffix]) if suffix in reported else None
            _write_value(
                outputs_dir / f"value{suffix}", value, spec.step + suffix.replace("-", ".")
            )
    return record


MAX_VALUE_BYTES = 65_536
"""The most text an output parameter carries (Argo keeps it in the Workflow object)."""


def value_text(value: Any) -> str:
    """A value as Argo holds it in a parameter: a string as itself, anything else as JSON.

    Workflow parameters and the ``value`` output parameter both use this form, so conditions
    and resources read them alike, and a person typing a parameter in the Argo UI types the
    text itself; `argosy task` reads it back by the parameter's type.
    """
    return value if isinstance(value, str) else json.dumps(value, allow_nan=False)


def _write_value(path: Path, value: Any, step: str) -> None:
    """The output as `value_text`, for Argo's ``when`` and resource expressions to read."""
    scalar = value is None or isinstance(value, str | int | float | bool)
    text = value_text(value) if scalar else ""
    if not scalar or len(text) > MAX_VALUE_BYTES:
        print(
            f"[argosy] a condition or a resource on Argo reads the output {step!r}, so "
            f"it must be a str, number, bool or None under {MAX_VALUE_BYTES:,} bytes; it "
            f"returned a {type(value).__name__}",
            file=sys.stderr,
        )
        return
    path.write_text(text)


__all__ = ["MAX_VALUE_BYTES", "run_entrypoint", "run_record", "value_text"]
