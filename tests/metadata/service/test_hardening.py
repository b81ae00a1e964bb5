"""Hostile input gets a clear 4xx, never a 500: malformed cursors, chunked oversized bodies,
run ids that could never be fetched, times beyond what the database stores, and text that is
not valid Unicode. On the app in-process (SQLite) and on uvicorn (Postgres)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from argosy.metadata.client import MetadataClient
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunCreate
from argosy.metadata.service import create_app
from tests.metadata.conftest import ADMIN_TOKEN, service_settings
from tests.metadata.factories import artifact, run
from tests.metadata.service_thread import ServiceThread

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(params=["sqlite", "postgres"])
def http(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """A client of the service on each database, sending the admin token."""
    if request.param == "sqlite":
        client: httpx.Client = request.getfixturevalue("sqlite_app_client")
        client.headers.update(AUTH)
        yield client
        return
    service: ServiceThread = request.getfixturevalue("postgres_service")
    with httpx.Client(base_url=service.url, headers=AUTH) as client:
        yield client


def _cursor(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode()


MALFORMED_CURSORS = {
    "deeply nested": _cursor(b"[" * 5000),
    "nested within the length limit": _cursor(b"[" * 300 + b"]" * 300),
    "year 1 east of UTC": _cursor(b'["0001-01-01T00:00:00+05:00", "r1"]'),
    "year 9999 west of UTC": _cursor(b'["9999-12-31T23:59:59-05:00", "r1"]'),
    "no UTC offset": _cursor(b'["2026-01-01T00:00:00", "r1"]'),
    "numbers": _cursor(b"[1, 2]"),
    "id not a string": _cursor(b'["2026-01-01T00:00:00+00:00", ["r1"]]'),
    "one element": _cursor(b'["2026-01-01T00:00:00+00:00"]'),
    "an object": _cursor(b'{"a": 1}'),
    "not UTF-8": _cursor(b"\xff\xfe"),
    "bad base64": "!!!",
    "garbage": "garbage",
}


@pytest.mark.parametrize("cursor", MALFORMED_CURSORS.values(), ids=MALFORMED_CURSORS.keys())
def test_a_malformed_cursor_gets_400_naming_the_cursor(http: httpx.Client, cursor: str) -> None:
    answer = http.get("/api/v1/runs", params={"cursor": cursor})
    assert answer.status_code == 400, answer.text
    assert "the cursor parameter is not a cursor of this service" in answer.json()["detail"]
    assert "next_cursor of the previous page" in answer.json()["detail"]


def test_a_well_formed_cursor_of_any_year_pages(http: httpx.Client) -> None:
    assert http.post("/api/v1/runs", json=run("r1").model_dump(mode="json")).status_code == 201
    for stamp, ids in (("0001-01-01T00:00:00+00:00", []), ("9999-12-31T00:00:00+00:00", ["r1"])):
        cursor = _cursor(json.dumps([stamp, "r9"]).encode())
        page = http.get("/api/v1/runs", params={"cursor": cursor})
        assert page.status_code == 200 and [r["id"] for r in page.json()["data"]] == ids


def test_a_chunked_oversized_body_gets_413(tmp_path: Path) -> None:
    repository = Repository(f"sqlite:///{tmp_path / 'limit.db'}")
    app = create_app(service_settings(tmp_path), repository=repository, max_body_bytes=4096)
    service = ServiceThread(app)
    service.start()
    body = json.dumps({"tasks": [], "padding": "x" * 10_000}).encode()
    created = json.dumps(run("r1").model_dump(mode="json")).encode()
    try:
        with httpx.Client(base_url=service.url, headers=AUTH) as http:
            chunks = (body[n : n + 1000] for n in range(0, len(body), 1000))
            answer = http.post("/api/v1/tasks", content=chunks, headers=JSON)
            assert answer.request.headers.get("transfer-encoding") == "chunked"
            assert answer.status_code == 413
            assert "larger than 4096 bytes" in answer.json()["detail"]
            pieces = iter([created[:50], created[50:]])
            small = http.post("/api/v1/runs", content=pieces, headers=JSON)
            assert small.status_code == 201 and small.json()["id"] == "r1"
    finally:
        service.stop()
        repository.close()


BAD_RUN_IDS = ["a/b", "..", ".hidden", "-r", "r 1", "r?x", "r#1", "ü", "", "r" * 129]


@pytest.mark.parametrize("run_id", BAD_RUN_IDS)
def test_a_run_id_that_could_not_be_fetched_is_refused(http: httpx.Client, run_id: str) -> None:
    body = run("r1").model_dump(mode="json") | {"id": run_id}
    answer = http.post("/api/v1/runs", json=body)
    assert answer.status_code == 422
    assert [e["loc"] for e in answer.json()["detail"]] == [["body", "id"]]
    with pytest.raises(ValidationError, match="should match pattern"):
        RunCreate.model_validate(body)  # what the embedded repository is given


def test_every_valid_run_id_can_be_fetched(http: httpx.Client) -> None:
    client = MetadataClient(str(http.base_url), ADMIN_TOKEN, http=http)
    for run_id in ("A", "r.1", "R_1-x.y", "7" * 128):
        client.create_run(run(run_id))
        assert client.get_run(run_id).id == run_id


UNSTORABLE_TIMES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]


@pytest.mark.parametrize("when", UNSTORABLE_TIMES)
def test_a_time_beyond_the_databases_range_gets_422(http: httpx.Client, when: str) -> None:
    early = run("r1").model_dump(mode="json") | {"started_at": when}
    refused = http.post("/api/v1/runs", json=early)
    assert refused.status_code == 422 and "years 1 to 9999" in refused.text
    assert http.post("/api/v1/runs", json=run("r1").model_dump(mode="json")).status_code == 201
    update = http.patch("/api/v1/runs/r1", json={"status": "failed", "finished_at": when})
    assert update.status_code == 422 and update.json()["detail"][0]["loc"][-1] == "finished_at"
    task = {"run_id": "r1", "step": "s", "status": "running", "started_at": when}
    assert http.post("/api/v1/tasks", json={"tasks": [task]}).status_code == 422


def _send(http: httpx.Client, method: str, path: str, body: dict) -> httpx.Response:
    """Send ``body`` as ASCII JSON: a lone surrogate goes as ``\\ud800`` and parses back as one."""
    return http.request(method, path, content=json.dumps(body), headers=JSON)


def test_text_that_is_not_unicode_gets_a_4xx(http: httpx.Client) -> None:
    created = run("r1").model_dump(mode="json")
    for field in ("parameters", "pipeline_ir"):
        answer = _send(http, "POST", "/api/v1/runs", created | {field: {"a": "\ud800"}})
        assert answer.status_code == 422 and "not valid Unicode" in answer.text
        assert answer.json()["detail"][0]["loc"][:2] == ["body", field]
    named = _send(http, "POST", "/api/v1/runs", created | {"pipeline": "p\ud800"})
    assert named.status_code == 422 and named.json()["detail"][0]["input"] == "p\ud800"
    assert _send(http, "POST", "/api/v1/runs", created).status_code == 201
    task = {"run_id": "r1", "step": "s", "status": "running", "error": "\ud800"}
    stored = artifact("a").model_dump() | {"digest": "x", "type": "\ud800"}
    for method, path, body in (
        ("PATCH", "/api/v1/runs/r1", {"status": "failed", "error": "\udfff"}),
        ("POST", "/api/v1/runs", created | {"id": "r2", "backend": "\ud800"}),
        ("POST", "/api/v1/tasks", {"tasks": [task]}),
        ("PUT", "/api/v1/artifacts/x", stored),
    ):
        answer = _send(http, method, path, body)
        assert answer.status_code == 400 and "not valid Unicode" in answer.json()["detail"], path
