"""Failure semantics on real pods: retries, deadlines, skipped dependents, onExit, resume, cron.

The pipelines are in `tests.cluster.failing_pipelines`; the test and the pods agree through
marker objects in the bucket. What Argo did is read from the Workflow's own status (its nodes),
what Argosy recorded from the metadata service, as a user would with ``kubectl`` and ``argosy``.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from argosy.backends.argo import ClusterConfig, compile_pipeline
from argosy.backends.argo.compiler import manifest
from argosy.backends.argo.gpu import load_gpu_profiles
from argosy.backends.argo.kube import KubeApi
from argosy.backends.local import run_pipeline
from argosy.code_package import pack, package_ref
from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.metadata import open_reader
from argosy.ownership import Ownership
from argosy.runtime import read_output
from argosy.store import load, open_store
from tests.cluster import failing_pipelines
from tests.cluster.conftest import argosy, kubectl
from tests.cluster.platform import Platform

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(900)]

PIPELINES = "tests/cluster/failing_pipelines.py"
STEP_LABEL = "argosy.io/step"
DONE = {"Succeeded", "Failed", "Error"}
POD_TEMPLATES = ("breaks", "uses", "recover", "notify", "finish-run")


def _marker() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def _submit(env: dict[str, str], name: str, *params: str, succeed: bool) -> str:
    """``argosy submit --watch --json``; the run id. Exit code 0 exactly when it succeeded."""
    args = [arg for param in params for arg in ("--param", param)]
    done = argosy(
        env, "submit", f"{PIPELINES}:{name}", *args, "-n", "argosy", "--watch", "--json",
        check=False,
    )  # fmt: skip
    assert (done.returncode == 0) == succeed, done.stderr
    return json.loads(done.stdout)["run_id"]


def _pod_nodes(workflow: dict[str, Any], template: str) -> list[dict[str, Any]]:
    """The Workflow's pod nodes of one template, in the order they started."""
    nodes = [
        node
        for node in workflow["status"]["nodes"].values()
        if node["type"] == "Pod" and node.get("templateName") == template
    ]
    return sorted(nodes, key=lambda node: node.get("startedAt") or "")


def _finished(env: dict[str, str], run_id: str, timeout: float = 300) -> dict[str, Any]:
    """The Workflow once it has finished (as ``kubectl get workflow`` shows it)."""
    deadline = time.monotonic() + timeout
    while True:
        workflow = kubectl(env, "get", "workflow", run_id, "-n", "argosy")
        if workflow.get("status", {}).get("phase") in DONE or time.monotonic() > deadline:
            return workflow
        time.sleep(2)


def test_a_failed_attempt_is_retried_in_a_new_pod(argosy_env: dict[str, str]) -> None:
    run_id = _submit(argosy_env, "retried", f"marker={_marker()}", succeed=True)
    workflow = kubectl(argosy_env, "get", "workflow", run_id, "-n", "argosy")
    attempts = _pod_nodes(workflow, "fails-once")
    assert [node["phase"] for node in attempts] == ["Failed", "Succeeded"]
    assert workflow["status"]["phase"] == "Succeeded"


def test_a_step_past_its_deadline_fails_its_dependents_never_run_and_on_exit_records_it(
    argosy_env: dict[str, str], client_settings: Settings
) -> None:
    run_id = _submit(argosy_env, "deadline", succeed=False)
    workflow = kubectl(argosy_env, "get", "workflow", run_id, "-n", "argosy")
    [slow] = _pod_nodes(workflow, "too-slow")
    assert slow["phase"] == "Failed"
    assert "deadline" in slow.get("message", "").lower(), slow
    assert _pod_nodes(workflow, "after-slow") == []
    [on_exit] = _pod_nodes(workflow, "finish-run")
    assert on_exit["phase"] == "Succeeded"

    run = open_reader(client_settings).get_run(run_id)
    assert run.status.value == "failed"
    assert run.finished_at is not None
    tasks = {
        task.step: task.status.value for task in open_reader(client_settings).list_tasks(run_id)
    }
    assert tasks["after_slow"] == "skipped"  # no pod, recorded by the onExit handler


def test_a_failure_handler_and_an_exit_handler_run_as_they_do_locally(
    argosy_env: dict[str, str], client_settings: Settings, tmp_path: Path
) -> None:
    marker = _marker()
    run_id = _submit(argosy_env, "guarded", f"marker={marker}", succeed=False)
    workflow = kubectl(argosy_env, "get", "workflow", run_id, "-n", "argosy")
    assert workflow["status"]["phase"] == "Failed"  # `uses` never ran: that branch failed
    phases = {name: [n["phase"] for n in _pod_nodes(workflow, name)] for name in POD_TEMPLATES}
    assert phases == {
        "breaks": ["Failed"], "uses": [], "recover": ["Succeeded"], "notify": ["Succeeded"],
        "finish-run": ["Succeeded"],
    }  # fmt: skip

    reader = open_reader(client_settings)
    statuses = {task.step: task.status.value for task in reader.list_tasks(run_id)}
    assert reader.get_run(run_id).status.value == "failed"
    store = open_store(client_settings)
    told = load(store, read_output(store, run_id, "notify", 0).artifact)
    assert told == "the run failed"

    definition = load_pipeline(f"{PIPELINES}:guarded")
    local = run_pipeline(
        definition, {"marker": marker}, Settings(home=tmp_path / "local"), progress=False
    )
    assert local.status.value == "failed"
    assert {name: step.state for name, step in local.steps.items()} == {
        "breaks": "failed",
        "uses": "skipped",
        "recover": "succeeded",
        "notify": "succeeded",
    }
    assert statuses == {name: step.state for name, step in local.steps.items()}


