"""``/api/v1/tokens``: list and revoke the service's bearer tokens (a write token's right)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from argosy.metadata.schemas import TokenPublic
from argosy.metadata.service.deps import Repo, State, require_write

router = APIRouter(prefix="/tokens", tags=["tokens"], dependencies=[Depends(require_write)])


@router.get("")
def list_tokens(repo: Repo) -> list[TokenPublic]:
    """Every token the service accepts: id, name, scope and creation time, never the token."""
    return repo.list_tokens()


@router.delete(
    "/{id_or_name}",
    responses={
        404: {"description": "no token has this id or name"},
        409: {"description": "several tokens have this name: revoke one by id"},
    },
)
def revoke_token(id_or_name: str, service: State) -> TokenPublic:
    """Stop accepting a token, named by its id or its (unique) name; answers the revoked token.

    This instance refuses it at once, other instances within their token cache (10 s). The
    admin token is back when the service restarts with the same ``ARGOSY_ADMIN_TOKEN``.
    """
    revoked = service.repository.revoke_token(id_or_name)
    service.forget(revoked.id)
    return revoked


__all__ = ["router"]
