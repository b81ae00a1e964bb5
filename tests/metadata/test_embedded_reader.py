"""The embedded reader (sqlite3, no SQLAlchemy) lists and finds runs as the Repository does.

The contract tests read through it too (``embedded-sqlite`` in conftest); here one database is
read through both, filter by filter and page by page, lost runs and cursors included, and the
answers must be equal.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from argosy.config import Settings
from argosy.errors import MetadataError, NotFound
from argosy.metadata import open_reader
from argosy.metadata.embedded import EmbeddedSink
from argosy.metadata.embedded_reader import EmbeddedReader
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunStatus, RunUpdate
from tests.metadata.factories import run

_LOST_AFTER = 60.0


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[Repository, EmbeddedReader]]:
    """Runs of two pipelines, projects, owners and tags, finished, failed, running and lost,
    several created in the same microsecond; read through a Repository and an EmbeddedReader."""
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    sink = EmbeddedSink(url)
    for number in range(23):
        sink.create_run(
            run(
                f"run-{number:02d}",
                pipeline="train" if number % 3 else "score",
                project="vision" if number % 2 else None,
                owner="user:ada" if number % 4 else "production",
                tags=[tag for tag in ("nightly", "gpu", "ünï") if number % (len(tag) + 1) == 0],
                parameters={"n": number, "name": "é"},
            )
        )
        if number % 5 == 0:
            sink.update_run(f"run-{number:02d}", RunUpdate(status=RunStatus.SUCCEEDED))
        elif number % 5 == 1:
            sink.update_run(f"run-{number:02d}", RunUpdate(status=RunStatus.FAILED, error="x"))
        else:
            sink.heartbeat(f"run-{number:02d}")
    sink.close()
    database = sqlite3.connect(tmp_path / "metadata.db")
    with database:
        database.execute(  # three runs created at the same instant: ordered by id
            "UPDATE runs SET created_at = (SELECT created_at FROM runs WHERE id = 'run-10') "
            "WHERE id IN ('run-11', 'run-12')"
        )
        old = (datetime.now() - timedelta(hours=1)).isoformat(" ", "microseconds")
        database.execute(  # lost: running, no heartbeat for an hour
            "UPDATE runs SET heartbeat_at = ? WHERE id IN ('run-02', 'run-13')", (old,)
        )
    database.close()
    repository = Repository(url, lost_after=_LOST_AFTER)
    reader = EmbeddedReader(url, lost_after=_LOST_AFTER)
    yield repository, reader
    reader.close()
    repository.close()


_FILTERS: list[dict[str, Any]] = [
    {},
    {"pipeline": "train"},
    {"pipeline": "nothing"},
    {"status": RunStatus.RUNNING},
    {"status": RunStatus.FAILED},
    {"status": RunStatus.SUCCEEDED, "pipeline": "score"},
    {"project": "vision"},
    {"owner": "production"},
    {"owner": "user:ada", "project": "vision", "status": RunStatus.RUNNING},
    {"tags": ["gpu"]},
    {"tags": ["gpu", "nightly", "gpu"]},
    {"tags": ["ünï"]},
    {"id_prefix": "run-1"},
    {"id_prefix": "run-0", "pipeline": "train"},
    {"id_prefix": "no such prefix"},
    {"id_prefix": "zz"},
]


@pytest.mark.parametrize("filters", _FILTERS, ids=repr)
@pytest.mark.parametrize("limit", [1, 4, 50, 0, 5000])
def test_every_page_of_every_listing_is_the_repositorys(
    both: tuple[Repository, EmbeddedReader], filters: dict[str, Any], limit: int
) -> None:
    repository, reader = both
    cursor: str | None = None
    pages = 0
    while True:
        expected = repository.list_runs(limit=limit, cursor=cursor, **filters)
        assert reader.list_runs(limit=limit, cursor=cursor, **filters) == expected
        pages += 1
        cursor = expected.next_cursor
        if cursor is None:
            break
    assert pages == max(1, -(-(expected.count or 0) // max(limit, 1)))


def test_lost_runs_read_as_failed_and_say_how_to_resume(
    both: tuple[Repository, EmbeddedReader],
) -> None:
    repository, reader = both
    lost = reader.get_run("run-02")
    assert lost == repository.get_run("run-02")
    assert lost.status is RunStatus.FAILED
    assert "argosy resume run-02" in (lost.error or "")
    assert reader.get_run("run-03").status is RunStatus.RUNNING
    running = reader.list_runs(status=RunStatus.RUNNING, limit=100).data
    assert "run-02" not in {r.id for r in running}


def test_finding_runs_and_everything_else_answers_as_the_repository(
    both: tuple[Repository, EmbeddedReader],
) -> None:
    repository, reader = both
    assert reader.find_runs("run-1", 3) == repository.find_runs("run-1", 3)
    assert reader.get_run("run-07") == repository.get_run("run-07")
    assert reader.run_steps("run-07") == repository.run_steps("run-07")  # the Repository's
    with pytest.raises(NotFound, match="no run run-99; `argosy runs`"):
        reader.get_run("run-99")
    with pytest.raises(MetadataError, match="not a cursor of this service"):
        reader.list_runs(cursor="bm90IGEgY3Vyc29y")


def test_a_plain_sqlite_file_is_read_through_the_embedded_reader(tmp_path: Path) -> None:
    assert isinstance(open_reader(Settings(home=tmp_path / "home")), EmbeddedReader)
    other = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}?timeout=5")
    assert isinstance(open_reader(other), Repository)


_LIST = """
import sys

from argosy import Client

print([run.id for run in Client(owner=None).runs()], "sqlalchemy" in sys.modules)
"""


def test_listing_runs_imports_no_sqlalchemy(
    both: tuple[Repository, EmbeddedReader], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOSY_DATABASE_URL", both[1].url)
    out = subprocess.run(
        [sys.executable, "-c", _LIST], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"{[r.id for r in both[0].list_runs(limit=1000).data]} False"
