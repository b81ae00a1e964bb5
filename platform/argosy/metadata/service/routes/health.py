"""``/healthz`` (the process answers), ``/readyz`` (the database answers, at the right schema),
``/metrics`` (Prometheus) and ``/api/v1/auth`` (what the caller's token may do)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from argosy.metadata.schemas import TokenScope
from argosy.metadata.service.deps import Repo, token_scope

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "the database is unreachable"}})
def readyz(repo: Repo) -> dict[str, str]:
    repo.check()
    return {"status": "ready"}


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    body = generate_latest(request.app.state.prometheus)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/auth")
def auth(scope: Annotated[str, Depends(token_scope)]) -> TokenScope:
    return TokenScope(scope=scope)


__all__ = ["router"]
