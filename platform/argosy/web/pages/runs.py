"""``/ui/runs``: runs, newest first, filtered by pipeline, status, project, owner, tag and age,
a page at a time; two of them ticked open their diff. Refreshes itself while a run it lists is
running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from argosy.errors import MetadataError
from argosy.metadata.schemas import RunPublic, RunStatus
from argosy.web.auth import PageViewer
from argosy.web.render import page
from argosy.web.sources import Data
from argosy.web.urls import UI_PREFIX, diff_url

router = APIRouter(include_in_schema=False)
PAGE = 50
AGES = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
"""The choices of the age filter: runs started within this long of now."""
LIVE = (RunStatus.PENDING, RunStatus.RUNNING)


@router.get(f"{UI_PREFIX}/runs")
def runs_page(
    request: Request,
    data: Data,
    _viewer: PageViewer,
    pipeline: str = "",
    status: str = "",
    project: str = "",
    owner: str = "",
    tag: str = "",
    age: str = "",
    cursor: str = "",
) -> Response:
    if status and status not in RunStatus.__members__.values():
        raise MetadataError(f"no run status {status!r}; a run is one of {', '.join(RunStatus)}")
    if age and age not in AGES:
        raise MetadataError(f"no age {age!r}; choose one of {', '.join(AGES)}")
    found = data.repository.list_runs(
        pipeline=pipeline or None,
        status=RunStatus(status) if status else None,
        limit=PAGE,
        cursor=cursor or None,
        project=project or None,
        owner=owner or None,
        tags=[tag] if tag else (),
    )
    runs, next_cursor = found.data, found.next_cursor
    if age:
        runs, next_cursor = _since(runs, next_cursor, datetime.now(UTC) - AGES[age])
    filters = {
        "pipeline": pipeline,
        "status": status,
        "project": project,
        "owner": owner,
        "tag": tag,
        "age": age,
    }
    return page(
        request,
        "runs.html",
        runs=runs,
        count=None if age else found.count,
        next_cursor=next_cursor,
        filters=filters,
        pipelines=[p.name for p in data.repository.list_pipelines()],
        statuses=list(RunStatus),
        ages=list(AGES),
        has_projects=any(run.project for run in runs),
        live=any(run.status in LIVE for run in runs),
    )


def _since(
    runs: list[RunPublic], next_cursor: str | None, cutoff: datetime
) -> tuple[list[RunPublic], str | None]:
    """The runs started after ``cutoff`` (newest first, so the first older one ends the list)."""
    for position, run in enumerate(runs):
        if run.started_at is not None and run.started_at < cutoff:
            return runs[:position], None
    return runs, next_cursor


@router.get(f"{UI_PREFIX}/diff")
def pick_diff(
    request: Request,
    data: Data,
    _viewer: PageViewer,
    run: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """The compare form of the runs list: exactly two runs ticked open their diff, the older
    one as A."""
    picked = [data.repository.get_run(run_id) for run_id in dict.fromkeys(run or [])]
    if len(picked) != 2:
        raise MetadataError(
            f"tick two runs to compare, not {len(picked)}; go back to the list of runs"
        )
    a, b = sorted(picked, key=lambda r: (r.started_at is None, r.started_at or datetime.min))
    return RedirectResponse(diff_url(request.scope.get("root_path", ""), a.id, b.id), 303)


__all__ = ["router"]
