"""The REST surface over HTTP: status codes for bad input, pagination, lineage, probes, metrics."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from argosy.metadata.client import MetadataClient
from argosy.metadata.repository import Repository
from argosy.metadata.service import create_app
from tests.metadata.conftest import ADMIN_TOKEN, service_settings
from tests.metadata.factories import artifact, record_two_pipelines, run
from tests.servers.postgres import PostgresServer

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def http(sqlite_app_client: TestClient) -> Iterator[TestClient]:
    sqlite_app_client.headers.update(AUTH)
    yield sqlite_app_client


def test_bad_input_gets_a_4xx_naming_the_field(http: TestClient) -> None:
    assert http.post("/api/v1/runs", json=run("r1").model_dump(mode="json")).status_code == 201
    conflicting = run("r1", parameters={"k": 1}).model_dump(mode="json")
    assert http.post("/api/v1/runs", json=conflicting).status_code == 409

    bad = http.post("/api/v1/tasks", json={"tasks": [{"run_id": "r1", "step": "fit", "index": -1}]})
    assert bad.status_code == 422
    fields = {tuple(error["loc"]) for error in bad.json()["detail"]}
    assert ("body", "tasks", 0, "index") in fields and ("body", "tasks", 0, "status") in fields
    assert http.post("/api/v1/tasks", content=b"{not json").status_code == 422
    assert http.patch("/api/v1/runs/r1", json={"status": "exploded"}).status_code == 422

    assert http.get("/api/v1/runs/nope").status_code == 404
    assert http.get("/api/v1/runs/nope/tasks").status_code == 404
    assert http.get(f"/api/v1/artifacts/{'0' * 64}/lineage").status_code == 404
    assert http.get("/api/v1/runs", params={"cursor": "garbage"}).status_code == 400
    assert http.get("/api/v1/runs", params={"limit": 0}).status_code == 422
    lineage = f"/api/v1/artifacts/{'0' * 64}/lineage"
    assert http.get(lineage, params={"direction": "sideways"}).status_code == 422
    assert http.get(lineage, params={"depth": -1}).status_code == 422
    info = artifact("a").model_dump()
    assert http.put("/api/v1/artifacts/other", json=info).status_code == 409
    huge = {"tasks": [], "padding": "x" * (40 * 2**20)}
    assert http.post("/api/v1/tasks", json=huge).status_code == 413


def test_runs_page_through_a_cursor(http: TestClient) -> None:
    for n in range(5):
        http.post("/api/v1/runs", json=run(f"r{n}").model_dump(mode="json"))
    ids, cursor = [], None
    while True:
        page = http.get("/api/v1/runs", params={"limit": 2, "cursor": cursor}).json()
        assert page["count"] == 5
        ids += [r["id"] for r in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == ["r4", "r3", "r2", "r1", "r0"]


def test_lineage_events_graph_and_diff_over_http(http: TestClient) -> None:
    client = MetadataClient(str(http.base_url), ADMIN_TOKEN, http=http)
    a = record_two_pipelines(client)
    x = a["X"].digest
    down = http.get(f"/api/v1/artifacts/{x}/lineage", params={"direction": "downstream"}).json()
    assert {n["id"] for n in down["nodes"] if n["kind"] == "task"} == {"r1.fit.0", "r2.score.0"}
    up = http.get(f"/api/v1/artifacts/{a['S'].digest}/lineage", params={"depth": 1}).json()
    assert {n["id"] for n in up["nodes"] if n["kind"] == "task"} == {"r2.score.0"}
    events = http.get("/api/v1/runs/r1/events").json()
    assert {(e["source"], e["kind"]) for e in events} == {
        ("r1.load.0", "output"), (x, "input"), ("r1.fit.0", "output"),
    }  # fmt: skip
    assert len(http.get("/api/v1/runs/r2/graph").json()["edges"]) == 5
    diff = http.get("/api/v1/runs/r1/diff/r2").json()
    assert diff["pipelines"] == ["train", "score"]
    assert http.get("/api/v1/artifacts/" + x).json()["produced_by"] == ["r1.load.0", "r2.prep.0"]


def test_output_metadata_over_rest_is_json_and_only_on_task_records(http: TestClient) -> None:
    http.post("/api/v1/runs", json=run("r1").model_dump(mode="json"))
    described = artifact("m").model_dump(mode="json") | {"name": "m.bin", "metadata": {"a": 1}}
    record = {"run_id": "r1", "step": "fit", "status": "succeeded", "output": described}
    assert http.post("/api/v1/tasks", json={"tasks": [record]}).status_code == 200
    assert http.get("/api/v1/runs/r1/tasks").json()["data"][0]["output"] == described

    infinite = {"attempt": 1, "output": described | {"metadata": {"a": float("inf")}}}
    body = json.dumps({"tasks": [record | infinite]})  # Infinity: Python reads it, JSON does not
    refused = http.post("/api/v1/tasks", content=body, headers={"content-type": "application/json"})
    assert refused.status_code == 422
    alone = http.put(f"/api/v1/artifacts/{described['digest']}", json=described)
    assert alone.status_code == 422 and "describe a task's output" in alone.text
    schemas = http.get("/openapi.json").json()["components"]["schemas"]
    assert {"name", "metadata"} <= set(schemas["ArtifactInfo"]["properties"])


def test_probes_metrics_and_docs(http: TestClient) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json() == {"status": "ready"}
    http.get("/api/v1/runs")
    exposition = http.get("/metrics").text
    assert 'argosy_http_requests_total{method="GET",route="/runs",status="200"}' in exposition
    http.post("/api/v1/runs", json=run("r1").model_dump(mode="json"))
    http.post("/api/v1/tasks", json={"tasks": [{"run_id": "r1", "step": "s", "status": "running"}]})
    assert "argosy_task_records_total 1.0" in http.get("/metrics").text
    assert http.get("/docs").status_code == 200
    paths = http.get("/openapi.json").json()["paths"]
    assert "/api/v1/artifacts/{digest}/lineage" in paths and "/api/v1/tasks" in paths


def test_readyz_fails_when_the_database_is_gone(
    postgres_server: PostgresServer, migrated_template: str, tmp_path
) -> None:
    name = postgres_server.create_database(template=migrated_template)
    repository = Repository(postgres_server.url(name))
    http = TestClient(create_app(service_settings(tmp_path), repository=repository))
    assert http.get("/readyz").status_code == 200
    postgres_server.drop_database(name)
    gone = http.get("/readyz")
    assert gone.status_code == 503 and name in gone.json()["detail"]
    assert http.get("/api/v1/runs", headers=AUTH).status_code == 503
    repository.close()


def test_uvicorn_serves_the_module_app(tmp_path: Path) -> None:
    """``uvicorn argosy.metadata.service:app`` builds the app from the environment at start."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGOSY_")}
    env |= {"ARGOSY_HOME": str(tmp_path), "ARGOSY_ANONYMOUS_READS": "true"}
    command = [sys.executable, "-m", "uvicorn", "argosy.metadata.service:app", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/runs")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read()
                time.sleep(0.2)
        assert answer.json() == {"data": [], "next_cursor": None, "count": 0}
        assert (tmp_path / "metadata.db").exists()
    finally:
        server.terminate()
        server.wait(20)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
