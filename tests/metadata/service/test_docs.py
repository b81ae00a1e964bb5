"""``/docs`` works offline: every file it loads is served by the service itself."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient

from argosy.metadata.repository import Repository
from argosy.metadata.service import create_app
from tests.metadata.conftest import service_settings

FILES = {
    "swagger-ui-bundle.js": b"SwaggerUIBundle",
    "swagger-ui.css": b".swagger-ui",
    "favicon.png": b"\x89PNG",
}
"""The files the page must load, each with bytes it must contain."""
CONTENT_TYPES = {
    ".js": {"text/javascript", "application/javascript"},  # as the system's mime.types says
    ".css": {"text/css"},
    ".png": {"image/png"},
}


class _Assets(HTMLParser):
    """The URLs a page loads: ``<script src>`` and ``<link href>``."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        self.urls += [value for name, value in attrs if name == wanted and value]


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def test_docs_page_loads_only_files_the_service_serves(sqlite_app_client: TestClient) -> None:
    http = sqlite_app_client  # no token: the page is open, the API is not
    assert http.get("/api/v1/runs").status_code == 401

    response = http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "http://" not in response.text and "https://" not in response.text
    urls = _assets(response.text)
    names = {url.rsplit("/", 1)[-1] for url in urls}
    assert names == set(FILES)
    for url in urls:
        assert url.startswith("/docs/assets/"), url  # on this service, whatever its host
        asset = http.get(url)
        assert asset.status_code == 200, url
        content_type = asset.headers["content-type"].split(";")[0]
        assert content_type in CONTENT_TYPES[Path(url).suffix], url
        assert FILES[Path(url).name] in asset.content, url
    assert http.get("/openapi.json").json()["info"]["title"] == "Argosy metadata"
    assert http.get("/docs/assets/missing.js").status_code == 404
    assert http.get("/redoc").status_code == 404  # one page documents the API


def test_docs_page_follows_the_root_path_of_a_proxy(tmp_path: Path) -> None:
    with Repository(f"sqlite:///{tmp_path / 'service.db'}") as repository:
        app = create_app(service_settings(tmp_path), repository=repository)
        with TestClient(app, root_path="/argosy") as http:
            html = http.get("/docs").text
    assert set(_assets(html)) == {
        "/argosy/docs/assets/swagger-ui-bundle.js",
        "/argosy/docs/assets/swagger-ui.css",
        "/argosy/docs/assets/favicon.png",
    }
    assert "url: '/argosy/openapi.json'" in html
