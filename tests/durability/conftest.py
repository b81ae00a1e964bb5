"""Fixtures of the durability tests: a fresh ARGOSY_HOME, and an `argosy server` on Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.durability.harness import MetadataService
from tests.servers.postgres import PostgresServer


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def metadata_service(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[MetadataService]:
    """`argosy server`, a process of its own, on a fresh Postgres database; the test may kill it."""
    name = postgres_server.create_database()
    service = MetadataService(postgres_server.url(name), tmp_path / "service-home")
    service.start()
    try:
        yield service
    finally:
        service.kill()
        postgres_server.drop_database(name)
