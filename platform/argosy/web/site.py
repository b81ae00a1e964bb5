"""`install(app)`: the web UI on the metadata service's app, under ``/ui`` (``/`` leads there).

Its pages (`argosy.web.pages`), the login form (`argosy.web.auth`), and its style sheet and
script, served from the package's own files (``static/``): nothing is fetched from elsewhere,
so it works offline. Errors on its pages are pages too: a 404 says what is missing, in HTML;
the API's errors stay JSON.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ExceptionHandler

from argosy.errors import ArgosyError
from argosy.metadata.service.errors import status_of
from argosy.web import auth
from argosy.web.pages import artifacts, diff, run, runs, tasks
from argosy.web.render import page
from argosy.web.sources import Sources
from argosy.web.urls import UI_PREFIX, runs_url

STATIC_PATH = f"{UI_PREFIX}/static"


def install(app: FastAPI) -> None:
    """Serve the UI on ``app`` (made by `create_app`: its state and error handlers are set)."""
    service = app.state.argosy
    app.state.argosy_web = Sources(service.settings, service.repository)
    app.mount(STATIC_PATH, StaticFiles(packages=[("argosy.web", "static")]), name="ui-static")
    app.include_router(auth.router)
    for pages in (runs, run, tasks, artifacts, diff):
        app.include_router(pages.router)

    @app.get("/", include_in_schema=False)
    @app.get(UI_PREFIX, include_in_schema=False)
    @app.get(f"{UI_PREFIX}/", include_in_schema=False)
    def home(request: Request) -> Response:
        return RedirectResponse(runs_url(request.scope.get("root_path", "")), 303)

    app.add_exception_handler(auth.LoginRequired, _login_required)
    for kind in (ArgosyError, RequestValidationError):
        app.add_exception_handler(kind, _as_page(app.exception_handlers[kind]))


async def _login_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, auth.LoginRequired)
    return auth.login_redirect(request, error)


def _is_page(request: Request) -> bool:
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    return path.startswith(f"{UI_PREFIX}/") and not path.endswith(".json")


def _as_page(api_handler: ExceptionHandler) -> ExceptionHandler:
    """The API's handler of an error, answering with an error page on the UI's pages."""

    async def handle(request: Request, error: Exception) -> Response:
        if not _is_page(request):
            return await api_handler(request, error)  # type: ignore[misc,no-any-return]
        if isinstance(error, ArgosyError):
            status, message = status_of(error), str(error)
        else:
            assert isinstance(error, RequestValidationError)
            status, message = 422, "; ".join(_problem(e) for e in error.errors())
        return page(request, "error.html", status_code=status, status=status, message=message)

    return handle


def _problem(error: dict) -> str:
    where = ".".join(str(part) for part in error.get("loc", ())[1:])
    return f"{where}: {error.get('msg', 'invalid')}"


__all__ = ["STATIC_PATH", "install"]
