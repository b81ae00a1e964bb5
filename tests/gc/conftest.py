"""Helpers of the gc tests: real local runs on the test's fresh ARGOSY_HOME (`settings`), runs
made older than they are, and a collection in one call."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from argosy.backends.local import run_pipeline
from argosy.client import Client
from argosy.config import Settings
from argosy.dsl import PipelineDefinition
from argosy.gc import Collection, GcOptions, apply, open_repository, plan
from argosy.metadata.models import RunRow
from argosy.metadata.pruning import RunSelection
from argosy.store import LocalStore, open_store
from argosy.store.packed import FILE_NAME

USER = "tester"


@pytest.fixture
def home(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test's settings, its runs owned by ``user:tester``."""
    monkeypatch.setenv("ARGOSY_USER", USER)
    return Settings()


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding ``table.csv`` (for imports)."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "table.csv").write_text("a,b\n1,2\n")
    monkeypatch.chdir(folder)
    return folder


def run(settings: Settings, definition: PipelineDefinition, **params: Any) -> str:
    """Run ``definition`` here; its run id."""
    return run_pipeline(definition, params, settings, max_workers=2, progress=False).run_id


def age(settings: Settings, run_id: str, days: float) -> None:
    """Make run ``run_id`` look ``days`` older than it is."""
    shift = timedelta(days=days)
    with open_repository(settings) as repository, repository.engine.begin() as connection:
        row = connection.execute(
            select(RunRow.created_at, RunRow.started_at).where(RunRow.id == run_id)
        ).one()
        connection.execute(
            update(RunRow)
            .where(RunRow.id == run_id)
            .values(created_at=row.created_at - shift, started_at=row.started_at - shift)
        )


def age_blobs(settings: Settings, days: float) -> None:
    """Make every blob of the local store look ``days`` older: its file, or its row in the
    packed file (`argosy.store.packed`, stored times in seconds)."""
    shift = timedelta(days=days).total_seconds()
    for blob in (settings.store_root / "blobs").rglob("*"):
        if blob.is_file():
            then = blob.stat().st_mtime - shift
            os.utime(blob, (then, then))
    with contextlib.closing(sqlite3.connect(settings.store_root / FILE_NAME)) as packed, packed:
        packed.execute("UPDATE blobs SET stored_at = stored_at - ?", (int(shift),))


def collect(
    settings: Settings, *, dry_run: bool = False, grace: float = 0, **selection: Any
) -> Collection:
    """Plan a collection of the runs ``selection`` names (a `RunSelection`) and, unless
    ``dry_run``, apply it."""
    options = GcOptions(RunSelection(**selection), grace=timedelta(seconds=grace))
    store = open_store(settings)
    with open_repository(settings) as repository:
        planned = plan(repository, store, options)
        return planned if dry_run else apply(repository, store, planned, options)


def run_ids(settings: Settings) -> set[str]:
    """Every recorded run, whoever owns it."""
    return {found.id for found in Client(settings, owner=None).runs(limit=None)}


def blobs(settings: Settings) -> set[str]:
    return {blob.digest for blob in LocalStore(settings.store_root).blobs()}


def outputs(settings: Settings, run_id: str) -> dict[str, Any]:
    """The value of every task's output of run ``run_id``, by ``step[index]``."""
    return {
        f"{task.step}[{task.index}]": task.output.load()
        for task in Client(settings).run(run_id).tasks()
        if task.output is not None
    }
