"""Fixtures of the web UI tests: the service app over real recorded runs, tokens, and a small
database of hand-made runs (hostile text, a live run, a wide map) for what recorded runs lack.

The recorded runs (`tests.pipelines.recorded`) are shared with other modules and only read; the
tests that write (a live run, a run of hostile strings) get a database of their own, ``made``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunCreate, RunStatus, RunUpdate, TaskRecord, TaskStatus
from argosy.metadata.service import create_app
from argosy.metadata.tokens import new_token
from argosy.store import LocalStore, save
from argosy.store.addresses import log_key
from tests.pipelines.recorded import SHOUTING, Recorded, recorded

ADMIN_TOKEN = "web-ui-admin-token-0123456789abcdefgh"
HOSTILE = "<script>alert('x')</script>"
"""User text that must show as text wherever it appears (a parameter, a tag, a log line)."""
WIDE = 120
"""Tasks of the wide map of the hand-made database (over two pages of the run page)."""


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return recorded(tmp_path_factory.getbasetemp())


@dataclass(frozen=True)
class Tokens:
    read: str
    write: str = ADMIN_TOKEN


def mint(home: Path) -> str:
    """A read token of the database under ``home``."""
    token = new_token()
    with Repository(f"sqlite:///{home / 'metadata.db'}") as repository:
        repository.add_token(token, "read", "web-ui-tests")
    return token


@pytest.fixture(scope="session")
def tokens(runs: Recorded) -> Tokens:
    return Tokens(read=mint(runs.home))


def ui_settings(home: Path, **overrides: object) -> Settings:
    return Settings(home=home, admin_token=ADMIN_TOKEN, **overrides)


@pytest.fixture
def http(runs: Recorded, tokens: Tokens) -> Iterator[TestClient]:
    """The service over the recorded runs, called in-process, with no token set."""
    with TestClient(create_app(ui_settings(runs.home))) as client:
        yield client


@pytest.fixture
def reader(http: TestClient, tokens: Tokens) -> TestClient:
    """``http`` with a read token in the header (as a script would send it)."""
    http.headers["Authorization"] = f"Bearer {tokens.read}"
    return http


@dataclass(frozen=True)
class Made:
    home: Path
    repository: Repository
    store: LocalStore
    hostile: str
    """A finished run whose parameters, tag, error and log hold `HOSTILE`."""
    live: str
    """A running run of the shouting pipeline: words done, shout[0] running."""
    wide: str
    """A finished run whose mapped step has `WIDE` tasks."""


def _shouting_run(run_id: str, **fields: object) -> RunCreate:
    pipeline = load_pipeline(SHOUTING).ir
    return RunCreate(
        id=run_id,
        pipeline=pipeline.name,
        pipeline_version=pipeline.digest(),
        pipeline_ir=pipeline.model_dump(mode="json"),
        **fields,
    )


def make_runs(home: Path) -> Made:
    """A database and store of hand-made runs under ``home`` (see `Made`)."""
    repository = Repository(f"sqlite:///{home / 'metadata.db'}", migrate=True)
    store = LocalStore(home / "store")
    start = datetime.now(UTC) - timedelta(minutes=5)
    words = save(store, ["hello", "world"])

    repository.create_run(
        _shouting_run(
            "hostile-run",
            parameters={"text": HOSTILE, "fail_on": ""},
            tags=[HOSTILE],
            started_at=start,
        )
    )
    key = log_key("hostile-run", "words", 0, 0)
    store.put_record(key, f"printed {HOSTILE}\n".encode())
    repository.record_tasks(
        [
            TaskRecord(
                run_id="hostile-run",
                step="words",
                status=TaskStatus.FAILED,
                started_at=start,
                finished_at=start + timedelta(seconds=2),
                error=f"ValueError: {HOSTILE}",
                log_key=key,
            )
        ]
    )
    ended = RunUpdate(
        status=RunStatus.FAILED, finished_at=start + timedelta(seconds=3), error=HOSTILE
    )
    repository.update_run("hostile-run", ended)

    now = datetime.now(UTC)
    repository.create_run(
        _shouting_run("live-run", parameters={"text": "hello world"}, started_at=now)
    )
    repository.heartbeat("live-run")  # read as lost (failed) after ARGOSY_LOST_AFTER_SECONDS
    repository.record_tasks(
        [
            TaskRecord(
                run_id="live-run",
                step="words",
                status=TaskStatus.SUCCEEDED,
                started_at=now,
                finished_at=now,
                output=words,
            ),
            TaskRecord(
                run_id="live-run", step="shout", index=0, status=TaskStatus.RUNNING, started_at=now
            ),
        ]
    )

    repository.create_run(_shouting_run("wide-run", started_at=start))
    repository.record_tasks(
        [
            TaskRecord(
                run_id="wide-run",
                step="shout",
                index=i,
                status=TaskStatus.SUCCEEDED,
                started_at=start,
                finished_at=start + timedelta(seconds=1),
                output=save(store, f"W{i}"),
            )
            for i in range(WIDE)
        ]
    )
    ended = RunUpdate(status=RunStatus.SUCCEEDED, finished_at=start + timedelta(seconds=9))
    repository.update_run("wide-run", ended)
    return Made(home, repository, store, "hostile-run", "live-run", "wide-run")


@pytest.fixture
def made(tmp_path: Path) -> Iterator[Made]:
    found = make_runs(tmp_path / "made")
    try:
        yield found
    finally:
        found.repository.close()


@pytest.fixture
def made_http(made: Made) -> Iterator[TestClient]:
    """The service over ``made``, open to anonymous reads."""
    app = create_app(ui_settings(made.home, anonymous_reads=True), repository=made.repository)
    with TestClient(app) as client:
        yield client
