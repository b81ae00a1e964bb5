"""``/api/v1/artifacts``: register (idempotent by digest), find by digest prefix, read, and
lineage queries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from argosy.errors import Conflict
from argosy.metadata.lineage import UNBOUNDED_DEPTH
from argosy.metadata.reader import Direction
from argosy.metadata.run_listing import MAX_PAGE
from argosy.metadata.schemas import ArtifactCreate, ArtifactPublic, LineageGraph
from argosy.metadata.service.deps import Repo, require_read, require_write
from argosy.store.base import ArtifactInfo

router = APIRouter(prefix="/artifacts", tags=["artifacts"])


@router.get("", dependencies=[Depends(require_read)])
def find_artifacts(
    repo: Repo,
    prefix: Annotated[str, Query(min_length=1, max_length=64, description="A digest's start.")],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 10,
) -> list[str]:
    """Digests of recorded artifacts that start with ``prefix``, in order."""
    return repo.find_artifacts(prefix, limit)


@router.put("/{digest}", dependencies=[Depends(require_write)])
def put_artifact(digest: str, artifact: ArtifactCreate, repo: Repo) -> ArtifactPublic:
    """Register an artifact; registering a known digest again changes nothing."""
    if artifact.digest != digest:
        raise Conflict(f"the body's digest {artifact.digest} is not the path's {digest}")
    info = ArtifactInfo.model_validate(artifact.model_dump(exclude={"uri"}))
    repo.put_artifacts([info], uri=artifact.uri)
    return repo.get_artifact(digest)


@router.get("/{digest}", dependencies=[Depends(require_read)])
def get_artifact(digest: str, repo: Repo) -> ArtifactPublic:
    return repo.get_artifact(digest)


@router.get("/{digest}/lineage", dependencies=[Depends(require_read)])
def lineage(
    digest: str,
    repo: Repo,
    direction: Direction = "upstream",
    depth: Annotated[int | None, Query(ge=0, le=UNBOUNDED_DEPTH)] = None,
) -> LineageGraph:
    """Tasks and artifacts upstream (where it came from) or downstream (what it fed)."""
    return repo.lineage(digest, direction, depth)


__all__ = ["router"]