def test_a_failed_run_is_inspected_and_resumed_rerunning_only_what_failed(
    argosy_env: dict[str, str],
    client_settings: Settings,
    cluster: Platform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = _marker()
    first = _submit(argosy_env, "flaky", "width=5", f"marker={marker}", succeed=False)

    listed = kubectl(argosy_env, "get", "workflows", "-n", "argosy")
    assert first in [item["metadata"]["name"] for item in listed["items"]]
    status = json.loads(argosy(argosy_env, "status", first, "--json", check=False).stdout)
    assert status["phase"] == "Failed"
    assert status["steps"]["square"]["succeeded"] == 5
    pods = kubectl(argosy_env, "get", "pods", "-n", "argosy",
                   "-l", f"workflows.argoproj.io/workflow={first},{STEP_LABEL}=total")  # fmt: skip
    [pod] = pods["items"]
    labels = pod["metadata"]["labels"]
    assert (labels[STEP_LABEL], labels["argosy.io/index"]) == ("total", "0")
    logs = argosy(argosy_env, "logs", first, "total").stdout
    assert f"marker {marker!r} is not in the bucket yet" in logs
    workflow = kubectl(argosy_env, "get", "workflow", first, "-n", "argosy")
    assert _pod_nodes(workflow, "report") == []

    for name, value in cluster.environment().items():
        monkeypatch.setenv(name, value)
    failing_pipelines.put_marker(marker)
    resumed = json.loads(argosy(argosy_env, "resume", first, "--json").stdout)
    second = resumed["run_id"]
    assert (resumed["status"], resumed["resumed_from"]) == ("submitted", first)
    workflow = _finished(argosy_env, second)
    assert workflow["status"]["phase"] == "Succeeded", workflow["status"].get("message")

    ran = {node["templateName"] for node in workflow["status"]["nodes"].values()
           if node["type"] == "Pod"}  # fmt: skip
    assert ran == {"total", "report", "finish-run"}
    store = open_store(client_settings)
    assert load(store, read_output(store, second, "total", 0).artifact) == 30
    reader = open_reader(client_settings)
    assert reader.get_run(second).resumed_from == first
    cloned = {(t.step, t.index): t.cloned_from for t in reader.list_tasks(second)}
    assert cloned[("square", 4)] == f"{first}.square.4"
    assert cloned[("total", 0)] is None


def test_a_cron_workflow_fires_and_its_run_succeeds(
    cluster: Platform, client_settings: Settings, argosy_env: dict[str, str]
) -> None:
    definition = load_pipeline(f"{PIPELINES}:greeting")
    store = open_store(client_settings)
    workflow = compile_pipeline(
        definition,
        ref=package_ref(definition),
        code_package=pack(definition, store),
        image=cluster.image,
        kind="cron",
        schedule="* * * * *",
        cluster=ClusterConfig(gpu_profiles=load_gpu_profiles(cluster.gpu_profiles)),
        parameters={"name": "cron"},
        ownership=Ownership("greetings", "production", ("cron", 'say "hi"')),
    )
    api = KubeApi.connect(cluster.kubeconfig)
    body = manifest(workflow)
    body["metadata"]["name"] = f"greeting-{uuid.uuid4().hex[:6]}"
    name = body["metadata"]["name"]
    api.create("argosy", body)
    try:
        deadline = time.monotonic() + 240
        finished = []
        while not finished and time.monotonic() < deadline:
            spawned = kubectl(argosy_env, "get", "workflows", "-n", "argosy",
                              "-l", f"workflows.argoproj.io/cron-workflow={name}")  # fmt: skip
            finished = [
                item for item in spawned["items"] if item.get("status", {}).get("phase") in DONE
            ]
            time.sleep(3)
    finally:
        api.custom.delete_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argosy", "cronworkflows", name
        )
    assert finished, "the CronWorkflow did not fire within 4 minutes"
    run = finished[0]
    assert run["status"]["phase"] == "Succeeded", run["status"].get("message")
    run_id = run["metadata"]["name"]
    assert load(store, read_output(store, run_id, "hello", 0).artifact) == "hello, cron"
    recorded = open_reader(client_settings).get_run(run_id)
    assert recorded.status.value == "succeeded"
    # the pods read the project, owner and tags from the annotations of workflowMetadata
    assert (recorded.project, recorded.owner) == ("greetings", "production")
    assert recorded.tags == ["cron", 'say "hi"']
    labels = run["metadata"]["labels"]
    assert (labels["argosy.io/project"], labels["tags.argosy.io/say-hi"]) == ("greetings", "true")
