"""``/ui/runs/{run_id}``: one run: its graph of steps (status colours, durations, map widths,
cache hits, clones), parameters, and its tasks a page at a time.

The steps come from the database's per-step summaries (`MetadataReader.run_steps`) and the
tasks from one page of the paged listing, so the page costs the same for a run of 10 tasks as
for one of 100,000. It refreshes itself while the run is live.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from argosy import ir
from argosy.errors import NotFound
from argosy.metadata.run_views import StepSummary
from argosy.metadata.schemas import INT32, RunPublic, TaskStatus
from argosy.web.auth import PageViewer
from argosy.web.graph import TIMES, Node, layout
from argosy.web.render import between, duration, page
from argosy.web.sources import Data
from argosy.web.urls import UI_PREFIX, argo_workflow_url, run_url

router = APIRouter(include_in_schema=False)
TASKS_PER_PAGE = 50
STATUS_ORDER = (
    TaskStatus.SUCCEEDED,
    TaskStatus.CAUGHT,
    TaskStatus.RUNNING,
    TaskStatus.FAILED,
    TaskStatus.SKIPPED,
)
LIVE = ("pending", "running")


@router.get(f"{UI_PREFIX}/runs/{{run_id}}")
def run_page(
    request: Request,
    data: Data,
    _viewer: PageViewer,
    run_id: str,
    step: str = "",
    status: str = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=INT32 // TASKS_PER_PAGE)] = 1,
) -> Response:
    run = data.repository.get_run(run_id)
    steps = data.repository.run_steps(run_id)
    if step and step not in {summary.name for summary in steps}:
        known = ", ".join(summary.name for summary in steps)
        raise NotFound(f"run {run_id} has no step {step!r}; its steps are {known}")
    statuses = TaskStatus.parse([status] if status else [])
    matching = sum(
        count
        for summary in steps
        if not step or summary.name == step
        for state, count in summary.statuses.items()
        if not statuses or state in statuses
    )
    tasks = data.repository.list_tasks(
        run_id,
        step=step or None,
        statuses=statuses,
        limit=TASKS_PER_PAGE,
        offset=(page_number - 1) * TASKS_PER_PAGE,
        inputs=False,  # the table does not show them; a fan-in may have read 100,000
    )
    root = request.scope.get("root_path", "")
    pipeline = data.pipeline(run.pipeline_version)
    drawing = layout(
        [_step_node(summary, run_url(root, run_id)) for summary in steps], _step_edges(pipeline)
    )
    return page(
        request,
        "run.html",
        run=run,
        steps=steps,
        states={summary.name: step_state(summary) for summary in steps},
        drawing=drawing,
        tasks=tasks,
        matching=matching,
        page_number=page_number,
        pages=max(1, -(-matching // TASKS_PER_PAGE)),
        filters={"step": step, "status": status},
        task_statuses=list(TaskStatus),
        argo_url=argo_url(data.settings.argo_ui_url, run),
        live=run.status in LIVE,
    )


def step_state(summary: StepSummary) -> str:
    """One word for the colour of a step: a task running or failed shows first, then whether
    it has run at all, then how it ended."""
    counts = summary.statuses
    for state in (TaskStatus.RUNNING, TaskStatus.FAILED):
        if counts.get(state):
            return state.value
    if not summary.tasks:
        return "pending"
    if counts.get(TaskStatus.SKIPPED) == summary.tasks:
        return TaskStatus.SKIPPED.value
    return TaskStatus.CAUGHT.value if counts.get(TaskStatus.CAUGHT) else "succeeded"


def step_detail(summary: StepSummary) -> str:
    """``x4 · 1.20 s · 2 cached · 1 cloned · 1 retried``: what a step's box says under its name."""
    parts = [f"{TIMES}{summary.tasks:,}"] if summary.mapped else []
    if summary.started_at is not None:
        parts.append(duration(_span(summary)))
    elif not summary.tasks:
        parts.append("not started")
    for count, word in (
        (summary.cache_hits, "cached"),
        (summary.cloned, "cloned"),
        (summary.retried, "retried"),
    ):
        if count:
            parts.append(f"{count:,} {word}")
    return " · ".join(parts)


def _span(summary: StepSummary) -> float | None:
    """Wall-clock seconds of the step: its first start to its last finish, or to now while a
    task of it runs."""
    if summary.finished_at is None and not summary.statuses.get(TaskStatus.RUNNING):
        return summary.seconds
    return between(summary.started_at, summary.finished_at)


def _step_node(summary: StepSummary, run_page_url: str) -> Node:
    bar = [(state.value, summary.statuses.get(state, 0)) for state in STATUS_ORDER]
    detail = step_detail(summary)
    return Node(
        id=summary.name,
        label=summary.name,
        detail=detail,
        kind=step_state(summary),
        href=f"{run_page_url}?{urlencode({'step': summary.name})}#tasks",
        bar=bar,
        title=f"{summary.name}: {step_state(summary)}, {detail}",
    )


def _step_edges(pipeline: ir.Pipeline | None) -> list[tuple[str, str]]:
    if pipeline is None:
        return []
    return [(upstream, step.name) for step in pipeline.steps for upstream in step.upstream]


def argo_url(argo_ui: str | None, run: RunPublic) -> str | None:
    if not argo_ui or not run.workflow_name or not run.namespace:
        return None
    return argo_workflow_url(argo_ui, run.namespace, run.workflow_name)


__all__ = ["argo_url", "router", "step_detail", "step_state"]
