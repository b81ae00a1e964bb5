"""Bearer-token auth: 401 without or with an unknown token, 403 for a read token writing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from argosy.cli import main
from argosy.metadata.repository import Repository
from argosy.metadata.service import create_app
from tests.metadata.conftest import ADMIN_TOKEN, service_settings
from tests.metadata.factories import run

RUN = run("r1").model_dump(mode="json")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _mint(capsys: pytest.CaptureFixture[str], url: str, scope: str) -> str:
    main(["token", "create", "--scope", scope, "--name", "t", "--database-url", url, "--json"])
    minted = json.loads(capsys.readouterr().out)
    assert minted["scope"] == scope
    return minted["token"]


def test_reads_and_writes_need_the_right_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    with Repository(url) as repository:
        reader, writer = _mint(capsys, url, "read"), _mint(capsys, url, "write")
        stored = repository.engine.connect().exec_driver_sql("SELECT token_hash FROM api_tokens")
        assert reader not in {row[0] for row in stored}
        http = TestClient(create_app(service_settings(tmp_path), repository=repository))

        missing = http.get("/api/v1/runs")
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert http.get("/api/v1/runs", headers=_bearer("nope")).status_code == 401
        assert http.get("/api/v1/runs", headers={"Authorization": "Basic eDp5"}).status_code == 401
        assert http.post("/api/v1/runs", json=RUN).status_code == 401

        assert http.post("/api/v1/runs", json=RUN, headers=_bearer(reader)).status_code == 403
        assert http.post("/api/v1/runs", json=RUN, headers=_bearer(writer)).status_code == 201
        assert http.post("/api/v1/runs", json=RUN, headers=_bearer(ADMIN_TOKEN)).status_code == 201
        assert http.get("/api/v1/runs/r1", headers=_bearer(reader)).json()["id"] == "r1"
        assert http.get("/api/v1/auth", headers=_bearer(reader)).json() == {"scope": "read"}
        assert http.get("/healthz").status_code == 200  # probes need no token


def test_anonymous_reads_when_the_operator_allows_them(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, anonymous_reads=True)
    with Repository(f"sqlite:///{tmp_path / 'anon.db'}") as repository:
        http = TestClient(create_app(settings, repository=repository))
        assert http.get("/api/v1/runs").status_code == 200
        assert http.get("/api/v1/auth").json() == {"scope": "anonymous"}
        assert http.post("/api/v1/runs", json=RUN).status_code == 401
        assert http.get("/api/v1/runs", headers=_bearer("unknown")).status_code == 401
