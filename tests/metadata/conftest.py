"""Metadata fixtures: one repository per test, on SQLite and on Postgres (a parametrized pair)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from argosy.metadata.repository import Repository
from tests.servers.postgres import PostgresServer


@pytest.fixture(scope="session")
def migrated_template(postgres_server: PostgresServer) -> str:
    """A Postgres database at the schema head, copied by `database_url` (faster than migrating)."""
    name = postgres_server.create_database()
    Repository(postgres_server.url(name)).close()
    return name


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated metadata database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metadata.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(template=request.getfixturevalue("migrated_template"))
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def repo(database_url: str) -> Iterator[Repository]:
    repository = Repository(database_url)
    try:
        yield repository
    finally:
        repository.close()
