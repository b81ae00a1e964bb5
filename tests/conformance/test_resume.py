"""Resume on the cluster: a new Workflow without the finished steps, whose outputs are cloned.

The first run goes through `submit_pipeline` to the fake Kubernetes API of
`tests.backends.argo.fake_kube` (started here on 127.0.0.1) and its Workflow runs in the Argo
interpreter, against the S3 server and the metadata service: its join fails. `resume_run`
then clones the finished steps and submits a second Workflow, which runs only the join.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from argosy.backends.argo import resume_run, submit_pipeline
from argosy.backends.argo.kube import KubeApi
from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.metadata import open_reader
from argosy.runtime import read_output
from argosy.store import load, open_store
from tests.backends.argo.argo_schema import assert_valid
from tests.backends.argo.fake_kube import FakeCluster, fake_cluster
from tests.conformance.argo_interpreter import (
    SCRATCH,
    WorkflowResult,
    run_workflow,
)
from tests.conformance.conftest import MetadataService
from tests.conformance.test_conformance import secrets
from tests.servers.s3 import S3Server

PIPELINE = str(Path(__file__).with_name("flaky_pipeline.py"))

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    with fake_cluster() as running:
        yield running


@pytest.fixture
def settings(
    s3_server: S3Server, s3_bucket: str, metadata_service: MetadataService, tmp_path: Path
) -> Settings:
    """The submitting machine's settings: the test's S3 bucket and metadata service."""
    return Settings(
        home=tmp_path / "client",
        metadata_url=metadata_service.url,
        token=metadata_service.token,
        s3_endpoint=s3_server.endpoint,
        s3_bucket=s3_bucket,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_secure=False,
    )


@pytest.fixture
def run_on_cluster(
    s3_server: S3Server, s3_bucket: str, metadata_service: MetadataService
) -> Callable[[dict[str, Any]], WorkflowResult]:
    """Resolve the cluster's service names to this test's servers, then interpret the body."""
    local = {
        "ARGOSY_METADATA_URL": metadata_service.url,
        "ARGOSY_S3_ENDPOINT": s3_server.endpoint,
        "ARGOSY_S3_BUCKET": s3_bucket,
    }

    def run(body: dict[str, Any]) -> WorkflowResult:
        for variable in body["spec"]["templateDefaults"]["container"]["env"]:
            if variable["name"] in local:
                variable["value"] = local[variable["name"]]
        assert_valid(body)
        return run_workflow(body, secrets=secrets(s3_server, metadata_service))

    return run


def test_a_submitted_run_reads_its_outputs(
    cluster: FakeCluster,
    settings: Settings,
    run_on_cluster: Callable[[dict[str, Any]], WorkflowResult],
    tmp_path: Path,
) -> None:
    definition = load_pipeline(PIPELINE)
    params = definition.resolve_parameters({"width": 4, "marker": "/"})  # "/" always exists
    api = KubeApi.connect(cluster.kubeconfig(tmp_path / "kubeconfig"))
    handle = submit_pipeline(definition, params, settings, image="argosy/components:t", api=api)
    assert run_on_cluster(cluster.requests[0].body).phase == "Succeeded"
    assert handle.output() == 14
    assert handle.output("square") == [0, 1, 4, 9]


def test_resume_runs_only_what_did_not_finish(
    cluster: FakeCluster,
    settings: Settings,
    run_on_cluster: Callable[[dict[str, Any]], WorkflowResult],
    tmp_path: Path,
) -> None:
    marker = SCRATCH / f"marker-{uuid.uuid4().hex[:8]}"
    api = KubeApi.connect(cluster.kubeconfig(tmp_path / "kubeconfig"))
    definition = load_pipeline(PIPELINE)
    params = definition.resolve_parameters({"width": 5, "marker": str(marker)})
    first = submit_pipeline(definition, params, settings, image="argosy/components:t", api=api)

    failed = run_on_cluster(cluster.requests[0].body)
    assert failed.phase == "Failed"
    assert failed.tasks["square"].phase == "Succeeded"
    assert open_reader(settings).get_run(first.run_id).status.value == "failed"

    marker.write_text("ok")
    try:
        second = resume_run(first.run_id, settings, image="argosy/components:t", api=api)
        body = cluster.requests[-1].body
        [dag] = [t for t in body["spec"]["templates"] if t["name"] == body["spec"]["entrypoint"]]
        tasks = [task["name"] for task in dag["dag"]["tasks"]]
        assert tasks == ["total"]
        result = run_on_cluster(body)
    finally:
        marker.unlink()
    assert result.phase == "Succeeded", [a.stderr[-2000:] for a in result.attempts]
    assert {a.task for a in result.attempts} == {"total", "onExit"}  # no recompute

    store = open_store(settings)
    assert load(store, read_output(store, second.run_id, "total", 0).artifact) == 30
    reader = open_reader(settings)
    run = reader.get_run(second.run_id)
    assert (run.resumed_from, run.status.value) == (first.run_id, "succeeded")
    cloned = {(t.step, t.index): t.cloned_from for t in reader.list_tasks(second.run_id)}
    assert cloned[("numbers", 0)] == f"{first.run_id}.numbers.0"
    assert cloned[("square", 4)] == f"{first.run_id}.square.4"
    assert cloned[("total", 0)] is None
