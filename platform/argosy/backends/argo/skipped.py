"""The skipped steps of a finished Argo run, recorded as the local backend records them.

Argo skips a task whose ``when`` is false and omits one whose ``depends`` cannot hold; neither
runs a pod, so no task of it reports. When the run ends (its ``onExit``), every step of the
run's pipeline that has no task record gets a ``skipped`` one, with the reason read from how
the steps it needs ended.
"""

from __future__ import annotations

from argosy import ir
from argosy.metadata.reader import MetadataReader
from argosy.metadata.schemas import TaskRecord, TaskStatus
from argosy.metadata.sink import MetadataSink


def record_skipped(reader: MetadataReader, sink: MetadataSink, run_id: str) -> list[str]:
    """Record a skipped task for each step of run ``run_id`` that has none; their names."""
    run = reader.get_run(run_id)
    pipeline = ir.Pipeline.model_validate(reader.get_pipeline_version(run.pipeline_version))
    statuses = {
        step.name: {str(status) for status in step.statuses}
        for step in reader.run_steps(run_id)
        if step.tasks
    }
    skipped = []
    for step in pipeline.steps:
        if step.name in statuses:
            continue
        statuses[step.name] = {TaskStatus.SKIPPED.value}
        reason = skip_reason(step, statuses)
        skipped.append(
            TaskRecord(run_id=run_id, step=step.name, status=TaskStatus.SKIPPED, error=reason)
        )
    if skipped:
        sink.record_tasks(skipped)
    return [record.step for record in skipped]


def skip_reason(step: ir.Step, statuses: dict[str, set[str]]) -> str:
    """Why a step no task of which ran was skipped, from the task statuses of the steps it
    needs (steps skipped before it included)."""
    for upstream in step.upstream:
        ended = statuses.get(upstream, set())
        if TaskStatus.SKIPPED.value in ended and step.outcome(upstream) == "succeeded":
            return f"skipped: step {upstream!r} skipped"
        if TaskStatus.FAILED.value in ended and step.outcome(upstream) == "succeeded":
            return f"skipped: step {upstream!r} failed"
    if step.when:
        described = " and ".join(condition.describe() for condition in step.when)
        return f"skipped: condition {described} is false (or a step it needs did not end so)"
    return "skipped: the steps it needs did not end as it needs them to"


__all__ = ["record_skipped", "skip_reason"]
