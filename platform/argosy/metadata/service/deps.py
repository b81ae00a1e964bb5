"""What a request needs from the app: the repository, and who is asking (bearer-token auth).

The operator's ``ARGOSY_ADMIN_TOKEN`` becomes the admin write token when the app starts (the
one before it stops working); ``argosy token create`` mints more. A read needs a token unless
``anonymous_reads`` is on; a write always needs a write token. Known tokens are remembered for
`TOKEN_CACHE_SECONDS`, so a busy client costs one token lookup per window, not one per request,
and a token revoked on another instance (or with ``argosy token revoke``) stops working within
that window; one revoked through this instance's API stops at once. Unknown tokens are counted
per client address (`AuthThrottle`): an address that keeps guessing gets 429.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import Counter

from argosy.config import Settings
from argosy.errors import AuthError
from argosy.metadata.repository import Repository
from argosy.metadata.service.throttle import AuthThrottle
from argosy.metadata.tokens import Scope, allows, hash_token

TOKEN_CACHE_SECONDS = 10.0
_bearer = HTTPBearer(auto_error=False, description="A token from `argosy token create`.")


@dataclass
class ServiceState:
    """Everything the routes share, kept on ``app.state.argosy``."""

    settings: Settings
    repository: Repository
    tasks_recorded: Counter
    """Task records received by the bulk endpoint (a Prometheus counter)."""
    throttle: AuthThrottle = field(default_factory=AuthThrottle)
    _scopes: dict[str, tuple[str, float]] = field(default_factory=dict)
    """Token hash -> (scope, when to look it up again)."""

    def scope_of(self, token: str, address: str) -> str | None:
        """The scope of ``token`` sent from ``address``; None if it is unknown (a failure that
        counts against the address); 429 while the address is throttled."""
        digest = hash_token(token)
        known = self._scopes.get(digest)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        wait = self.throttle.retry_after(address)
        if wait is not None:
            raise HTTPException(
                429,
                f"too many unknown tokens from {address}; try again in {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))},
            )
        scope = self.repository.token_scope(token)
        if scope is None:
            self.throttle.failed(address)
        else:
            self._scopes[digest] = (scope, time.monotonic() + TOKEN_CACHE_SECONDS)
        return scope

    def forget(self, token_id: str) -> None:
        """Stop remembering the tokens whose hash starts with ``token_id`` (revoked ones)."""
        for digest in list(self._scopes):
            if digest.startswith(token_id):
                self._scopes.pop(digest, None)


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
    address = request.client.host if request.client else "unknown"
    scope = state(request).scope_of(credentials.credentials, address)
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
    "TOKEN_CACHE_SECONDS",
    "Repo",
    "ServiceState",
    "State",
    "repository",
    "require_read",
    "require_write",
    "state",
    "token_scope",
]
