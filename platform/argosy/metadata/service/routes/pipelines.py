"""``/api/v1/pipelines`` and ``/api/v1/pipeline-versions``: what pipelines and versions exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from argosy.metadata.schemas import PipelinePublic, PipelineVersionPublic
from argosy.metadata.service.deps import Repo, require_read

router = APIRouter(tags=["pipelines"], dependencies=[Depends(require_read)])


@router.get("/pipelines")
def list_pipelines(repo: Repo) -> list[PipelinePublic]:
    return repo.list_pipelines()


@router.get("/pipelines/{name}/versions")
def list_pipeline_versions(name: str, repo: Repo) -> list[PipelineVersionPublic]:
    return repo.list_pipeline_versions(name)


@router.get("/pipeline-versions/{digest}")
def get_pipeline_version(digest: str, repo: Repo) -> dict[str, Any]:
    """The pipeline IR (JSON) of this version."""
    return repo.get_pipeline_version(digest)


__all__ = ["router"]
