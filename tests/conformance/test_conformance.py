"""Every example pipeline, compiled and run by the Argo interpreter, equals `argosy run`.

The compiled Workflow (code package in S3, as `argosy submit` sends it) runs in the harness of
`argo_interpreter`, each pod a local process against the real S3 server (SeaweedFS) and the
metadata service on Postgres over HTTP. Its output artifacts, task for task, and its lineage
graph must be those of a local run of the same pipeline with the same parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from argosy.backends.argo.cluster import ClusterConfig
from argosy.backends.argo.compiler import compile_pipeline
from argosy.backends.local import run_pipeline
from argosy.code_package import pack, package_ref
from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.metadata import open_reader
from argosy.metadata.schemas import LineageGraph
from argosy.runtime import map_width, read_output
from argosy.store import open_store
from tests.backends.argo.argo_schema import assert_valid
from tests.conformance.argo_interpreter import run_workflow
from tests.conformance.conftest import MetadataService
from tests.servers.s3 import S3Server

ROOT = Path(__file__).resolve().parents[2]
SMALL = {
    "wide_foreach": {"width": 6},
    "kmeans_sweep": {"n_docs": 300, "ks": [2, 3]},
    "classifier": {},
    "cooc": {"n_docs": 300, "vocab_size": 200},
    "incremental": {"n_chunks": 3, "chunk_size": 200},
    "gpu_embed": {"n_docs": 300, "vocab_size": 200, "dim": 8},
}
PIPELINES = sorted(path.stem for path in (ROOT / "pipelines").glob("*.py"))
TIMED = {
    "cooc": {"cooc_python", "cooc_sparse", "cooc_numba", "cooc_numba_parallel", "check_agreement"}
}
"""Steps whose outputs hold their own wall-clock times, so their bytes differ on every run
(two local runs too): their digests are not compared, their place in the lineage is."""

pytestmark = pytest.mark.slow


def secrets(s3: S3Server, service: MetadataService) -> dict[tuple[str, str], str]:
    """The Secrets the chart creates, with this test's credentials."""
    return {
        ("argosy-s3", "access-key"): s3.access_key,
        ("argosy-s3", "secret-key"): s3.secret_key,
        ("argosy-metadata-token", "token"): service.token,
    }


def cluster(s3: S3Server, bucket: str, service: MetadataService) -> ClusterConfig:
    """The cluster's service addresses, here: the test's S3 server and metadata service."""
    return ClusterConfig(metadata_url=service.url, s3_endpoint=s3.endpoint, s3_bucket=bucket)


def outputs(settings: Settings, run_id: str, pipeline: Any, params: dict[str, Any]) -> dict:
    """Every task's output digest, per step in index order, read from the store."""
    store = open_store(settings)
    result = {}
    for step in pipeline.steps:
        width = map_width(pipeline, step.name, run_id=run_id, params=params, store=store)
        result[step.name] = [
            read_output(store, run_id, step.name, i).artifact.digest for i in range(width)
        ]
    return result


def edges(graph: LineageGraph, run_id: str) -> set[tuple[Any, ...]]:
    """A run graph's data flow, tasks named without their run id, artifacts by their producers.

    Naming an artifact by the tasks that produced it (its digest when no task of the run did)
    compares the shape of the lineage even where bytes differ between runs (`TIMED`); the
    digests themselves are compared by `outputs`.
    """
    producers: dict[str, list[str]] = {}
    for edge in graph.edges:
        if edge.kind == "output":
            producers.setdefault(edge.target, []).append(edge.source.removeprefix(f"{run_id}."))

    def name(node: str) -> str:
        task = node.removeprefix(f"{run_id}.")
        if task != node:
            return task
        return "output of " + ",".join(sorted(producers[node])) if node in producers else node

    return {(name(e.source), name(e.target), e.kind, e.argument, e.item) for e in graph.edges}


@pytest.mark.parametrize("name", PIPELINES)
def test_compiled_workflow_runs_like_argosy_run(
    name: str,
    s3_server: S3Server,
    s3_bucket: str,
    metadata_service: MetadataService,
    tmp_path: Path,
) -> None:
    definition = load_pipeline(str(ROOT / "pipelines" / f"{name}.py"))
    params = definition.resolve_parameters(SMALL.get(name, {}))

    local_settings = Settings(home=tmp_path / "local")
    local = run_pipeline(
        definition, params, local_settings, max_workers=2, progress=False, gpu_fallback=True
    )
    assert local.succeeded, local.steps

    s3_settings = s3_server.settings(s3_bucket, tmp_path / "client")
    digest = pack(definition, open_store(s3_settings))
    workflow = compile_pipeline(
        definition,
        ref=package_ref(definition),
        image="argosy/components:conformance",
        cluster=cluster(s3_server, s3_bucket, metadata_service),
        code_package=digest,
        parameters=params,
    )
    document = workflow.to_dict()
    assert_valid(document)
    result = run_workflow(document, secrets=secrets(s3_server, metadata_service))
    failures = [a.stderr[-3000:] for a in result.attempts if a.returncode]
    assert result.phase == "Succeeded", failures
    assert result.exit_phase == "Succeeded"

    pipeline = definition.ir
    argo_outputs = outputs(s3_settings, result.name, pipeline, params)
    timed = TIMED.get(name, set())
    for step, digests in argo_outputs.items():
        expected = local.steps[step].outputs
        assert len(digests) == len(expected), step
        if step not in timed:
            assert digests == expected, f"step {step}: other outputs than argosy run"

    service = Settings(metadata_url=metadata_service.url, token=metadata_service.token)
    remote = open_reader(service)
    run = remote.get_run(result.name)
    assert (run.status.value, run.backend) == ("succeeded", "argo")
    local_graph = edges(open_reader(local_settings).run_graph(local.run_id), local.run_id)
    assert len(local_graph) >= 2 * len(pipeline.steps) - 1  # every task read or wrote
    assert edges(remote.run_graph(result.name), result.name) == local_graph
