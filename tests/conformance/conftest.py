"""Conformance fixtures: the metadata service on Postgres over HTTP, and private pod /tmp.

The Argo pods the harness starts record their tasks through the HTTP client, as in a cluster.
The service runs in a thread (uvicorn) on a fresh Postgres database of the session's server.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from argosy.config import Settings
from argosy.metadata.service.app import create_app
from tests.conformance.argo_interpreter import unshare_works
from tests.servers.postgres import PostgresServer

TOKEN = "conformance-admin-token"


@pytest.fixture(autouse=True)
def private_pod_tmp() -> None:
    """The harness gives each pod its own /tmp with unshare(1): skip without it (fail in CI)."""
    if unshare_works():
        return
    message = "the Argo interpreter needs `unshare --mount` (root, util-linux) for pod /tmp"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class MetadataService:
    url: str
    token: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def metadata_service(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MetadataService]:
    database = postgres_server.create_database()
    settings = Settings(
        home=tmp_path_factory.mktemp("service-home"),
        database_url=postgres_server.url(database),
        admin_token=TOKEN,
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, migrate=True), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the metadata service did not start")
        time.sleep(0.05)
    try:
        yield MetadataService(url, TOKEN)
    finally:
        server.should_exit = True
        thread.join(10)
        postgres_server.drop_database(database)


__all__ = ["TOKEN", "MetadataService"]
