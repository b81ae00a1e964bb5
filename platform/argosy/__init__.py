"""Argosy: ML pipelines as typed Python functions, run locally or on Argo Workflows.

The public API is small: ``step``, ``pipeline``, ``Resources``, ``Retry``, ``when``, ``one_of``,
``run_status``, ``each``, ``importer`` and ``load_pipeline`` to write and load pipelines,
``log_metric`` and ``current`` (the running task's run id, step, index, attempt...) inside a
step, ``Artifact`` to return a value with metadata, ``register_serializer`` to add a storage
format, and ``Client`` to read past runs. Every name is imported on first use, so ``import
argosy`` (and with it every ``argosy`` command, ``--help`` included) loads nothing it does not
need. A pipeline's ``.run()``, ``.submit()`` and ``.compile()`` go to `argosy.launch`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from argosy.client import Client
    from argosy.dsl import (
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
    from argosy.runtime.context import current, log_metric
    from argosy.store.artifact import Artifact
    from argosy.store.registry import register_serializer

__version__ = "0.1.0"

_DSL = ["Resources", "Retry", "each", "importer", "load_pipeline", "one_of", "pipeline"]
_DSL += ["run_status", "step", "when"]
_LAZY = dict.fromkeys(_DSL, "argosy.dsl") | {
    "Artifact": "argosy.store.artifact",
    "Client": "argosy.client",
    "current": "argosy.runtime.context",
    "log_metric": "argosy.runtime.context",
    "register_serializer": "argosy.store.registry",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
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
