"""``argosy schedule``: a pipeline's CronWorkflow created, updated and deleted through the
Kubernetes API (the fake one of `fake_kube`), with its code package in the real local store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from argosy.backends.argo.kube import KubeApi, ObjectNotFound
from argosy.backends.argo.schedule import schedule_pipeline, unschedule_pipeline
from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.errors import PipelineError
from argosy.store import LocalStore
from tests.backends.argo.argo_schema import assert_valid
from tests.backends.argo.fake_kube import FakeCluster

ROOT = Path(__file__).resolve().parents[3]
FLOWS = Path(__file__).with_name("scheduled.py")
IMAGE = "argosy/base:test0001"
CRONS = "/apis/argoproj.io/v1alpha1/namespaces/ml/cronworkflows"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def _api(cluster: FakeCluster, tmp_path: Path) -> KubeApi:
    return KubeApi.connect(cluster.kubeconfig(tmp_path / "kubeconfig"))


def test_schedule_creates_then_updates_the_cron_workflow(
    cluster: FakeCluster, settings: Settings, tmp_path: Path
) -> None:
    nightly = load_pipeline(f"{FLOWS}:nightly")
    api = _api(cluster, tmp_path)
    created = schedule_pipeline(
        nightly, {"label": "moon"}, settings, namespace="ml", image=IMAGE, api=api
    )

    read, create = cluster.requests
    assert (read.method, read.path) == ("GET", f"{CRONS}/nightly")
    assert (create.method, create.path) == ("POST", CRONS)
    body = create.body
    assert_valid(body)
    assert body["kind"] == "CronWorkflow"
    assert body["spec"]["schedules"] == ["0 3 * * *"]
    workflow_spec = body["spec"]["workflowSpec"]
    assert workflow_spec["arguments"]["parameters"] == [{"name": "label", "value": "moon"}]
    args = workflow_spec["templates"][0]["container"]["args"]
    assert LocalStore(settings.store_root).has(args[args.index("--code-package") + 1])
    assert (created.action, created.name, created.namespace) == ("created", "nightly", "ml")
    assert created.schedule == nightly.ir.schedule
    assert created.next_time is not None and created.next_time > datetime.now(UTC)
    assert (created.next_time.hour, created.next_time.minute) == (3, 0)

    updated = schedule_pipeline(
        nightly, {"label": "sun"}, settings, namespace="ml", image=IMAGE, schedule="0 4 * * *",
        api=api,
    )  # fmt: skip
    replace = cluster.requests[-1]
    assert (replace.method, replace.path) == ("PUT", f"{CRONS}/nightly")
    assert replace.body["metadata"]["resourceVersion"] == "1"
    assert replace.body["spec"]["schedules"] == ["0 4 * * *"]
    assert updated.action == "updated"
    assert cluster.workflows[("ml", "nightly")]["metadata"]["resourceVersion"] == "2"


def test_unschedule_deletes_it_and_keeps_the_runs_it_started(
    cluster: FakeCluster, settings: Settings, tmp_path: Path
) -> None:
    nightly = load_pipeline(f"{FLOWS}:nightly")
    api = _api(cluster, tmp_path)
    schedule_pipeline(nightly, {}, settings, namespace="ml", image=IMAGE, api=api)

    deleted = unschedule_pipeline(nightly, namespace="ml", api=api)

    delete = cluster.requests[-1]
    assert (delete.method, delete.path) == ("DELETE", f"{CRONS}/nightly")
    assert delete.query["propagationPolicy"] == ["Orphan"]
    assert (deleted.action, deleted.schedule) == ("deleted", None)
    with pytest.raises(ObjectNotFound, match=r"'nightly' has no CronWorkflow 'nightly'.*'ml'"):
        unschedule_pipeline(nightly, namespace="ml", api=api)


@pytest.mark.parametrize(
    ("name", "params", "schedule", "message"),
    [
        ("unscheduled", {}, None, "'unscheduled' declares none"),
        ("nightly", {}, "every night", "'every night' is not a cron schedule"),
        ("labelled", {}, None, "is required"),
    ],
)
def test_nothing_is_uploaded_or_sent_for_a_schedule_that_cannot_run(
    cluster: FakeCluster,
    settings: Settings,
    tmp_path: Path,
    name: str,
    params: dict[str, str],
    schedule: str | None,
    message: str,
) -> None:
    definition = load_pipeline(f"{FLOWS}:{name}")
    with pytest.raises((PipelineError, ValueError), match=message):
        schedule_pipeline(
            definition,
            params,
            settings,
            namespace="ml",
            image=IMAGE,
            schedule=schedule,
            api=_api(cluster, tmp_path),
        )
    assert cluster.requests == []
    assert not [path for path in settings.store_root.rglob("*") if path.is_file()]


def _argosy(cluster: FakeCluster, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    kubeconfig = cluster.kubeconfig(tmp_path / "kubeconfig")
    env = os.environ | {"ARGOSY_HOME": str(tmp_path / "home"), "ARGOSY_IMAGE": IMAGE}
    command = [sys.executable, "-m", "argosy", "schedule", *args, "--kubeconfig", str(kubeconfig)]
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT, check=False)


def test_argosy_schedule_says_what_it_did(cluster: FakeCluster, tmp_path: Path) -> None:
    created = _argosy(cluster, tmp_path, f"{FLOWS}:labelled", "-p", "label=x", "-n", "ml", "--json")
    assert created.returncode == 0, created.stderr
    result = json.loads(created.stdout)
    assert (result["action"], result["name"], result["namespace"]) == ("created", "labelled", "ml")
    assert result["schedule"]["crons"] == ["@hourly"]
    assert datetime.fromisoformat(result["next_time"]).minute == 0
    said = " ".join(created.stderr.split())
    assert "created CronWorkflow labelled in namespace ml: @hourly (UTC), concurrency allow" in said
    assert "next run at" in said

    refused = _argosy(cluster, tmp_path, f"{FLOWS}:labelled", "--delete", "-p", "label=x")
    assert refused.returncode == 1
    assert "--delete takes no --param" in refused.stderr
    deleted = _argosy(cluster, tmp_path, f"{FLOWS}:labelled", "-n", "ml", "--delete")
    assert deleted.returncode == 0, deleted.stderr
    assert "deleted CronWorkflow labelled in namespace ml" in " ".join(deleted.stdout.split())
    again = _argosy(cluster, tmp_path, f"{FLOWS}:labelled", "-n", "ml", "--delete")
    assert again.returncode == 1
    assert "nothing to unschedule" in again.stderr
    assert "Traceback" not in again.stderr + refused.stderr
