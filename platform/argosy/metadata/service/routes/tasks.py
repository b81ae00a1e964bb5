"""``/api/v1/tasks`` (the sink's bulk record endpoint) and ``/api/v1/cache`` (cache lookup)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from argosy.errors import NotFound
from argosy.metadata.schemas import TaskBatch, TaskRecord, TasksRecorded
from argosy.metadata.service.deps import Repo, State, require_read, require_write

router = APIRouter(tags=["tasks"])


@router.post("/tasks", dependencies=[Depends(require_write)])
def record_tasks(batch: TaskBatch, service: State) -> TasksRecorded:
    """Record task attempts in one transaction; records already there are skipped."""
    service.repository.record_tasks(batch.tasks)
    service.tasks_recorded.inc(len(batch.tasks))
    return TasksRecorded(recorded=len(batch.tasks))


@router.get("/cache/{cache_key}", dependencies=[Depends(require_read)])
def find_cached(cache_key: str, repo: Repo) -> TaskRecord:
    """The newest succeeded attempt recorded under this cache key; 404 if none."""
    found = repo.find_cached(cache_key)
    if found is None:
        raise NotFound(f"nothing is cached under {cache_key}")
    return found


__all__ = ["router"]
