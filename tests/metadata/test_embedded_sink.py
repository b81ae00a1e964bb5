"""The embedded sink (sqlite3, no SQLAlchemy) writes what the Repository writes, row for row.

The contract tests run it too (``embedded-sqlite`` in conftest); here the same writes go to a
Repository and to an EmbeddedSink, each on its own file, and every table is compared as SQLite
stores it: the same values, timestamps in the same text form, JSON the same.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from argosy.config import Settings
from argosy.errors import Conflict, MetadataUnavailable
from argosy.metadata import open_sink
from argosy.metadata.embedded import EmbeddedSink
from argosy.metadata.embedded_file import database_path
from argosy.metadata.repository import Repository
from argosy.metadata.revision import SCHEMA_REVISION
from argosy.metadata.schemas import RunStatus, RunUpdate, TaskInput, TaskStatus
from argosy.metadata.sink import MetadataSink
from argosy.store.base import ArtifactInfo
from tests.metadata.factories import artifact, run, task

_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
_NOW_COLUMNS = {"created_at", "heartbeat_at"}
"""Columns each writer fills with its own clock: compared by form, not value."""
_T0 = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2)))


def _write_everything(sink: MetadataSink) -> None:
    """Runs, tags, IR, a resume, running then finished attempts, retries, named outputs with
    metadata, mapped inputs, metrics, cache keys, a heartbeat and the runs' ends, each also
    written twice."""
    described = ArtifactInfo(
        **artifact("model").model_dump() | {"name": "m.bin"}, metadata={"auc": 0.9}
    )
    for _ in range(2):
        sink.create_run(
            run("r1", parameters={"k": [2, 4], "name": "é"}, started_at=_T0, tags=["b", "a"])
        )
        sink.create_run(run("r2", resumed_from="r1", pipeline_ref="p.py:demo", started_at=_T0))
        sink.heartbeat("r1")
        sink.record_tasks(
            [
                task("r1", "load", status=TaskStatus.RUNNING, started_at=_T0),
                task("r1", "fit", attempt=0, status=TaskStatus.FAILED, error="boom"),
            ]
        )
        sink.record_tasks(
            [
                task("r1", "load", output=artifact("x"), finished_at=_T0 + timedelta(seconds=3)),
                task(
                    "r1",
                    "fit",
                    attempt=1,
                    inputs={"data": artifact("x")},
                    output=artifact("y", length=3),
                    named_outputs={"model": described},
                    metrics={"loss": 0.25, "auc": 0.75},
                    cache_key="key-fit",
                    started_at=_T0,
                    finished_at=_T0 + timedelta(seconds=5),
                    log_key="logs/r1/fit/1",
                ),
                task(
                    "r2",
                    "load",
                    output=artifact("x"),
                    cache_hit=True,
                    gpu_fallback=True,
                    inputs={},
                    cloned_from="r1.load.0",
                ),
            ]
        )
        mapped = task("r2", "fit", index=1, output=artifact("z"))
        mapped.inputs.append(TaskInput(argument="x", artifact=artifact("x"), item=1))
        sink.record_tasks([mapped])
        sink.update_run("r1", RunUpdate(status=RunStatus.SUCCEEDED, finished_at=_T0))
        sink.update_run(
            "r2", RunUpdate(status=RunStatus.FAILED, error="fit failed", finished_at=_T0)
        )


def _tables(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows as stored, sorted, the writers' own clocks checked for form only."""
    connection = sqlite3.connect(path)
    try:
        names = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        tables = {}
        for name in names:
            cursor = connection.execute(f"SELECT * FROM {name}")
            columns = [column[0] for column in cursor.description]
            rows = []
            for row in cursor.fetchall():
                values = []
                for column, value in zip(columns, row, strict=True):
                    if column in _NOW_COLUMNS and value is not None:
                        assert _STAMP.fullmatch(value), (name, column, value)
                        value = "<now>"
                    values.append(value)
                rows.append(tuple(values))
            tables[name] = sorted(rows, key=repr)
    finally:
        connection.close()
    return tables


