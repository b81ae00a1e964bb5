"""The web UI's stable URLs: what the pages link to, and what the CLI prints after a run.

Each function takes the base URL of the service as users reach it (``http://host:8000``, or
``""`` for a link within the site) and returns the page's URL, its parts quoted. These paths are
a contract: scripts, chat messages and bookmarks keep them, so they only ever gain pages.
This module imports nothing heavy, so the CLI can call it for free.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

UI_PREFIX = "/ui"


def _join(base: str, *parts: str) -> str:
    path = "/".join(quote(part, safe="") for part in parts)
    return f"{base.rstrip('/')}{UI_PREFIX}/{path}"


def runs_url(base: str = "", **filters: str | None) -> str:
    """The list of runs, filtered by ``pipeline``, ``status``, ``project``, ``tag``, ... when
    given (filters that are None or empty are left out)."""
    query = urlencode({name: value for name, value in filters.items() if value})
    return _join(base, "runs") + (f"?{query}" if query else "")


def run_url(base: str, run_id: str) -> str:
    """The page of one run: its graph of steps, parameters and tasks."""
    return _join(base, "runs", run_id)


def task_url(base: str, run_id: str, step: str, index: int = 0) -> str:
    """The page of one task: its attempts, timings, inputs, outputs and log."""
    return _join(base, "runs", run_id, "tasks", step, str(index))


def task_id_url(base: str, task_id: str) -> str:
    """The page of the task with id ``run.step.index`` (step names hold no dot, so it parses)."""
    run_id, step, index = task_id.rsplit(".", 2)
    return task_url(base, run_id, step, int(index))


def artifact_url(base: str, digest: str) -> str:
    """The page of one artifact: its metadata, a preview and its lineage."""
    return _join(base, "artifacts", digest)


def diff_url(base: str, a: str, b: str) -> str:
    """The differences between run ``a`` and run ``b``."""
    return _join(base, "diff", a, b)


def argo_workflow_url(argo_ui: str, namespace: str, workflow: str) -> str:
    """The Argo UI's page of a workflow, on the Argo UI at ``argo_ui`` (``ARGOSY_ARGO_UI_URL``)."""
    return f"{argo_ui.rstrip('/')}/workflows/{quote(namespace, safe='')}/{quote(workflow, safe='')}"


__all__ = [
    "UI_PREFIX",
    "argo_workflow_url",
    "artifact_url",
    "diff_url",
    "run_url",
    "runs_url",
    "task_id_url",
    "task_url",
]
