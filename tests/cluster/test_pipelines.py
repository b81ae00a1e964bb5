"""Every example pipeline runs in real pods on the real Argo controller, as ``argosy run`` runs it.

Each pipeline is submitted as a user would, with ``argosy submit --watch`` and with
``.submit()`` from Python, against the cluster of ``tests/cluster``: the code package goes to
MinIO, the Workflow to the API server, Argo's controller makes the pods, the pods record their
tasks in the metadata service on Postgres. Every task's output digest and the run's lineage must
equal those of ``argosy run`` of the same pipeline with the same parameters on this machine.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from argosy.backends.local import run_pipeline
from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.metadata import open_reader
from tests.cluster.conftest import argosy, record_figure
from tests.cluster.parity import PIPELINES, ROOT, SMALL, TIMED, lineage_edges, task_digests
from tests.cluster.platform import Platform

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(1800)]


def _param_args(params: dict[str, Any]) -> list[str]:
    return [
        arg for name, value in params.items() for arg in ("--param", f"{name}={json.dumps(value)}")
    ]


def _submit_with_cli(name: str, overrides: dict[str, Any], env: dict[str, str]) -> str:
    done = argosy(
        env, "submit", f"pipelines/{name}.py", *_param_args(overrides), "--namespace", "argosy",
        "--watch", "--json",
    )  # fmt: skip
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded", done.stderr
    return result["run_id"]


def _submit_from_python(
    name: str, overrides: dict[str, Any], settings: Settings, monkeypatch: pytest.MonkeyPatch,
    cluster: Platform,
) -> str:  # fmt: skip
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    definition = load_pipeline(str(ROOT / "pipelines" / f"{name}.py"))
    handle = definition.submit(namespace="argosy", settings=settings, **overrides)
    final = handle.wait(timeout=1500)
    assert final.phase == "Succeeded", final.message
    return handle.run_id


@pytest.mark.parametrize("how", ["cli", "python"])
@pytest.mark.parametrize("name", PIPELINES)
def test_example_pipeline_runs_in_pods_like_argosy_run(
    name: str,
    how: str,
    cluster: Platform,
    argosy_env: dict[str, str],
    client_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    definition = load_pipeline(str(ROOT / "pipelines" / f"{name}.py"))
    overrides = SMALL.get(name, {})
    params = definition.resolve_parameters(overrides)

    started = time.monotonic()
    local_settings = Settings(home=tmp_path / "local")
    local = run_pipeline(
        definition, params, local_settings, max_workers=2, progress=False, gpu_fallback=True
    )
    local_seconds = time.monotonic() - started
    assert local.succeeded, local.steps

    started = time.monotonic()
    if how == "cli":
        run_id = _submit_with_cli(name, overrides, argosy_env)
    else:
        run_id = _submit_from_python(name, overrides, client_settings, monkeypatch, cluster)
    cluster_seconds = time.monotonic() - started
    record_figure(
        f"{name} ({how})", f"cluster {cluster_seconds:.1f} s, local {local_seconds:.1f} s"
    )

    timed = TIMED.get(name, set())
    pipeline = definition.ir
    for step, digests in task_digests(client_settings, run_id, pipeline, params).items():
        expected = local.steps[step].outputs
        assert len(digests) == len(expected), step
        if step not in timed:
            assert digests == expected, f"step {step}: other outputs on the cluster than locally"

    remote = open_reader(client_settings)
    run = remote.get_run(run_id)
    assert (run.status.value, run.backend, run.namespace) == ("succeeded", "argo", "argosy")
    local_graph = lineage_edges(open_reader(local_settings).run_graph(local.run_id), local.run_id)
    assert lineage_edges(remote.run_graph(run_id), run_id) == local_graph
