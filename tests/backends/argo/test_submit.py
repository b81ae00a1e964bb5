"""Submit, watch, status and logs against a fake Kubernetes API that these tests start on 127.0.0.1.

No Kubernetes API server runs on these machines (TOOLING.md), so `fake_kube.fake_cluster`
serves the few endpoints the backend calls; the tests check every request it receives,
including the Workflow body, which must pass Argo's strict schema. The store and the metadata
database are the real local ones under a temporary ARGOSY_HOME.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from argosy.backends.argo import pod_logs, submit_pipeline
from argosy.backends.argo.argo_server import ArgoServerApi
from argosy.backends.argo.kube import KubeApi, ObjectNotFound
from argosy.code_package import package_ref
from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.errors import ClusterError
from argosy.metadata import open_reader
from argosy.store import LocalStore
from argosy.store.addresses import code_package_key
from tests.backends.argo.argo_schema import assert_valid
from tests.backends.argo.fake_kube import TOKEN, FakeCluster

ROOT = Path(__file__).resolve().parents[3]
PIPELINE = str(ROOT / "pipelines" / "wide_foreach.py")
IMAGE = "argosy/base:test0001"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", user="submitter")


def _nodes(run: str, phases: dict[str, list[str]], exit_phase: str | None = None) -> dict[str, Any]:
    """A status.nodes map: one Pod node per listed phase of each template, plus a DAG node."""
    nodes: dict[str, Any] = {run: {"id": run, "name": run, "type": "DAG", "templateName": "main"}}
    for template, listed in phases.items():
        for i, phase in enumerate(listed):
            node_id = f"{run}-{template}-{i}"
            nodes[node_id] = {"id": node_id, "name": f"{run}.{template}({i})", "type": "Pod",
                              "templateName": template, "phase": phase}  # fmt: skip
    if exit_phase:
        nodes[f"{run}-exit"] = {"id": f"{run}-exit", "type": "Pod", "templateName": "finish-run",
                                "phase": exit_phase}  # fmt: skip
    return nodes


def _retried(run: str) -> dict[str, Any]:
    """A square task retried once: a Retry node whose two Pod children are attempts."""
    return {
        f"{run}-r": {"id": f"{run}-r", "type": "Retry", "templateName": "square",
                     "phase": "Succeeded", "children": [f"{run}-a0", f"{run}-a1"]},
        f"{run}-a0": {"id": f"{run}-a0", "type": "Pod", "templateName": "square",
                      "phase": "Failed"},
        f"{run}-a1": {"id": f"{run}-a1", "type": "Pod", "templateName": "square",
                      "phase": "Succeeded"},
    }  # fmt: skip


def test_submit_creates_a_valid_workflow_records_the_run_and_ships_the_code(
    cluster: FakeCluster, settings: Settings, tmp_path: Path
) -> None:
    definition = load_pipeline(PIPELINE)
    api = KubeApi.connect(cluster.kubeconfig(tmp_path / "kubeconfig"))
    handle = submit_pipeline(
        definition, {"width": 5}, settings, namespace="ml", image=IMAGE, api=api
    )

    [request] = cluster.requests
    assert request.method == "POST"
    assert request.path == "/apis/argoproj.io/v1alpha1/namespaces/ml/workflows"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    body = request.body
    assert_valid(body)
    assert body["metadata"]["name"] == handle.run_id
    assert body["metadata"]["labels"]["argosy.io/run-id"] == handle.run_id
    assert body["spec"]["arguments"]["parameters"] == [{"name": "width", "value": "5"}]
    args = body["spec"]["templates"][0]["container"]["args"]
    digest = args[args.index("--code-package") + 1]
    assert (
        args[args.index("--pipeline") + 1] == package_ref(definition) == "wide_foreach:wide_foreach"
    )
    store = LocalStore(settings.store_root)
    assert store.has(digest)
    assert json.loads(store.get_record(code_package_key(digest)) or b"")["ref"] == package_ref(
        definition
    )

    run = open_reader(settings).get_run(handle.run_id)
    assert (run.backend, run.workflow_name, run.namespace) == ("argo", handle.run_id, "ml")
    assert run.parameters == {"width": 5}
    assert run.pipeline_ref == PIPELINE
    assert (run.project, run.owner, run.tags) == (None, "user:submitter", [])
    assert body["metadata"]["labels"]["argosy.io/owner"] == "user-submitter"
    assert body["spec"]["workflowMetadata"]["annotations"]["argosy.io/owner"] == "user:submitter"


def test_submit_without_a_code_package_loads_the_pipeline_from_the_image(
    cluster: FakeCluster, settings: Settings, tmp_path: Path
) -> None:
    api = KubeApi.connect(cluster.kubeconfig(tmp_path / "kubeconfig"))
    submit_pipeline(
        load_pipeline(PIPELINE), {"width": 5}, settings, image=IMAGE, api=api, code_package=False
    )
    args = cluster.requests[0].body["spec"]["templates"][0]["container"]["args"]
    assert "--code-package" not in args
    assert args[args.index("--pipeline") + 1] == PIPELINE


def test_watch_streams_per_step_progress_until_the_workflow_ends(
    cluster: FakeCluster, settings: Settings, tmp_path: Path
) -> None:
    api = KubeApi.connect(cluster.kubeconfig(tmp_path / "kubeconfig"))
    handle = submit_pipeline(load_pipeline(PIPELINE), {"width": 3}, settings, image=IMAGE, api=api)
    run = handle.run_id
    early = {"numbers": ["Succeeded"], "square": ["Running", "Pending"]}
    running = {"phase": "Running", "nodes": _nodes(run, early)}
    done_nodes = _nodes(run, {"numbers": ["Succeeded"], "square": ["Succeeded"] * 2,
                              "total": ["Succeeded"]}, exit_phase="Succeeded")  # fmt: skip
    done = {"phase": "Succeeded", "nodes": done_nodes | _retried(run)}
    cluster.statuses = [{"phase": "Pending"}, running, running, done]

    seen = list(handle.watch(interval=0.01))
    assert [s.phase for s in seen] == ["Pending", "Running", "Succeeded"]  # repeats are not shown
    assert seen[1].steps["square"].total == 2
    assert seen[1].steps["square"].running == 1
    assert seen[1].steps["square"].pending == 1
    final = seen[-1]
    assert final.finished
    assert final.run_status.value == "succeeded"
    assert {name: (p.total, p.succeeded, p.failed) for name, p in final.steps.items()} == {
        "numbers": (1, 1, 0),
        "square": (3, 3, 0),  # the retried task counts once; its failed attempt does not
        "total": (1, 1, 0),
    }
    reads = [r for r in cluster.requests if r.method == "GET"]
    assert {r.path for r in reads} == {
        f"/apis/argoproj.io/v1alpha1/namespaces/argosy/workflows/{run}"
    }


def test_pod_logs_finds_each_attempt_by_labels(cluster: FakeCluster, tmp_path: Path) -> None:
    labels = {"workflows.argoproj.io/workflow": "wf-1", "argosy.io/step": "square",
              "argosy.io/index": "4"}  # fmt: skip
    cluster.pods = [
        {"metadata": {"name": "p-second", "labels": labels,
                      "creationTimestamp": "2026-01-01T00:01:00Z"}},
        {"metadata": {"name": "p-first", "labels": labels,
                      "creationTimestamp": "2026-01-01T00:00:00Z"}},
        {"metadata": {"name": "p-other", "labels": labels | {"argosy.io/index": "5"},
                      "creationTimestamp": "2026-01-01T00:00:00Z"}},
    ]  # fmt: skip
    cluster.logs = {"p-first": "boom\n", "p-second": "16\n", "p-other": "25\n"}
    kubeconfig = cluster.kubeconfig(tmp_path / "kubeconfig")

    text = pod_logs("wf-1", "square", 4, "ml", kubeconfig=kubeconfig)
    assert text == "--- attempt 0 (p-first) ---\nboom\n--- attempt 1 (p-second) ---\n16\n"
    assert pod_logs("wf-1", "square", 5, "ml", kubeconfig=kubeconfig) == "25\n"
    listing = cluster.requests[0]
    assert listing.path == "/api/v1/namespaces/ml/pods"
    assert listing.query["labelSelector"] == [
        "workflows.argoproj.io/workflow=wf-1,argosy.io/step=square,argosy.io/index=4"
    ]
    log_read = cluster.requests[1]
    assert log_read.path == "/api/v1/namespaces/ml/pods/p-first/log"
    assert log_read.query["container"] == ["main"]
    with pytest.raises(ObjectNotFound, match="store"):
        pod_logs("wf-1", "square", 9, "ml", kubeconfig=kubeconfig)


def test_api_errors_say_what_to_check(cluster: FakeCluster, tmp_path: Path) -> None:
    api = KubeApi.connect(cluster.kubeconfig(tmp_path / "kubeconfig"))
    with pytest.raises(ObjectNotFound, match="--namespace"):
        api.workflow("argosy", "missing")
    cluster.fail_with = 403
    with pytest.raises(ClusterError, match="RBAC"):
        api.workflow("argosy", "missing")
    unreachable = KubeApi.connect(FakeCluster(url="http://127.0.0.1:9").kubeconfig(tmp_path / "k2"))
    with pytest.raises(ClusterError, match="unreachable"):
        unreachable.workflow("argosy", "x")


def test_submit_through_the_argo_server(cluster: FakeCluster, settings: Settings) -> None:
    api = ArgoServerApi(cluster.url, token="argo-token")
    handle = submit_pipeline(load_pipeline(PIPELINE), {"width": 2}, settings, image=IMAGE, api=api)
    [request] = cluster.requests
    assert request.path == "/api/v1/workflows/argosy"
    assert request.headers["authorization"] == "Bearer argo-token"
    assert_valid(request.body["workflow"])
    cluster.statuses = [{"phase": "Failed", "message": "child failed"}]
    final = handle.wait(interval=0.01)
    assert (final.phase, final.message, final.run_status.value) == (
        "Failed",
        "child failed",
        "failed",
    )


def _cli(*args: str, home: Path, kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ARGOSY_HOME=str(home), KUBECONFIG=str(kubeconfig), ARGOSY_IMAGE=IMAGE)
    return subprocess.run(
        [sys.executable, "-m", "argosy", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_cli_submit_watch_and_status(cluster: FakeCluster, tmp_path: Path) -> None:
    kubeconfig = cluster.kubeconfig(tmp_path / "kubeconfig")
    cluster.statuses = [
        {"phase": "Running", "nodes": {"n": {"id": "n", "type": "Pod", "templateName": "numbers",
                                             "phase": "Running"}}},
        {"phase": "Succeeded", "nodes": {"n": {"id": "n", "type": "Pod", "templateName": "numbers",
                                               "phase": "Succeeded"}}},
    ]  # fmt: skip
    home = tmp_path / "home"
    result = _cli("submit", PIPELINE, "--param", "width=4", "--watch", "--json", "-n", "ml",
                  home=home, kubeconfig=kubeconfig)  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "succeeded"
    assert "numbers: 1/1 succeeded" in result.stderr
    body = cluster.requests[0].body
    assert_valid(body)
    assert body["metadata"]["name"] == payload["run_id"]

    status = _cli("status", payload["run_id"], "--json", home=home, kubeconfig=kubeconfig)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["steps"]["numbers"]["succeeded"] == 1
    run_path = f"/apis/argoproj.io/v1alpha1/namespaces/ml/workflows/{payload['run_id']}"
    assert cluster.requests[-1].path == run_path  # the namespace recorded at submit

    cluster.statuses = [{"phase": "Failed", "message": "square failed"}]
    failed = _cli("submit", PIPELINE, "--watch", home=home, kubeconfig=kubeconfig)
    assert failed.returncode == 1
    assert "square failed" in failed.stderr

    missing = _cli("status", "no-such-run", home=home, kubeconfig=kubeconfig)
    assert missing.returncode == 1
    assert "not found" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_cli_submit_gives_the_run_a_project_an_owner_and_tags(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    kubeconfig = cluster.kubeconfig(tmp_path / "kubeconfig")
    home = tmp_path / "home"
    result = _cli("submit", PIPELINE, "--json", "--project", "fraud", "--tag", "nightly",
                  "-t", "dataset:v2", "--production", home=home, kubeconfig=kubeconfig)  # fmt: skip
    assert result.returncode == 0, result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    body = cluster.requests[0].body
    assert_valid(body)
    labels = body["metadata"]["labels"]
    assert (labels["argosy.io/project"], labels["argosy.io/owner"]) == ("fraud", "production")
    assert labels["tags.argosy.io/nightly"] == labels["tags.argosy.io/dataset-v2"] == "true"
    assert body["spec"]["workflowMetadata"]["annotations"] == {
        "argosy.io/project": "fraud",
        "argosy.io/owner": "production",
        "argosy.io/tags": '["nightly", "dataset:v2"]',
    }
    run = open_reader(Settings(home=home)).get_run(run_id)
    assert (run.project, run.owner, run.tags) == ("fraud", "production", ["dataset:v2", "nightly"])

    refused = _cli("submit", PIPELINE, "--tag", "a }} b", home=home, kubeconfig=kubeconfig)
    assert refused.returncode == 1 and "which Argo reads as a variable" in refused.stderr
    assert len(cluster.requests) == 1  # nothing was created


def test_the_pipeline_definitions_submit_uses_the_kubeconfig_of_the_environment(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    kubeconfig = cluster.kubeconfig(tmp_path / "kubeconfig")
    script = (
        "from argosy.config import Settings\n"
        "from argosy.dsl import load_pipeline\n"
        f"definition = load_pipeline({PIPELINE!r})\n"
        f"handle = definition.submit(namespace='ml', settings=Settings(home={str(tmp_path)!r}),"
        " width=3)\n"
        "print(handle.run_id)\n"
    )
    env = dict(os.environ, KUBECONFIG=str(kubeconfig))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    [request] = cluster.requests
    assert request.path == "/apis/argoproj.io/v1alpha1/namespaces/ml/workflows"
    assert request.body["metadata"]["name"] == result.stdout.strip()
    assert request.body["spec"]["arguments"]["parameters"] == [{"name": "width", "value": "3"}]
    assert_valid(request.body)


def test_submit_captures_imports_before_the_workflow_exists(
    cluster: FakeCluster, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argosy.errors import PipelineError
    from argosy.runtime.imports import imported_artifact
    from tests.backends.local import data_flows

    work = tmp_path / "work"
    (work / "corpus").mkdir(parents=True)
    (work / "table.csv").write_text("a\n1\n")
    (work / "corpus" / "one.txt").write_text("one")
    monkeypatch.chdir(work)
    api = KubeApi.connect(cluster.kubeconfig(tmp_path / "kubeconfig"))
    handle = submit_pipeline(
        data_flows.imports, {"table": "table.csv"}, settings, image=IMAGE, api=api,
        code_package=False,
    )  # fmt: skip
    store = LocalStore(settings.store_root)
    table = imported_artifact(store, handle.run_id, "table")
    assert (table.format, table.name, table.metadata) == (
        "file",
        "table.csv",
        {"source": "table.csv"},
    )
    assert imported_artifact(store, handle.run_id, "corpus").format == "dir"
    assert "table.csv" not in json.dumps(cluster.requests[0].body["spec"]["templates"])

    with pytest.raises(PipelineError, match=r"reads gone\.csv, which does not exist"):
        submit_pipeline(
            data_flows.imports, {"table": "gone.csv"}, settings, image=IMAGE, api=api,
            code_package=False,
        )  # fmt: skip
    assert len(cluster.requests) == 1  # nothing submitted, and no run recorded
    assert [r.id for r in open_reader(settings).list_runs(owner=None).data] == [handle.run_id]
