"""The running task's context: where `log_metric` puts what a step reports.

A `ContextVar` holds the metrics of the task being executed; `argosy.runtime.run_task` opens it
around the user's function and records what was logged on the task.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from argosy.errors import PipelineError

_metrics: ContextVar[dict[str, float] | None] = ContextVar("argosy_task_metrics", default=None)


def log_metric(name: str, value: float) -> None:
    """Record ``name = value`` on the task that is running (the last value of a name wins)."""
    metrics = _metrics.get()
    if metrics is None:
        raise PipelineError(
            f"log_metric({name!r}, ...) was called outside a running task; metrics can only be "
            "logged by a step while Argosy runs it (argosy run, .run(), or on the cluster)"
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PipelineError(
            f"metric {name!r} must be a number, got {type(value).__name__} {value!r}"
        ) from None
    if not math.isfinite(number):
        raise PipelineError(f"metric {name!r} must be finite, got {number}")
    metrics[str(name)] = number


@contextmanager
def collecting_metrics() -> Iterator[dict[str, float]]:
    """Make `log_metric` record into the yielded dict for the duration."""
    metrics: dict[str, float] = {}
    token = _metrics.set(metrics)
    try:
        yield metrics
    finally:
        _metrics.reset(token)


__all__ = ["collecting_metrics", "log_metric"]