def test_the_embedded_sink_writes_the_rows_the_repository_writes(tmp_path: Path) -> None:
    with Repository(f"sqlite:///{tmp_path / 'repository.db'}") as repository:
        _write_everything(repository)
    embedded = EmbeddedSink(f"sqlite:///{tmp_path / 'embedded.db'}")
    _write_everything(embedded)
    embedded.close()
    expected, got = _tables(tmp_path / "repository.db"), _tables(tmp_path / "embedded.db")
    assert set(got) == set(expected)
    for table, rows in expected.items():
        assert got[table] == rows, table
    assert len(expected["events"]) == 7 and len(expected["metrics"]) == 2


def test_contradicting_writes_are_refused_and_change_nothing(tmp_path: Path) -> None:
    sink = EmbeddedSink(f"sqlite:///{tmp_path / 'metadata.db'}")
    sink.create_run(run("r1", nonce="a"))
    sink.record_tasks([task("r1", "load", output=artifact("x"))])
    with pytest.raises(Conflict, match="taken by another run"):
        sink.create_run(run("r1", nonce="b"))
    with pytest.raises(Conflict, match="already recorded as succeeded"):
        sink.record_tasks([task("r1", "load", output=artifact("other"))])
    sink.close()
    database = sqlite3.connect(tmp_path / "metadata.db")
    assert database.execute("SELECT output_digest FROM attempts").fetchall() == [
        (artifact("x").digest,)
    ]
    assert database.execute("SELECT nonce FROM runs").fetchall() == [("a",)]


def test_a_new_file_is_migrated_and_a_plain_sqlite_url_gets_the_embedded_sink(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path / "home")
    sink = open_sink(settings)
    assert isinstance(sink, EmbeddedSink)
    sink.check()
    version = sqlite3.connect(tmp_path / "home" / "metadata.db").execute(
        "SELECT version_num FROM alembic_version"
    )
    assert version.fetchone() == (SCHEMA_REVISION,)
    assert database_path("sqlite:///:memory:") is None
    assert database_path("sqlite:///a.db?mode=ro") is None
    assert database_path("sqlite:////tmp/a%20b/metadata.db") is None  # SQLAlchemy decodes it
    assert database_path("postgresql://db/argosy") is None


def test_an_unwritable_database_says_what_to_check(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(MetadataUnavailable, match="ARGOSY_HOME"):
        EmbeddedSink(f"sqlite:///{blocked / 'metadata.db'}")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a SQLite file" * 100)
    with pytest.raises(MetadataUnavailable, match=r"garbage\.db"):
        EmbeddedSink(f"sqlite:///{garbage}")


_PIPELINE = """
from argosy import pipeline, step


@step
def one(x: int) -> int:
    return x + 1


@pipeline
def p(x: int = 1):
    return one(x)
"""

_RUN = """
import sys

from argosy.backends.local import run_pipeline
from argosy.config import Settings
from argosy.dsl import load_pipeline

result = run_pipeline(load_pipeline(sys.argv[1]), {}, Settings(), progress=False)
print(result.status, sorted(m for m in ("sqlalchemy", "alembic") if m in sys.modules))
"""


def test_a_local_run_records_without_importing_sqlalchemy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOSY_HOME", str(tmp_path / "home"))
    open_sink(Settings())  # a new database is migrated (with SQLAlchemy) once
    (tmp_path / "flow.py").write_text(_PIPELINE)
    out = subprocess.run(
        [sys.executable, "-c", _RUN, str(tmp_path / "flow.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "succeeded []", out.stderr
    with Repository(Settings().embedded_database_url) as repository:
        assert [t.status for t in repository.list_tasks(repository.list_runs().data[0].id)] == [
            TaskStatus.SUCCEEDED
        ]
