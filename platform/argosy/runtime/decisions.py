"""What a run decides about a step from values it only knows while running: whether the
step's conditions hold (``with when(...)``), and the resources of each of its tasks
(``.with_resources(...)``).

The local scheduler asks these before it queues a step's tasks; on Argo the compiler writes
the same decisions as ``when`` and ``podSpecPatch`` expressions over the values the upstream
tasks report, so both backends decide alike.
"""

from __future__ import annotations

from typing import Any

from argosy import ir
from argosy.errors import PipelineError
from argosy.runtime.inputs import RunView


def unmet_condition(run: RunView, step: ir.Step) -> ir.Condition | None:
    """The first condition of ``step`` that does not hold, or None when all do."""
    for condition in step.when:
        try:
            holds = condition.holds(run.value(condition.subject))
        except PipelineError as error:
            raise PipelineError(str(error), pipeline=run.pipeline.name, step=step.name) from None
        if not holds:
            return condition
    return None


def task_resources(run: RunView, step: ir.Step, index: int) -> ir.Resources:
    """The resources task ``index`` of ``step`` asks for: its declared ones, with those decided
    at run time filled in (a fan-in gives task i its item i)."""
    if not step.resources_from:
        return step.resources
    decided: dict[str, Any] = {}
    for field, source in step.resources_from.items():
        if isinstance(source, ir.FanInInput):
            value = run.output(source.step, index, source.field)[0]
        else:
            value = run.value(source)
        decided[field] = _resource_value(field, value, run, step)
    try:
        return ir.Resources.model_validate({**step.resources.model_dump(), **decided})
    except ValueError as error:
        raise PipelineError(
            f"the resources decided at run time are not valid: {error}",
            pipeline=run.pipeline.name, step=step.name,
        ) from None  # fmt: skip


def _resource_value(field: str, value: Any, run: RunView, step: ir.Step) -> Any:
    """A decided value as `ir.Resources` takes it: memory as a quantity string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PipelineError(
            f"decides {field} at run time from a {type(value).__name__}; give a number or a "
            "Kubernetes quantity ('8Gi', '500m')",
            pipeline=run.pipeline.name, step=step.name, argument=field,
        )  # fmt: skip
    if field == "memory":
        return str(value)
    if field == "gpu" and isinstance(value, str):
        return int(value) if value.isdigit() else value
    return value


__all__ = ["task_resources", "unmet_condition"]
