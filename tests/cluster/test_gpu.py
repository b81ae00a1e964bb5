"""GPU scheduling on the real scheduler: the request, the profile's node selector and toleration.

The test node advertises 2 fake ``nvidia.com/gpu``, is in pool ``argosy.io/gpu-pool=test`` and
carries the taint ``nvidia.com/gpu``; ``tests/cluster/gpu-profiles.yaml`` maps ``a100`` to that
pool and ``h100`` to a pool no node is in. A step on one a100 runs there; one asking for more
GPUs than the node has, or for an h100, is left Pending by the scheduler, which says why.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest

from tests.cluster.conftest import argosy, kubectl
from tests.cluster.node import FAKE_GPUS, GPU_LABEL

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(600)]

PIPELINES = "tests/cluster/gpu_pipelines.py"


def _workflow(env: dict[str, str], run_id: str) -> dict[str, Any]:
    return kubectl(env, "get", "workflow", run_id, "-n", "argosy")


def test_a_gpu_step_runs_on_the_gpu_node_with_its_request_selector_and_toleration(
    argosy_env: dict[str, str],
) -> None:
    done = argosy(argosy_env, "submit", f"{PIPELINES}:one_gpu", "-n", "argosy", "--watch", "--json")
    run_id = json.loads(done.stdout)["run_id"]
    workflow = _workflow(argosy_env, run_id)
    [template] = [t for t in workflow["spec"]["templates"] if t["name"] == "on-one-gpu"]
    assert template["container"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert template["nodeSelector"] == {GPU_LABEL[0]: GPU_LABEL[1]}
    assert {"key": "nvidia.com/gpu", "operator": "Exists"} in template["tolerations"]
    [pod] = [n for n in workflow["status"]["nodes"].values() if n["type"] == "Pod"
             and n["templateName"] == "on-one-gpu"]  # fmt: skip
    assert (pod["phase"], pod["hostNodeName"]) == ("Succeeded", "argosy-node")
    node = kubectl(argosy_env, "get", "node", "argosy-node")
    assert node["status"]["allocatable"]["nvidia.com/gpu"] == str(FAKE_GPUS)


@pytest.mark.parametrize(
    ("pipeline", "reason"),
    [("three_gpus", "Insufficient nvidia.com/gpu"), ("h100", "node affinity/selector")],
)
def test_a_gpu_step_the_node_cannot_take_stays_pending(
    pipeline: str, reason: str, argosy_env: dict[str, str]
) -> None:
    done = argosy(argosy_env, "submit", f"{PIPELINES}:{pipeline}", "-n", "argosy", "--json")
    run_id = json.loads(done.stdout)["run_id"]
    try:
        message = ""
        deadline = time.monotonic() + 120
        while reason not in message and time.monotonic() < deadline:
            pods = kubectl(argosy_env, "get", "pods", "-n", "argosy",
                           "-l", f"workflows.argoproj.io/workflow={run_id}")  # fmt: skip
            conditions = [c for pod in pods["items"] for c in pod["status"].get("conditions", [])
                          if c["type"] == "PodScheduled"]  # fmt: skip
            message = " ".join(c.get("message", "") for c in conditions if c["status"] == "False")
            time.sleep(2)
        assert reason in message, f"the scheduler did not say {reason!r}: {message!r}"
    finally:
        _delete_workflow(argosy_env, run_id)


def _delete_workflow(env: dict[str, str], run_id: str) -> None:
    """Delete the Workflow (and so its pending pod): it would wait for a GPU forever."""
    subprocess.run(["kubectl", "delete", "workflow", run_id, "-n", "argosy", "--wait=false"],
                   env=env, capture_output=True, check=True)  # fmt: skip
