"""The API documentation page, ``/docs`` (Swagger UI), that works offline.

FastAPI's own pages load Swagger UI (and ReDoc) from a CDN, so they are blank on a machine
without internet access (a laptop on a plane, a cluster without egress). This serves the same
page through FastAPI's public helper, with every script, style sheet and icon served by the
service itself, under `ASSETS_PATH`, from the files the ``fastapi-offline`` package ships
(Swagger UI 5). Like ``/openapi.json``, it needs no token; its "Authorize" button takes one for
the requests tried from the page. There is no ``/redoc``: one page documents the API.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
"""Where the page's files are served: ``swagger-ui-bundle.js``, ``swagger-ui.css`` and
``favicon.png``."""
_ASSETS_PACKAGE = ("fastapi_offline", "static")


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and its files on ``app``, made with ``docs_url=None`` and
    ``redoc_url=None`` (so that FastAPI adds no CDN pages of its own)."""
    assert app.docs_url is None and app.redoc_url is None, "FastAPI's CDN pages are on"
    openapi_url = app.openapi_url
    assert openapi_url is not None, "the docs pages need the OpenAPI document"
    app.mount(ASSETS_PATH, StaticFiles(packages=[_ASSETS_PACKAGE]), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=_here(request, openapi_url),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=_asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=_asset(request, "swagger-ui.css"),
            swagger_favicon_url=_asset(request, "favicon.png"),
            swagger_ui_parameters=app.swagger_ui_parameters,
        )


def _here(request: Request, path: str) -> str:
    """``path`` of this service as the browser reaches it (behind a proxy's path prefix too)."""
    return request.scope.get("root_path", "") + path


def _asset(request: Request, name: str) -> str:
    return _here(request, f"{ASSETS_PATH}/{name}")


__all__ = ["ASSETS_PATH", "DOCS_PATH", "install"]
