"""What a run left behind, read the way a user would: its metadata, and its outputs in the store."""

from __future__ import annotations

from argosy.config import Settings
from argosy.metadata import open_reader
from argosy.metadata.schemas import RunPublic, TaskStatus
from argosy.runtime import find_output
from argosy.store import open_store


def only_run(settings: Settings) -> RunPublic:
    runs = open_reader(settings).list_runs().data
    assert len(runs) == 1, [run.id for run in runs]
    return runs[0]


def run_of(settings: Settings, run_id: str) -> RunPublic:
    return open_reader(settings).get_run(run_id)


def recorded_tasks(settings: Settings, run_id: str, step: str = "work") -> dict[int, int]:
    """Per index of ``step``, the attempts the metadata recorded for its task."""
    tasks = [t for t in open_reader(settings).list_tasks(run_id) if t.step == step]
    indices = [t.index for t in tasks]
    assert len(indices) == len(set(indices)), "a task is recorded twice"
    return {t.index: t.attempts for t in tasks if t.status is TaskStatus.SUCCEEDED}


def stored_outputs(settings: Settings, run_id: str, width: int, step: str = "work") -> set[int]:
    """The indices of ``step`` whose output is in the store: the tasks that finished."""
    store = open_store(settings)
    return {i for i in range(width) if find_output(store, run_id, step, i) is not None}


__all__ = ["only_run", "recorded_tasks", "run_of", "stored_outputs"]
