"""``/api/v1/runs``: create, update, tag, list (filters, id prefix, cursor pagination), and read
one run with the summary of its steps, its tasks a page at a time, attempts, metrics, events,
graph, and its diff with another run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from argosy.metadata.run_listing import MAX_PAGE
from argosy.metadata.run_views import MAX_TASK_PAGE, TASK_PAGE, RunDetail, TasksPage
from argosy.metadata.schemas import (
    INT32,
    LineageEdge,
    LineageGraph,
    MetricPublic,
    RunCreate,
    RunDiff,
    RunPublic,
    RunsPublic,
    RunStatus,
    RunTagsChange,
    RunUpdate,
    TaskRecord,
    TaskStatus,
)
from argosy.metadata.service.deps import Repo, require_read, require_write
from argosy.ownership import MAX_TAGS, OwnerName, ProjectName, Tag

router = APIRouter(prefix="/runs", tags=["runs"])
Read = [Depends(require_read)]
Write = [Depends(require_write)]


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=Write)
def create_run(run: RunCreate, repo: Repo) -> RunPublic:
    """Record a run; the same run again is a no-op, a different one under its id a 409."""
    repo.create_run(run)
    return repo.get_run(run.id)


@router.get("", dependencies=Read)
def list_runs(
    repo: Repo,
    pipeline: str | None = None,
    run_status: Annotated[RunStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: str | None = None,
    project: Annotated[ProjectName | None, Query(description="Only runs of this project.")] = None,
    owner: Annotated[
        OwnerName | None,
        Query(description="Only runs of this owner: `user:<name>` or `production`."),
    ] = None,
    tag: Annotated[
        list[Tag] | None,
        Query(
            max_length=MAX_TAGS, description="Only runs with this tag; repeat it: all must match."
        ),
    ] = None,
    id_prefix: Annotated[
        str | None,
        Query(min_length=1, max_length=128, description="Only runs whose id starts with this."),
    ] = None,
) -> RunsPublic:
    """Runs, newest first; pass ``next_cursor`` as ``cursor`` for the next page. Without
    ``owner``, every owner's runs."""
    return repo.list_runs(
        pipeline=pipeline,
        status=run_status,
        limit=limit,
        cursor=cursor,
        project=project,
        owner=owner,
        tags=tag or (),
        id_prefix=id_prefix,
    )


@router.get("/{run_id}", dependencies=Read)
def get_run(run_id: str, repo: Repo) -> RunDetail:
    """The run, with a summary of each step of its pipeline (task counts by status, retries,
    cache hits, clones, time, outputs), computed by the database."""
    run = repo.get_run(run_id)
    return RunDetail(**run.model_dump(), steps=repo.run_steps(run_id))


@router.post("/{run_id}/heartbeat", status_code=status.HTTP_204_NO_CONTENT, dependencies=Write)
def heartbeat(run_id: str, repo: Repo) -> None:
    """Say the run's runner is alive: a running run without a heartbeat for a while (the
    service's ``ARGOSY_LOST_AFTER_SECONDS``) reads as failed, and as running again on the next."""
    repo.heartbeat(run_id)


@router.patch("/{run_id}", dependencies=Write)
def update_run(run_id: str, update: RunUpdate, repo: Repo) -> RunPublic:
    """Change the run's status (an ended run cannot change to another end: 409)."""
    repo.update_run(run_id, update)
    return repo.get_run(run_id)


@router.post("/{run_id}/tags", dependencies=Write)
def update_tags(run_id: str, change: RunTagsChange, repo: Repo) -> RunPublic:
    """Add tags to the run and remove tags from it; the run with its tags now.

    A tag is 1 to 255 characters with no control character (newline, tab, ...) and no space at
    either end; a bad one is a 422 naming it. Adding a tag the run has, or removing one it has
    not, changes nothing. An unknown run is a 404.
    """
    return repo.update_tags(run_id, change)


@router.get("/{run_id}/tasks", dependencies=Read)
def list_tasks(
    run_id: str,
    repo: Repo,
    step: Annotated[str | None, Query(description="Only the tasks of this step.")] = None,
    task_status: Annotated[
        list[TaskStatus] | None,
        Query(alias="status", description="Only tasks in this status; repeat it: any may match."),
    ] = None,
    limit: Annotated[int, Query(ge=0, le=MAX_TASK_PAGE)] = TASK_PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
    inputs: Annotated[
        bool, Query(description="Include what each task read (false: leave it out).")
    ] = True,
) -> TasksPage:
    """One page of the run's tasks (latest attempt of each) in pipeline order, step by step,
    each by index; ask again from ``next_offset`` for the next. An unknown step is a 400
    naming the run's steps, an unknown status a 422 naming the statuses."""
    page = {"limit": limit, "offset": offset, "inputs": inputs}
    return repo.task_page(run_id, step=step, statuses=task_status or (), **page)


@router.get("/{run_id}/tasks/{step}/{index}/attempts", dependencies=Read)
def list_attempts(
    run_id: str, step: str, index: Annotated[int, Path(ge=0, le=INT32)], repo: Repo
) -> list[TaskRecord]:
    return repo.list_attempts(run_id, step, index)


@router.get("/{run_id}/metrics", dependencies=Read)
def metrics(run_id: str, repo: Repo) -> list[MetricPublic]:
    return repo.metrics(run_id)


@router.get("/{run_id}/graph", dependencies=Read)
def run_graph(run_id: str, repo: Repo) -> LineageGraph:
    """Every task of the run with the artifacts it read and wrote."""
    return repo.run_graph(run_id)


@router.get("/{run_id}/events", dependencies=Read)
def events(run_id: str, repo: Repo) -> list[LineageEdge]:
    """The run's input and output events, as data-flow edges."""
    return repo.run_graph(run_id).edges


@router.get("/{run_id}/diff/{other}", dependencies=Read)
def diff_runs(run_id: str, other: str, repo: Repo) -> RunDiff:
    """Parameters, pipeline version, outputs and metrics that differ from run ``other``."""
    return repo.diff_runs(run_id, other)


__all__ = ["router"]
