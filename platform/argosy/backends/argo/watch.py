"""Progress of a running Workflow, per step, read from its status as Argo writes it.

Argo records one node per task attempt in ``status.nodes``: a ``Pod`` node per attempt, under
a ``Retry`` node when the template has a retryStrategy. A task is its Retry node, or its Pod
node when it has none. Tasks are grouped by step through the template that ran them (each step
template's args name its step), so the onExit handler and DAG nodes never count as tasks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from argosy.backends.argo.compiler import ENTRYPOINT
from argosy.errors import ClusterError
from argosy.metadata.schemas import RunStatus

FINISHED_PHASES = {"Succeeded", "Failed", "Error"}
_RUN_STATUS = {
    "Pending": RunStatus.PENDING,
    "Running": RunStatus.RUNNING,
    "Succeeded": RunStatus.SUCCEEDED,
    "Failed": RunStatus.FAILED,
    "Error": RunStatus.FAILED,
}


class WorkflowApi(Protocol):
    """Creating and reading Workflows: the Kubernetes API (`KubeApi`) or the Argo Server."""

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def workflow(self, namespace: str, name: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class StepProgress:
    """How far the tasks of one step are (the total grows as a fan-out expands)."""

    step: str
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    running: int = 0

    @property
    def pending(self) -> int:
        return self.total - self.succeeded - self.failed - self.running


@dataclass(frozen=True)
class WorkflowSnapshot:
    """A Workflow's phase and per-step progress at one moment."""

    name: str
    phase: str
    message: str | None
    steps: dict[str, StepProgress]

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED_PHASES

    @property
    def run_status(self) -> RunStatus:
        return _RUN_STATUS.get(self.phase, RunStatus.PENDING)


def snapshot(workflow: dict[str, Any]) -> WorkflowSnapshot:
    """The progress of a Workflow object as the Kubernetes API returns it."""
    spec, status = workflow.get("spec", {}), workflow.get("status") or {}
    step_of = _step_templates(spec)
    nodes: dict[str, dict[str, Any]] = status.get("nodes") or {}
    attempts = {
        child
        for node in nodes.values()
        if node.get("type") == "Retry"
        for child in node.get("children", [])
    }
    counts: dict[str, dict[str, int]] = {step: {} for step in step_of.values()}
    for node_id, node in nodes.items():
        step = step_of.get(node.get("templateName", ""))
        if step is None or node_id in attempts or node.get("type") not in ("Pod", "Retry"):
            continue
        phase = node.get("phase", "Pending")
        counts[step][phase] = counts[step].get(phase, 0) + 1
    steps = {
        step: StepProgress(
            step=step,
            total=sum(phases.values()),
            succeeded=phases.get("Succeeded", 0),
            failed=phases.get("Failed", 0) + phases.get("Error", 0),
            running=phases.get("Running", 0),
        )
        for step, phases in counts.items()
    }
    return WorkflowSnapshot(
        name=workflow.get("metadata", {}).get("name", ""),
        phase=status.get("phase") or "Pending",
        message=status.get("message"),
        steps=steps,
    )


def _step_templates(spec: dict[str, Any]) -> dict[str, str]:
    """Template name -> step name, for the templates that run the task entrypoint."""
    step_of = {}
    for template in spec.get("templates", []):
        container = template.get("container") or {}
        args = container.get("args") or []
        if container.get("command") == ENTRYPOINT and "--step" in args:
            step_of[template["name"]] = args[args.index("--step") + 1]
    return step_of


def watch_workflow(
    api: WorkflowApi,
    namespace: str,
    name: str,
    *,
    interval: float = 2.0,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[WorkflowSnapshot]:
    """Each new state of the workflow, until it finishes (ClusterError after ``timeout`` s)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last: WorkflowSnapshot | None = None
    while True:
        current = snapshot(api.workflow(namespace, name))
        if current != last:
            yield current
            last = current
        if current.finished:
            return
        if deadline is not None and time.monotonic() > deadline:
            raise ClusterError(
                f"workflow {name!r} did not finish within {timeout:g} s; it keeps running: "
                f"follow it with `argosy status {name}`"
            )
        sleep(interval)


__all__ = [
    "FINISHED_PHASES",
    "StepProgress",
    "WorkflowApi",
    "WorkflowSnapshot",
    "snapshot",
    "watch_workflow",
]
