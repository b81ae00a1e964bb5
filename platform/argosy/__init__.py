"""Argosy: ML pipelines as typed Python functions, run locally or on Argo Workflows.

The public API is small: ``step``, ``pipeline``, ``Resources``, ``when``, ``one_of``,
``run_status``, ``each`` and ``importer`` to write pipelines,
``log_metric`` and ``current`` (the running task's run id, step, index, attempt...) inside a
step, ``Artifact`` to return a value with metadata, ``register_serializer`` to add a storage
format, and ``Client`` to read past runs. ``Client``, ``log_metric``, ``current``, ``Artifact``
and ``register_serializer`` are imported on first use, so ``import argosy`` stays fast.
Importing the package also hands
`argosy.launch` to every pipeline, for ``.run()``, ``.submit()`` and ``.compile()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from argosy import launch
from argosy.dsl import (
    PipelineDefinition,
    Resources,
    Retry,
    each,
    importer,
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
    from argosy.store.artifact import Artifact
    from argosy.store.registry import register_serializer

__version__ = "0.1.0"

PipelineDefinition.launcher = launch

_LAZY = {
    "Artifact": "argosy.store.artifact",
    "Client": "argosy.client",
    "current": "argosy.runtime.context",
    "log_metric": "argosy.runtime.context",
    "register_serializer": "argosy.store.registry",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'argosy' has no attribute {name!r}")


__all__ = [
    "Artifact",
    "Client",
    "Resources",
    "Retry",
    "current",
    "each",
    "importer",
    "load_pipeline",
    "log_metric",
    "one_of",
    "pipeline",
    "register_serializer",
    "run_status",
    "step",
    "when",
]
