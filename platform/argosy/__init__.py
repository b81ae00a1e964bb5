"""Argosy: ML pipelines as typed Python functions, run locally or on Argo Workflows.

The public API is small: ``step``, ``pipeline``, ``Resources``, ``when``, ``one_of`` and
``run_status`` to write pipelines,
``log_metric`` and ``current`` (the running task's run id, step, index, attempt...) inside a
step, and ``Client`` to read past runs. ``Client``, ``log_metric`` and ``current``
are imported on first use, so ``import argosy`` stays fast. Importing the package also hands
`argosy.launch` to every pipeline, for ``.run()``, ``.submit()`` and ``.compile()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from argosy import launch
from argosy.dsl import (
    PipelineDefinition,
    Resources,
    Retry,
    load_pipeline,
    one_of,
    pipeline,
    run_status,
    step,
    when,
)

if TYPE_CHECKING:
    from argosy.client import Client
    from argosy.runtime.context import current, log_metric

__version__ = "0.1.0"

PipelineDefinition.launcher = launch

_LAZY = {
    "Client": "argosy.client",
    "current": "argosy.runtime.context",
    "log_metric": "argosy.runtime.context",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'argosy' has no attribute {name!r}")


__all__ = [
    "Client",
    "Resources",
    "Retry",
    "current",
    "load_pipeline",
    "log_metric",
    "one_of",
    "pipeline",
    "run_status",
    "step",
    "when",
]
