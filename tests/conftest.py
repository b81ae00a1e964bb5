"""Shared pytest set-up: real servers (Postgres, S3) come from the plugins in tests/servers/;
`settings` is a fresh embedded ARGOSY_HOME (SQLite and a local store) per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.config import Settings

pytest_plugins = ["tests.servers.postgres", "tests.servers.s3"]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ARGOSY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ARGOSY_METADATA_URL", raising=False)
    monkeypatch.delenv("ARGOSY_S3_ENDPOINT", raising=False)
    return Settings()
