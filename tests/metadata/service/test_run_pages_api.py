"""The REST shapes of a large run: a run with its steps' summary, its tasks a page at a time,
runs and artifacts by id prefix; and the 4xx answers that name what is wrong."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from argosy.metadata import client as client_module
from argosy.metadata.client import MetadataClient
from argosy.metadata.run_views import MAX_TASK_PAGE, TASK_PAGE
from argosy.metadata.schemas import TaskStatus
from tests.metadata.conftest import ADMIN_TOKEN
from tests.metadata.factories import artifact, run, task


@pytest.fixture
def recorded(sqlite_app_client: TestClient) -> Iterator[TestClient]:
    """The app with run r1: load (1 task), fit (mapped, 25 tasks, every fifth failed), best
    (no task yet)."""
    sqlite_app_client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    client = MetadataClient(str(sqlite_app_client.base_url), ADMIN_TOKEN, http=sqlite_app_client)
    client.create_run(run("r1", steps=("load", "fit", "best"), mapped=("fit",)))
    failed = TaskStatus.FAILED
    client.record_tasks(
        [task("r1", "load", output=artifact("x"))]
        + [task("r1", "fit", i, **({"status": failed} if i % 5 == 4 else {})) for i in range(25)]
    )
    yield sqlite_app_client


def test_a_run_reads_with_the_summary_of_its_steps(recorded: TestClient) -> None:
    detail = recorded.get("/api/v1/runs/r1").json()
    assert detail["id"] == "r1" and detail["pipeline"] == "demo"
    summary = [(s["name"], s["mapped"], s["tasks"], s["statuses"]) for s in detail["steps"]]
    assert summary == [
        ("load", False, 1, {"succeeded": 1}),
        ("fit", True, 25, {"succeeded": 20, "failed": 5}),
        ("best", False, 0, {}),
    ]
    assert detail["steps"][0]["output"]["digest"] == artifact("x").digest
    client = MetadataClient(str(recorded.base_url), ADMIN_TOKEN, http=recorded)
    assert client.get_run("r1").model_dump(mode="json") == {
        k: v for k, v in detail.items() if k != "steps"
    }


def test_tasks_page_by_page(recorded: TestClient) -> None:
    tasks = "/api/v1/runs/r1/tasks"
    first = recorded.get(tasks, params={"limit": 10}).json()
    assert (first["count"], first["next_offset"], len(first["data"])) == (26, 10, 10)
    assert [t["id"] for t in first["data"][:2]] == ["r1.load.0", "r1.fit.0"]
    last = recorded.get(tasks, params={"step": "fit", "limit": 10, "offset": 20}).json()
    assert (last["count"], last["next_offset"]) == (25, None)
    assert [t["index"] for t in last["data"]] == [20, 21, 22, 23, 24]
    assert len(recorded.get(tasks).json()["data"]) == 26 <= TASK_PAGE  # the default page
    statuses = [("status", "failed"), ("status", "running")]
    failed = recorded.get(tasks, params=statuses).json()
    assert [t["index"] for t in failed["data"]] == [4, 9, 14, 19, 24] and failed["count"] == 5
    assert recorded.get(tasks, params={"limit": 0}).json() == {
        "data": [], "count": 26, "next_offset": None,
    }  # fmt: skip


def test_the_client_pages_through_the_tasks(
    recorded: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = MetadataClient(str(recorded.base_url), ADMIN_TOKEN, http=recorded)
    every = client.list_tasks("r1")
    monkeypatch.setattr(client_module, "MAX_TASK_PAGE", 7)  # 26 tasks: four requests
    assert client.list_tasks("r1") == every
    assert client.list_tasks("r1", limit=9, offset=3) == every[3:12]
    assert client.list_tasks("r1", step="fit", statuses=[TaskStatus.FAILED]) == every[5::5]
    assert client.run_steps("r1")[1].statuses == {"succeeded": 20, "failed": 5}


def test_bad_filters_are_4xx_naming_the_choices(recorded: TestClient) -> None:
    tasks = "/api/v1/runs/r1/tasks"
    step = recorded.get(tasks, params={"step": "nope"})
    assert step.status_code == 400
    assert step.json()["detail"] == "run r1 has no step 'nope'; its steps are load, fit, best"
    status = recorded.get(tasks, params={"status": "exploded"})
    assert status.status_code == 422 and "'running'" in status.text
    assert recorded.get(tasks, params={"limit": MAX_TASK_PAGE + 1}).status_code == 422
    assert recorded.get(tasks, params={"offset": -1}).status_code == 422
    assert recorded.get("/api/v1/runs/nope/tasks").status_code == 404
    assert recorded.get("/api/v1/runs/nope").status_code == 404


def test_runs_and_artifacts_by_prefix(recorded: TestClient) -> None:
    digest = artifact("x").digest
    found = recorded.get("/api/v1/artifacts", params={"prefix": digest[:6]})
    assert found.json() == [digest]
    assert recorded.get("/api/v1/artifacts", params={"prefix": "zz"}).json() == []
    assert recorded.get("/api/v1/artifacts").status_code == 422  # a prefix is required
    runs = recorded.get("/api/v1/runs", params={"id_prefix": "r"}).json()
    assert [r["id"] for r in runs["data"]] == ["r1"]
    assert recorded.get("/api/v1/runs", params={"id_prefix": ""}).status_code == 422
