"""Pod logs of one task of an Argo run, found by the labels the compiler puts on every pod.

Argo labels each pod with its workflow (``workflows.argoproj.io/workflow``, the run id); each
step template adds ``argosy.io/step`` and ``argosy.io/index``. Each attempt of a task is a pod,
so a retried task has several logs, oldest first. Pods are garbage-collected after a workflow
succeeds; the runtime also captures every attempt's output into the store, where ``argosy logs``
finds it when the pods are gone.
"""

from __future__ import annotations

from pathlib import Path

from argosy.backends.argo.compiler import LABEL_INDEX, LABEL_STEP
from argosy.backends.argo.kube import KubeApi, ObjectNotFound

WORKFLOW_LABEL = "workflows.argoproj.io/workflow"


def pod_logs(
    run_id: str,
    step: str,
    index: int = 0,
    namespace: str = "argosy",
    *,
    api: KubeApi | None = None,
    kubeconfig: Path | None = None,
) -> str:
    """The main container's log of every attempt of task (run_id, step, index), oldest first."""
    if api is not None:
        return _task_logs(api, run_id, step, index, namespace)
    api = KubeApi.connect(kubeconfig)
    try:
        return _task_logs(api, run_id, step, index, namespace)
    finally:
        api.close()


def _task_logs(api: KubeApi, run_id: str, step: str, index: int, namespace: str) -> str:
    labels = {WORKFLOW_LABEL: run_id, LABEL_STEP: step, LABEL_INDEX: str(index)}
    pods = api.pods(namespace, labels)
    if not pods:
        raise ObjectNotFound(
            f"no pod of run {run_id!r}, step {step!r}, index {index} in namespace {namespace!r}: "
            "it has not started, or its pods were cleaned up after the run succeeded (then "
            "`argosy logs` reads the copy in the store)"
        )
    if len(pods) == 1:
        return api.pod_log(namespace, pods[0].metadata.name)
    parts = []
    for attempt, pod in enumerate(pods):
        name = pod.metadata.name
        parts.append(f"--- attempt {attempt} ({name}) ---\n{api.pod_log(namespace, name)}")
    return "".join(parts)


__all__ = ["WORKFLOW_LABEL", "pod_logs"]
