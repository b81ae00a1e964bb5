"""Metadata fixtures: repositories on SQLite and Postgres, and clients of the service on both.

``repo`` is a `Repository` on a fresh database of each kind. ``metadata`` runs the same tests
through every implementation of the sink and reader: the repository on SQLite and on Postgres,
the embedded sink's writes and embedded reader's reads on SQLite, the HTTP client against the
app in-process (Starlette's TestClient) on SQLite, and against a real uvicorn server on Postgres.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from argosy.config import Settings
from argosy.metadata.client import MetadataClient
from argosy.metadata.embedded import EmbeddedSink
from argosy.metadata.embedded_reader import EmbeddedReader
from argosy.metadata.reader import MetadataReader
from argosy.metadata.repository import Repository
from argosy.metadata.service import create_app
from argosy.metadata.sink import MetadataSink
from tests.metadata.service_thread import ServiceThread
from tests.servers.postgres import PostgresServer

ADMIN_TOKEN = "test-admin-token-0123456789abcdefgh"


@pytest.fixture(scope="session")
def migrated_template(postgres_server: PostgresServer) -> str:
    """A Postgres database at the schema head, copied by `database_url` (faster than migrating)."""
    name = postgres_server.create_database()
    Repository(postgres_server.url(name)).close()
    return name


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer, migrated_template: str) -> Iterator[str]:
    name = postgres_server.create_database(template=migrated_template)
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated metadata database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
def repo(database_url: str) -> Iterator[Repository]:
    repository = Repository(database_url)
    try:
        yield repository
    finally:
        repository.close()


def service_settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(home=tmp_path / "home", admin_token=ADMIN_TOKEN, **overrides)


@contextmanager
def read_through(kind: str, repository: Repository, tmp_path: Path) -> Iterator[MetadataReader]:
    """``repository`` itself (``embedded``), or the service over it in-process read with the
    HTTP client (``http``)."""
    if kind == "embedded":
        yield repository
        return
    with TestClient(create_app(service_settings(tmp_path), repository=repository)) as http:
        yield MetadataClient(str(http.base_url), ADMIN_TOKEN, http=http)


@pytest.fixture
def sqlite_app_client(tmp_path: Path) -> Iterator[TestClient]:
    """The service app on a fresh SQLite database, called in-process."""
    repository = Repository(f"sqlite:///{tmp_path / 'service.db'}")
    with TestClient(create_app(service_settings(tmp_path), repository=repository)) as http:
        yield http
    repository.close()


@pytest.fixture
def postgres_service(tmp_path: Path, fresh_postgres_url: str) -> Iterator[ServiceThread]:
    """The service on a fresh Postgres database, served by uvicorn on a free port."""
    repository = Repository(fresh_postgres_url)
    service = ServiceThread(create_app(service_settings(tmp_path), repository=repository))
    service.start()
    try:
        yield service
    finally:
        service.stop()
        repository.close()


class EmbeddedWrites:
    """Writes through the `EmbeddedSink`, reads through the `EmbeddedReader` (both sqlite3; the
    reader's other queries through a `Repository` of its file)."""

    def __init__(self, url: str) -> None:
        self.sink = EmbeddedSink(url)
        self.reader = EmbeddedReader(url)

    def __getattr__(self, name: str) -> object:
        writer = self.sink if name in _SINK_METHODS else self.reader
        return getattr(writer, name)

    def close(self) -> None:
        self.sink.close()
        self.reader.close()


_SINK_METHODS = {
    name for name in vars(MetadataSink) if not name.startswith("_") and name != "find_cached"
}


@pytest.fixture(
    params=[
        "repository-sqlite",
        "repository-postgres",
        "embedded-sqlite",
        "client-asgi",
        "client-http",
    ]
)
def metadata(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """Each implementation of MetadataSink + MetadataReader, on a fresh database (the embedded
    sink's writes read through the embedded reader)."""
    kind = request.param
    if kind == "embedded-sqlite":
        both = EmbeddedWrites(f"sqlite:///{tmp_path / 'metadata.db'}")
        yield both
        both.close()
    elif kind.startswith("repository"):
        backend = "sqlite" if kind.endswith("sqlite") else "postgres"
        url = (
            f"sqlite:///{tmp_path / 'metadata.db'}"
            if backend == "sqlite"
            else request.getfixturevalue("fresh_postgres_url")
        )
        with Repository(url) as repository:
            yield repository
    elif kind == "client-asgi":
        http = request.getfixturevalue("sqlite_app_client")
        yield MetadataClient(str(http.base_url), ADMIN_TOKEN, http=http)
    else:
        service: ServiceThread = request.getfixturevalue("postgres_service")
        with MetadataClient(service.url, ADMIN_TOKEN) as client:
            yield client
