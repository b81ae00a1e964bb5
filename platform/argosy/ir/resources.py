"""What a task needs (`Resources`) and how it is tried again (`Retry`)."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator, model_validator

from argosy import quantities
from argosy.ir.model import Model


class Resources(Model):
    """What one task of a step needs from the machine or the cluster."""

    cpu: float = 1.0
    """CPU cores (or millicores, ``"500m"``); the local backend gives a task ``ceil(cpu)`` slots."""
    memory: str | None = None
    """Kubernetes memory quantity (``"4Gi"``); requested and limited on the cluster."""
    gpu: int = 0
    """Number of GPUs (``nvidia.com/gpu`` on the cluster, ``CUDA_VISIBLE_DEVICES`` locally)."""
    gpu_type: str | None = None
    """Name of a GPU profile (node selector and tolerations come from configuration)."""

    @field_validator("cpu", mode="before")
    @classmethod
    def _cores(cls, cpu: Any) -> Any:
        return quantities.cpu_cores(cpu) if isinstance(cpu, str) else cpu

    @model_validator(mode="after")
    def _check(self) -> Resources:
        if self.cpu <= 0:
            raise ValueError(f"cpu must be positive, got {self.cpu}")
        if self.gpu < 0:
            raise ValueError(f"gpu must be zero or more, got {self.gpu}")
        if self.gpu_type is not None and self.gpu == 0:
            raise ValueError(f"gpu_type={self.gpu_type!r} given but gpu=0; ask for gpu=1 or more")
        if self.memory is not None:
            quantities.memory_bytes(self.memory)
        return self

    @property
    def memory_bytes(self) -> int | None:
        """The memory request in bytes, or None when none was given."""
        return None if self.memory is None else quantities.memory_bytes(self.memory)


class Retry(Model):
    """How often a failed task is tried again, and how long to wait between tries."""

    limit: int = 0
    """Retries after the first attempt (so ``limit + 1`` attempts at most)."""
    backoff_seconds: float = 1.0
    """Wait before the first retry."""
    backoff_factor: float = 2.0
    """Each further wait is the previous one times this."""
    max_backoff_seconds: float = 300.0
    """No wait is longer than this."""

    def own(self, attempt: int) -> int:
        """The try of a task that attempt number ``attempt`` is: a sub-pipeline run again as
        a whole numbers its tasks' attempts on, ``limit + 1`` per run of it."""
        return attempt % (self.limit + 1)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (1 is the first retry)."""
        if attempt <= 0:
            return 0.0
        return min(
            self.backoff_seconds * self.backoff_factor ** (attempt - 1), self.max_backoff_seconds
        )


RESOURCE_FIELDS = ("cpu", "memory", "gpu")


__all__ = ["RESOURCE_FIELDS", "Resources", "Retry"]
