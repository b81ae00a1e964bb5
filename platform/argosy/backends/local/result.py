"""`RunResult`: what a local run (or resume) ended with, per step, for people and for ``--json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from argosy.backends.local.outcomes import StepRun
from argosy.metadata.schemas import RunStatus
from argosy.store.base import ArtifactInfo


@dataclass(frozen=True)
class StepResult:
    """One step's tasks: how many, their outputs in index order, failures and reuse."""

    state: str
    tasks: int
    artifacts: list[ArtifactInfo]
    """The outputs of the succeeded tasks, in index order."""
    mapped: bool
    """Whether the step maps (its output is a list of its tasks' outputs)."""
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    """The error of each task that failed for good."""
    cache_hits: int = 0
    cloned: int = 0
    gpu_fallback: bool = False

    @classmethod
    def of(cls, run: StepRun) -> StepResult:
        done = [run.done[i] for i in sorted(run.done)]
        return cls(
            state=run.state.value,
            tasks=run.width or 0,
            artifacts=[r.output for r in done if r.output is not None],
            mapped=run.step.mapped is not None,
            failed=len(run.failed),
            errors=[r.error or "failed" for _, r in sorted(run.failed.items())],
            cache_hits=sum(r.cache_hit for r in done),
            cloned=sum(r.cloned_from is not None for r in done),
            gpu_fallback=any(r.gpu_fallback for r in [*done, *run.failed.values()]),
        )

    @property
    def outputs(self) -> list[str]:
        """Artifact digests of the succeeded tasks, in index order."""
        return [artifact.digest for artifact in self.artifacts]


@dataclass(frozen=True)
class RunResult:
    """A finished local run."""

    run_id: str
    pipeline: str
    status: RunStatus
    steps: dict[str, StepResult]
    resumed_from: str | None = None
    notes: list[str] = field(default_factory=list)
    """Things the user should know that did not stop the run (e.g. a step capped to all slots)."""
    seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.status is RunStatus.SUCCEEDED

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object of ``argosy run`` and ``argosy resume``."""
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "status": self.status.value,
            "resumed_from": self.resumed_from,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
            "steps": {
                name: {
                    "state": step.state,
                    "tasks": step.tasks,
                    "outputs": step.outputs,
                    "failed": step.failed,
                    "errors": step.errors,
                    "cache_hits": step.cache_hits,
                    "cloned": step.cloned,
                    "gpu_fallback": step.gpu_fallback,
                }
                for name, step in self.steps.items()
            },
        }


__all__ = ["RunResult", "StepResult"]
