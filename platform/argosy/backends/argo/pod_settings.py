"""What one step asks of Kubernetes: resources, GPU tolerations, retries and its deadline.

Each function turns a part of an `ir.Step` into the Hera object the compiler puts on the step's
container template or DAG task.
"""

from __future__ import annotations

import math

from hera.workflows import RetryStrategy
from hera.workflows.models import Backoff, Quantity, ResourceRequirements, Toleration

from argosy import ir
from argosy.backends.argo.gpu import DEFAULT_GPU_RESOURCE, GpuProfile
from argosy.quantities import cpu_quantity


def resources(step: ir.Step, profile: GpuProfile | None) -> ResourceRequirements:
    """Requests equal to limits: the step's CPU, its memory as written, and its GPUs.

    Built as Kubernetes' own object: Hera's `Resources` refuses decimal memory units (``650M``)
    that Kubernetes and `argosy.quantities` take.
    """
    wanted = {"cpu": Quantity(cpu_quantity(step.resources.cpu))}
    if step.resources.memory is not None:
        wanted["memory"] = Quantity(step.resources.memory)
    if step.resources.gpu:
        gpu = profile.resource if profile else DEFAULT_GPU_RESOURCE
        wanted[gpu] = Quantity(str(step.resources.gpu))
    return ResourceRequirements(requests=wanted, limits=dict(wanted))


def tolerations(profile: GpuProfile | None) -> list[Toleration] | None:
    if profile is None or not profile.tolerations:
        return None
    return [Toleration(**t.model_dump(exclude_none=True)) for t in profile.tolerations]


def retry_strategy(retry: ir.Retry) -> RetryStrategy | None:
    """``limit`` retries after the first attempt, waits growing by ``factor`` up to a cap."""
    if retry.limit == 0:
        return None
    factor = retry.backoff_factor
    return RetryStrategy(
        limit=retry.limit,
        retry_policy="Always",
        backoff=Backoff(
            duration=_duration(retry.backoff_seconds),
            factor=int(factor) if float(factor).is_integer() else str(factor),
            cap=_duration(retry.max_backoff_seconds),
        ),
    )


def _duration(seconds: float) -> str:
    return f"{seconds:g}s"


def deadline(step: ir.Step) -> int | None:
    return None if step.timeout_seconds is None else math.ceil(step.timeout_seconds)


__all__ = ["deadline", "resources", "retry_strategy", "tolerations"]
