"""What a compiled CronWorkflow says about when it runs: the pipeline's schedule, or ``--schedule``.

`cron_schedule` picks the schedule a CronWorkflow gets (the one the pipeline declares, its
expressions replaced by ``--schedule`` when that is given), `resolve_schedule` refuses a
schedule without a CronWorkflow or a CronWorkflow without a schedule, and `cron_fields` spells
it as the fields of Argo's ``CronWorkflowSpec``. Argo's default timezone is the controller's;
the compiled CronWorkflow always names one (UTC unless the pipeline says otherwise), so it runs
at the same time on every cluster.
"""

from __future__ import annotations

from typing import Any, Literal

from argosy import ir
from argosy.errors import CompileError
from argosy.ir.schedule import check_schedule

_POLICIES = {"allow": "Allow", "forbid": "Forbid", "replace": "Replace"}
"""Argo's ``concurrencyPolicy`` for each of `ir.Schedule.concurrency`."""


def default_kind(pipeline: ir.Pipeline, override: str | None) -> Literal["cron", "workflow"]:
    """``cron`` for a pipeline with a schedule (declared, or given as ``override``), else
    ``workflow``: what ``argosy compile`` writes when no ``--kind`` is given."""
    return "cron" if pipeline.schedule is not None or override is not None else "workflow"


def resolve_schedule(pipeline: ir.Pipeline, kind: str, override: str | None) -> ir.Schedule | None:
    """The schedule of a compiled ``kind``: `cron_schedule` for a CronWorkflow, else None."""
    if kind == "cron":
        return cron_schedule(pipeline, override)
    if override is not None:
        raise CompileError(
            f"--schedule is only for --kind cron; pipeline {pipeline.name!r} would be "
            f"compiled to a {kind}"
        )
    return None


def cron_schedule(pipeline: ir.Pipeline, override: str | None) -> ir.Schedule:
    """The schedule of the pipeline's CronWorkflow: the declared one, or ``override``.

    ``override`` replaces the declared expressions, keeping the declared timezone, concurrency
    and deadline (UTC and ``allow`` when nothing is declared); it is checked as a declared one.
    """
    if override is not None:
        schedule = (pipeline.schedule or ir.Schedule()).model_copy(update={"crons": [override]})
        check_schedule(schedule, pipeline=pipeline.name)
        return schedule
    if pipeline.schedule is None:
        raise CompileError(
            f"a CronWorkflow needs a schedule: pipeline {pipeline.name!r} declares none; write "
            "@pipeline(schedule='0 3 * * *') or give --schedule '0 3 * * *'"
        )
    return pipeline.schedule


def cron_fields(schedule: ir.Schedule) -> dict[str, Any]:
    """The ``CronWorkflowSpec`` fields of ``schedule``, as Hera's `CronWorkflow` takes them."""
    return {
        "schedules": list(schedule.crons),
        "timezone": schedule.timezone,
        "concurrency_policy": _POLICIES[schedule.concurrency],
        "starting_deadline_seconds": schedule.starting_deadline_seconds,
    }


def check_kind(pipeline: ir.Pipeline, kind: str) -> None:
    """CompileError when ``pipeline`` cannot run as a ``kind``: a CronWorkflow or a
    WorkflowTemplate starts runs without a submitter, so without captured imports."""
    if pipeline.imports and kind != "workflow":
        names = ", ".join(item.name for item in pipeline.imports)
        made = "CronWorkflow" if kind == "cron" else "WorkflowTemplate"
        raise CompileError(
            f"pipeline {pipeline.name!r} imports outside data ({names}), which `argosy submit` "
            f"captures as it starts each run; a {made} starts runs without it. Read the data "
            "in a step instead (from S3, say), or start runs with `argosy submit`"
        )


__all__ = ["check_kind", "cron_fields", "cron_schedule", "default_kind", "resolve_schedule"]
