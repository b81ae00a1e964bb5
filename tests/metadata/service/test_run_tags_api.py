"""``/api/v1/runs`` filters by project, owner and tags; ``POST /api/v1/runs/{id}/tags``: its
answers to bad requests, its scope, and its OpenAPI documentation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from argosy.metadata.repository import Repository
from argosy.metadata.service import create_app
from tests.metadata.conftest import ADMIN_TOKEN, service_settings
from tests.metadata.factories import run

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def http(sqlite_app_client: TestClient) -> Iterator[TestClient]:
    sqlite_app_client.headers.update(AUTH)
    for run_id, owner, tags in [
        ("a1", "user:alice", ["nightly", "v2"]),
        ("b1", "user:bob", ["v2"]),
    ]:
        body = run(run_id, project="fraud", owner=owner, tags=tags).model_dump(mode="json")
        assert sqlite_app_client.post("/api/v1/runs", json=body).status_code == 201
    yield sqlite_app_client


def _ids(http: TestClient, params: Any) -> list[str]:
    answer = http.get("/api/v1/runs", params=params)
    assert answer.status_code == 200, answer.text
    return [found["id"] for found in answer.json()["data"]]


def _messages(answer: Any) -> str:
    assert answer.status_code == 422, answer.text
    return " | ".join(error["msg"] for error in answer.json()["detail"])


def test_runs_are_filtered_by_query_parameters(http: TestClient) -> None:
    assert _ids(http, {}) == ["b1", "a1"]
    assert _ids(http, {"owner": "user:alice"}) == ["a1"]
    assert _ids(http, [("tag", "v2"), ("tag", "nightly")]) == ["a1"]
    assert _ids(http, {"project": "fraud", "tag": "v2"}) == ["b1", "a1"]
    assert _ids(http, {"project": "churn"}) == []
    created = http.get("/api/v1/runs/a1").json()
    assert (created["project"], created["owner"], created["tags"]) == (
        "fraud",
        "user:alice",
        ["nightly", "v2"],
    )


def test_bad_filters_are_a_422_naming_the_rule(http: TestClient) -> None:
    bad_tag = http.get("/api/v1/runs", params={"tag": "two\nlines"})
    assert "tag 'two\\nlines' holds the control character" in _messages(bad_tag)
    assert "an owner is 'production'" in _messages(http.get("/api/v1/runs?owner=alice"))
    assert "not a project name" in _messages(http.get("/api/v1/runs?project=Fraud"))


def test_tags_are_added_and_removed(http: TestClient) -> None:
    changed = http.post("/api/v1/runs/a1/tags", json={"add": ["best", "v2"], "remove": ["nightly"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["id"] == "a1" and changed.json()["tags"] == ["best", "v2"]
    assert http.post("/api/v1/runs/a1/tags", json={"remove": ["best"]}).json()["tags"] == ["v2"]
    assert _ids(http, {"tag": "best"}) == []


def test_bad_tag_changes_are_refused_and_change_nothing(http: TestClient) -> None:
    def post(body: Any, run_id: str = "a1") -> Any:
        return http.post(f"/api/v1/runs/{run_id}/tags", json=body)

    assert "tag ' x' starts or ends with a space" in _messages(post({"add": ["ok", " x"]}))
    assert "is 256 characters long" in _messages(post({"remove": ["x" * 256]}))
    assert "is empty" in _messages(post({"add": [""]}))
    assert "both added and removed" in _messages(post({"add": ["a", "b"], "remove": ["b"]}))
    assert "give tags to add or to remove" in _messages(post({}))
    assert _messages(post({"add": "nightly"}))  # a list, not a string
    assert _messages(post({"add": ["x"], "rename": ["y"]}))  # no unknown fields
    assert _messages(post({"add": [f"t{n}" for n in range(101)]}))
    missing = post({"add": ["x"]}, run_id="nope")
    assert missing.status_code == 404 and "no run nope" in missing.json()["detail"]
    assert http.get("/api/v1/runs/a1").json()["tags"] == ["nightly", "v2"]


def test_tagging_needs_a_write_token(tmp_path: Path) -> None:
    with Repository(f"sqlite:///{tmp_path / 'tags.db'}") as repository:
        repository.create_run(run("r1"))
        repository.add_token("a-read-token-0123456789", "read", "reader")
        http = TestClient(create_app(service_settings(tmp_path), repository=repository))
        body = {"add": ["x"]}
        assert http.post("/api/v1/runs/r1/tags", json=body).status_code == 401
        reading = {"Authorization": "Bearer a-read-token-0123456789"}
        assert http.post("/api/v1/runs/r1/tags", json=body, headers=reading).status_code == 403
        assert http.post("/api/v1/runs/r1/tags", json=body, headers=AUTH).status_code == 200
        assert http.get("/api/v1/runs?tag=x", headers=reading).json()["count"] == 1


def test_the_openapi_document_describes_them(http: TestClient) -> None:
    document = http.get("/openapi.json").json()
    listing = document["paths"]["/api/v1/runs"]["get"]
    described = {parameter["name"]: parameter for parameter in listing["parameters"]}
    assert {"project", "owner", "tag"} <= set(described)
    assert "all must match" in described["tag"]["description"]
    tagging = document["paths"]["/api/v1/runs/{run_id}/tags"]["post"]
    assert "255 characters" in tagging["description"]
    assert tagging["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "RunTagsChange"
    )
    run_schema = document["components"]["schemas"]["RunPublic"]["properties"]
    assert {"project", "owner", "tags"} <= set(run_schema)
