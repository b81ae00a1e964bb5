"""Deterministic record keys: where a run's per-task facts live in the store.

The output of step ``s``, index ``i``, of run ``r`` is found at a key derived from ``(r, s, i)``
alone, so a retry, a resume or a fan-in finds it without asking anybody. Unmapped steps have
one task, index 0.
"""

from __future__ import annotations


def output_key(run_id: str, step: str, index: int) -> str:
    """The record naming the artifact a task produced (an `OutputRecord`, JSON)."""
    return f"runs/{run_id}/outputs/{step}/{index}.json"


def log_key(run_id: str, step: str, index: int, attempt: int) -> str:
    """The captured stdout and stderr of one attempt of a task."""
    return f"runs/{run_id}/logs/{step}/{index}/{attempt}.log"


def code_package_key(digest: str) -> str:
    """The index record of a code package (its blob digest and entry points)."""
    return f"code/{digest}.json"


__all__ = ["code_package_key", "log_key", "output_key"]
