"""What a request needs from the app: the repository, and who is asking (bearer-token auth).

The operator's ``ARGOSY_ADMIN_TOKEN`` is added (hashed) as the first write token when the app
starts; ``argosy token create`` mints more. A read needs a token unless ``anonymous_reads`` is on;
a write always needs a write token. Known tokens are remembered for a minute, so a busy client
costs one token lookup a minute, not one per request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import Counter

from argosy.config import Settings
from argosy.errors import AuthError
from argosy.metadata.repository import Repository
from argosy.metadata.tokens import Scope, allows

_TOKEN_TTL_SECONDS = 60.0
_bearer = HTTPBearer(auto_error=False, description="A token from `argosy token create`.")


@dataclass
class ServiceState:
    """Everything the routes share, kept on ``app.state.argosy``."""

    settings: Settings
    repository: Repository
    tasks_recorded: Counter
    """Task records received by the bulk endpoint (a Prometheus counter)."""
    _scopes: dict[str, tuple[str, float]] = field(default_factory=dict)

    def scope_of(self, token: str) -> str | None:
        known = self._scopes.get(token)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        scope = self.repository.token_scope(token)
        if scope is not None:
            self._scopes[token] = (scope, time.monotonic() + _TOKEN_TTL_SECONDS)
        return scope


def state(request: Request) -> ServiceState:
    return request.app.state.argosy


def repository(request: Request) -> Repository:
    return state(request).repository


Repo = Annotated[Repository, Depends(repository)]
State = Annotated[ServiceState, Depends(state)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def token_scope(request: Request, credentials: Credentials) -> str:
    """The scope of the request's token, ``anonymous`` when it carries none and reads are open."""
    if credentials is None:
        if request.headers.get("authorization"):
            raise AuthError("the Authorization header must be 'Bearer <token>'")
        if state(request).settings.anonymous_reads:
            return "anonymous"
        raise AuthError("this service needs a token: send 'Authorization: Bearer <ARGOSY_TOKEN>'")
    scope = state(request).scope_of(credentials.credentials)
    if scope is None:
        raise AuthError("unknown token; mint one with `argosy token create --scope read|write`")
    return scope


def _require(needed: Scope):
    def check(scope: Annotated[str, Depends(token_scope)]) -> str:
        if scope == "anonymous" and needed == "read":
            return scope
        if scope == "anonymous":
            raise AuthError("writing needs a write token: send 'Authorization: Bearer <token>'")
        if not allows(scope, needed):
            raise AuthError(
                f"this token has {scope} scope; this request needs a {needed} token",
                status_code=403,
            )
        return scope

    return check


require_read = _require("read")
require_write = _require("write")

__all__ = [
    "Repo",
    "ServiceState",
    "State",
    "repository",
    "require_read",
    "require_write",
    "state",
    "token_scope",
]
