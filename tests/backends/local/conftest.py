"""Fixtures and helpers of the local-backend tests (`settings` is the whole suite's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from argosy.backends.local import RunResult
from argosy.config import Settings
from argosy.metadata import open_reader
from argosy.metadata.schemas import TaskPublic
from argosy.runtime import read_output
from argosy.store import load, open_store


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    """A directory where steps leave a mark each time they run."""
    return tmp_path / "marks"


def output(settings: Settings, result: RunResult, step: str, index: int = 0) -> Any:
    """The value task (step, index) of ``result``'s run produced."""
    store = open_store(settings)
    return load(store, read_output(store, result.run_id, step, index).artifact)


def tasks(settings: Settings, run_id: str) -> dict[tuple[str, int], TaskPublic]:
    """The run's tasks as recorded in the metadata, by (step, index)."""
    return {(t.step, t.index): t for t in open_reader(settings).list_tasks(run_id)}


def logs(settings: Settings, key: str | None) -> str:
    """The captured output stored at ``key``."""
    assert key is not None, "no log was recorded"
    return (open_store(settings).get_record(key) or b"").decode()


def runs_of(marks: Path, name: str) -> int:
    """How many times a step that marks ``name`` ran."""
    return len(list(marks.glob(f"{name}.*")))
