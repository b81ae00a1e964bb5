"""``/ui/runs/{run_id}/tasks/{step}/{index}``: one task: its attempts and their timings, what it
read and wrote, its metrics and its log; and the log itself, whole (``.../log``) or from an
offset as JSON (``.../log.json``), which the page polls while the attempt is running.

A log is read as `argosy.Client` reads it (a task cloned by a resume shows the log of the task
it was cloned from). The page shows the last `LOG_TAIL_CHARACTERS` of it and links the whole.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from argosy.client import Client
from argosy.client_views import Task
from argosy.errors import ArgosyError, NotFound
from argosy.metadata.schemas import INT32, TaskPublic, TaskRecord, TaskStatus
from argosy.previews import preview
from argosy.web.auth import DataViewer, PageViewer
from argosy.web.pages.run import argo_url
from argosy.web.render import SECURITY_HEADERS, page
from argosy.web.sources import Data, Sources
from argosy.web.urls import UI_PREFIX

router = APIRouter(include_in_schema=False)
TASK_PATH = f"{UI_PREFIX}/runs/{{run_id}}/tasks/{{step}}/{{index}}"
LOG_TAIL_CHARACTERS = 64 * 1024
Index = Annotated[int, Path(ge=0, le=INT32)]
Attempt = Annotated[int | None, Query(ge=0, le=INT32)]


def _attempts(data: Sources, run_id: str, step: str, index: int) -> list[TaskRecord]:
    data.repository.get_run(run_id)  # NotFound naming the run, if that is what is missing
    return data.repository.list_attempts(run_id, step, index)


def _chosen(attempts: list[TaskRecord], attempt: int | None) -> TaskRecord:
    if attempt is None:
        return attempts[-1]
    for record in attempts:
        if record.attempt == attempt:
            return record
    known = ", ".join(str(record.attempt) for record in attempts)
    raise NotFound(f"task {attempts[0].task_id} has no attempt {attempt}; it has {known}")


def _log(data: Sources, attempts: list[TaskRecord], chosen: TaskRecord) -> str | None:
    """The chosen attempt's log; None when there is none (yet)."""
    latest = attempts[-1]
    task = TaskPublic.model_validate(
        {**latest.model_dump(), "id": latest.task_id, "attempts": len(attempts)}
    )
    client = Client(data.settings, reader=data.repository, store=data.store, owner=None)
    try:
        return Task(client, task).logs(chosen.attempt)
    except ArgosyError:  # not written yet, a cache hit, or the store is unreachable from here
        return None


@router.get(TASK_PATH)
def task_page(
    request: Request,
    data: Data,
    _viewer: PageViewer,
    run_id: str,
    step: str,
    index: Index,
    attempt: Attempt = None,
) -> Response:
    attempts = _attempts(data, run_id, step, index)
    chosen = _chosen(attempts, attempt)
    run = data.repository.get_run(run_id)
    log = _log(data, attempts, chosen)
    store = data.store
    outputs = {"output": chosen.output, **chosen.named_outputs} if chosen.output else {}
    return page(
        request,
        "task.html",
        run=run,
        task=chosen,
        attempts=attempts,
        latest=attempts[-1],
        outputs={name: (info, preview(store, info)) for name, info in outputs.items()},
        log=None if log is None else log[-LOG_TAIL_CHARACTERS:],
        log_length=0 if log is None else len(log),
        running=chosen.status == TaskStatus.RUNNING,
        argo_url=argo_url(data.settings.argo_ui_url, run),
    )


@router.get(f"{TASK_PATH}/log")
def task_log(
    data: Data, _viewer: PageViewer, run_id: str, step: str, index: Index, attempt: Attempt = None
) -> Response:
    """The whole log of the attempt, as text."""
    attempts = _attempts(data, run_id, step, index)
    chosen = _chosen(attempts, attempt)
    log = _log(data, attempts, chosen)
    if log is None:
        raise NotFound(f"no log recorded for task {chosen.task_id}, attempt {chosen.attempt}")
    return PlainTextResponse(log, headers=SECURITY_HEADERS)


@router.get(f"{TASK_PATH}/log.json")
def task_log_tail(
    data: Data,
    _viewer: DataViewer,
    run_id: str,
    step: str,
    index: Index,
    attempt: Attempt = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The attempt's log from character ``offset`` on, the offset to ask from next, and whether
    the attempt is still running (the page stops asking when it is not)."""
    attempts = _attempts(data, run_id, step, index)
    chosen = _chosen(attempts, attempt)
    log = _log(data, attempts, chosen) or ""
    start = offset if offset <= len(log) else 0  # a log that shrank was rewritten: start over
    body = {
        "text": log[start:],
        "offset": len(log),
        "restart": start != offset,
        "running": chosen.status == TaskStatus.RUNNING,
        "status": chosen.status.value,
    }
    return JSONResponse(body, headers=SECURITY_HEADERS)


__all__ = ["LOG_TAIL_CHARACTERS", "router"]
