"""The HTTP client's start-of-run check and its selection by settings."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from argosy.config import Settings
from argosy.errors import AuthError, MetadataUnavailable
from argosy.metadata import open_reader, open_sink
from argosy.metadata.client import MetadataClient
from argosy.metadata.embedded import EmbeddedSink
from argosy.metadata.embedded_reader import EmbeddedReader
from argosy.metadata.repository import Repository
from tests.metadata.conftest import ADMIN_TOKEN


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_service_fails_the_check_fast() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    began = time.monotonic()
    with pytest.raises(MetadataUnavailable, match="ARGOSY_METADATA_URL") as caught:
        MetadataClient(url, "t").check()
    assert url in str(caught.value)
    assert time.monotonic() - began < 5


def test_a_read_token_cannot_record(sqlite_app_client: TestClient, tmp_path: Path) -> None:
    client = MetadataClient(str(sqlite_app_client.base_url), ADMIN_TOKEN, http=sqlite_app_client)
    client.check()
    repository: Repository = sqlite_app_client.app.state.argosy.repository
    repository.add_token("reader", "read", "test")
    reader = MetadataClient(str(sqlite_app_client.base_url), "reader", http=sqlite_app_client)
    with pytest.raises(AuthError, match="argosy token create --scope write"):
        reader.check()
    with pytest.raises(AuthError, match="unknown token"):
        MetadataClient(str(sqlite_app_client.base_url), "x", http=sqlite_app_client).list_runs()


def test_settings_choose_the_implementation(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert isinstance(open_sink(Settings(home=home)), EmbeddedSink)
    assert isinstance(open_reader(Settings(home=home)), EmbeddedReader)
    assert (home / "metadata.db").exists()
    on_postgres = Settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(MetadataUnavailable, match="none"):
        open_sink(on_postgres)  # the Repository, which reaches no database there
    remote = open_reader(Settings(metadata_url="http://metadata:8000/", token="secret"))
    assert isinstance(remote, MetadataClient) and remote.url == "http://metadata:8000"
