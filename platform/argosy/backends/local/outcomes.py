"""How the steps of a local run end, and what follows from it.

`StepRun` is one step's progress in a run (its state, its tasks' records); `ended_as` says
whether an ended step ended as a step waiting for it needs (success, failure, any or no
success of a map, any end, a join's branch); `failed_steps` says which failures fail the run,
as Argo decides a workflow's phase from its DAG's last tasks, so a run ends the same locally
and on Argo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from argosy import ir
from argosy.metadata.schemas import TaskRecord

SHORT_SECONDS = 0.05
"""A step whose tasks take less than this on average is short (`StepRun.behind`)."""
QUEUED_SECONDS = 0.02
"""About how much work of a short step waits behind a worker's running task: enough that the
worker never waits for the scheduler between tasks, even while the scheduler pauses or waits
for a core, little enough that the workers end a fan-out together (within about this much of
each other). A 1,000-task fan-out of trivial tasks ran 30-45 ms faster with 20 ms than with
5 ms (tests/benchmarks/bench_local.py)."""
MAX_BEHIND = 32
"""The most tasks that wait behind a worker's running task."""


class StepState(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class StepRun:
    """How far one step has come in this run."""

    step: ir.Step
    state: StepState = StepState.WAITING
    width: int | None = None
    done: dict[int, TaskRecord] = field(default_factory=dict)
    failed: dict[int, TaskRecord] = field(default_factory=dict)
    """The last attempt of each task that failed for good."""
    caught: set[int] = field(default_factory=set)
    """Tasks in `done` that failed for good in a ``catch`` step."""
    seconds: float = 0.0
    """Time its finished attempts took, together."""
    attempts: int = 0
    resources: list[ir.Resources] | None = None
    """Each task's resources, when some are decided at run time."""
    base_attempt: int = 0
    """The attempt number its tasks start from: its sub-pipeline's runs before took those."""

    def reset(self, base_attempt: int) -> None:
        """Wait again, as its sub-pipeline runs again as a whole."""
        self.state, self.width, self.resources = StepState.WAITING, None, None
        self.done, self.failed, self.caught = {}, {}, set()
        self.base_attempt = base_attempt

    @property
    def ended(self) -> bool:
        return self.state in (StepState.SUCCEEDED, StepState.FAILED, StepState.SKIPPED)

    @property
    def mean_seconds(self) -> float:
        """How long its finished attempts took on average (0 before the first)."""
        return self.seconds / self.attempts if self.attempts else 0.0

    @property
    def behind(self) -> int:
        """How many of its tasks may wait behind a worker's running task: none unless they
        are short (the way to and from a worker matters), then about `QUEUED_SECONDS` of them,
        at least one and at most `MAX_BEHIND`."""
        if self.attempts < 2 or self.seconds >= SHORT_SECONDS * self.attempts:
            return 0
        if self.seconds <= 0:
            return MAX_BEHIND
        return max(1, min(MAX_BEHIND, int(QUEUED_SECONDS * self.attempts / self.seconds)))


def ended_as(run: StepRun, outcome: str) -> bool:
    """Whether the ended step ``run`` ended as a step waiting for ``outcome`` of it needs."""
    if outcome == "finished":
        return True
    # a caught task counts as done, as on Argo, where its pod ends well having recorded it
    if outcome == "one_of":
        return run.state in (StepState.SUCCEEDED, StepState.SKIPPED)
    if outcome == "failed":
        return run.state is StepState.FAILED
    if outcome == "any_succeeded":
        return run.state is not StepState.SKIPPED and bool(run.done)
    if outcome == "all_failed":
        return run.state is not StepState.SKIPPED and bool(run.width) and not run.done
    return run.state is StepState.SUCCEEDED


def failed_steps(pipeline: ir.Pipeline, steps: dict[str, StepRun]) -> list[str]:
    """The failed steps that fail the run, as Argo decides a workflow's phase from its DAG's
    last tasks (`branch_failures`); when nothing else did, a failed exit handler does."""
    failed = branch_failures([step for step in pipeline.steps if not step.exit], steps)
    if not failed:
        failed = [
            s.name for s in pipeline.steps if s.exit and steps[s.name].state is StepState.FAILED
        ]
    return failed


def branch_failures(members: list[ir.Step], steps: dict[str, StepRun]) -> list[str]:
    """The failed steps among ``members`` behind a last step of a branch of them: that step
    failed, or was skipped below a failure. A failure a handler took care of (the handler ended
    a branch) is not one of them."""
    names = {step.name for step in members}
    feeding = {upstream for step in members for upstream in step.upstream}
    causes: dict[str, list[str]] = {}

    def failures(name: str) -> list[str]:
        if name not in causes:
            run = steps[name]
            causes[name] = (
                [name]
                if run.state is StepState.FAILED
                else [f for u in run.step.upstream if u in names for f in behind(run, u)]
                if run.state is StepState.SKIPPED
                else []
            )
        return causes[name]

    def behind(run: StepRun, upstream: str) -> list[str]:
        """The failures a skipped step inherits from ``upstream``: those of its whole
        sub-pipeline call when it lies in another one."""
        group = steps[upstream].step.group
        if group is not None and group != run.step.group:
            return call_failures(group, steps)
        return failures(upstream)

    failed = [f for step in members if step.name not in feeding for f in failures(step.name)]
    return list(dict.fromkeys(failed))


def call_failures(group: str, steps: dict[str, StepRun]) -> list[str]:
    """The failures that fail sub-pipeline call ``group`` (`branch_failures` of its steps)."""
    return branch_failures([run.step for run in steps.values() if run.step.group == group], steps)


__all__ = [
    "MAX_BEHIND",
    "QUEUED_SECONDS",
    "SHORT_SECONDS",
    "StepRun",
    "StepState",
    "branch_failures",
    "call_failures",
    "ended_as",
    "failed_steps",
]
