"""Who may look at the web UI: the API's bearer tokens, carried by a browser in a cookie.

A browser cannot send ``Authorization: Bearer``, so ``/ui/login`` takes a token in a form and,
once the service knows it, keeps it in an HttpOnly cookie (``SameSite=Strict``, ``Secure`` over
HTTPS, path ``/ui``): scripts cannot read it and other sites cannot send it. Only the UI's
pages and the JSON they fetch read that cookie; the REST API under ``/api/v1`` takes the header
alone, as before. The UI only reads, so its one state-changing request is this login and its
logout, which also refuse a cross-site ``Origin``. A request with an ``Authorization`` header
is judged by it, exactly as the API judges it; without header or cookie, the UI is open when the
API's reads are (``ARGOSY_ANONYMOUS_READS``) and otherwise sends people to the login form.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from argosy.errors import AuthError
from argosy.metadata.service.deps import Credentials, state, token_scope
from argosy.web.render import page
from argosy.web.urls import UI_PREFIX, runs_url

COOKIE = "argosy_token"
LOGIN_PATH = f"{UI_PREFIX}/login"
_MAX_FORM_BYTES = 4096


class LoginRequired(Exception):
    """A page was asked for without a token the service accepts; ``reason`` says why."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "log in with a token to see this page")
        self.reason = reason


def _scope(request: Request, credentials: Credentials) -> str | None:
    """The scope of who is asking; None when they must log in (no or a stale cookie)."""
    if credentials is not None or request.headers.get("authorization"):
        return token_scope(request, credentials)
    service = state(request)
    token = request.cookies.get(COOKIE)
    if token:
        address = request.client.host if request.client else "unknown"
        return service.scope_of(token, address)
    return "anonymous" if service.settings.anonymous_reads else None


def page_viewer(request: Request, credentials: Credentials) -> str:
    """For pages: the viewer's scope, or `LoginRequired` (a redirect to the login form)."""
    scope = _scope(request, credentials)
    if scope is None:
        stale = request.cookies.get(COOKIE)
        raise LoginRequired(
            "the service no longer accepts your token; log in again" if stale else None
        )
    return scope


def data_viewer(request: Request, credentials: Credentials) -> str:
    """For the JSON the pages fetch: the viewer's scope, or 401."""
    scope = _scope(request, credentials)
    if scope is None:
        raise AuthError("log in at /ui/login (or send 'Authorization: Bearer <token>')")
    return scope


PageViewer = Annotated[str, Depends(page_viewer)]
DataViewer = Annotated[str, Depends(data_viewer)]


def login_redirect(request: Request, error: LoginRequired) -> RedirectResponse:
    """Where `LoginRequired` sends the browser: the login form, then back to this page."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": here, **({"reason": error.reason} if error.reason else {})}
    response = RedirectResponse(f"{_root(request)}{LOGIN_PATH}?{urlencode(query)}", 303)
    if request.cookies.get(COOKIE):
        response.delete_cookie(COOKIE, path=UI_PREFIX)
    return response


router = APIRouter(include_in_schema=False)


@router.get(LOGIN_PATH)
def login_form(request: Request, next: str = "", reason: str = "") -> Response:
    return page(request, "login.html", next=_safe_next(next), error=reason, status_code=200)


@router.post(LOGIN_PATH)
async def login(request: Request) -> Response:
    """Check the token of the form and keep it in the cookie; the form again if it is unknown."""
    _same_origin(request)
    body = await request.body()
    form = parse_qs(body[:_MAX_FORM_BYTES].decode(errors="replace"))
    token = form.get("token", [""])[0].strip()
    target = _safe_next(form.get("next", [""])[0])
    address = request.client.host if request.client else "unknown"
    scope = state(request).scope_of(token, address) if token else None
    if scope is None:
        error = "that token is unknown to this service" if token else "paste a token"
        return page(request, "login.html", next=target, error=error, status_code=401)
    response = RedirectResponse(f"{_root(request)}{target}", 303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=UI_PREFIX,
    )
    return response


@router.post(f"{UI_PREFIX}/logout")
def logout(request: Request) -> Response:
    _same_origin(request)
    response = RedirectResponse(f"{_root(request)}{LOGIN_PATH}", 303)
    response.delete_cookie(COOKIE, path=UI_PREFIX)
    return response


def _safe_next(target: str) -> str:
    """``target`` if it is a page of the UI (never another site), else the runs list."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(f"{UI_PREFIX}/"):
        return runs_url()
    return target


def _same_origin(request: Request) -> None:
    """Refuse a form posted from another site (the browser names it in ``Origin``)."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise AuthError(f"a form from {origin} cannot log in or out here", status_code=403)


def _root(request: Request) -> str:
    return request.scope.get("root_path", "")


__all__ = [
    "COOKIE",
    "LOGIN_PATH",
    "DataViewer",
    "LoginRequired",
    "PageViewer",
    "data_viewer",
    "login_redirect",
    "page_viewer",
    "router",
]
