"""Alembic migrations build exactly the schema of the models, on SQLite and Postgres."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from argosy.errors import MetadataUnavailable
from argosy.metadata import database
from argosy.metadata.models import Base
from argosy.metadata.repository import Repository
from argosy.metadata.revision import SCHEMA_REVISION
from argosy.metadata.schemas import TaskStatus
from tests.metadata.factories import artifact, run, task
from tests.servers.postgres import PostgresServer


def _config() -> Config:
    config = Config(str(database.MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(database.MIGRATIONS))
    return config


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("postgres_url")


def _differences(url: str) -> list:
    engine = database.connect(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_head_is_the_models_revision() -> None:
    assert ScriptDirectory.from_config(_config()).get_current_head() == SCHEMA_REVISION


def test_upgrade_head_matches_the_models(empty_url: str) -> None:
    engine = database.connect(empty_url)
    try:
        database.migrate(engine)
        with engine.connect() as connection:
            assert database.current_revision(connection) == SCHEMA_REVISION
    finally:
        engine.dispose()
    assert _differences(empty_url) == []


def test_a_drifted_model_is_detected(empty_url: str) -> None:
    """The comparison above can fail: an empty database differs from the models."""
    assert _differences(empty_url)


def test_downgrade_and_upgrade_again(empty_url: str) -> None:
    config = _config()
    engine = database.connect(empty_url)
    try:
        for target, step in (
            ("head", command.upgrade),
            ("base", command.downgrade),
            ("head", command.upgrade),
        ):
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                step(config, target)
    finally:
        engine.dispose()
    assert _differences(empty_url) == []


def _repository_at(engine: Engine, revision: str) -> Repository:
    """A repository on ``engine``'s database, migrated up to ``revision`` only."""
    with engine.begin() as connection:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return Repository(engine, migrate=False)


def test_0005_keeps_what_was_recorded(empty_url: str) -> None:
    """Upgrading a database at 0004 with runs in it: the attempts table is rebuilt (SQLite) and
    the run ids re-collated (Postgres), and nothing recorded is lost."""
    engine = database.connect(empty_url)
    try:
        older = _repository_at(engine, "0004")
        for run_id in ("ab-c", "abc-x"):
            older.create_run(run(run_id))
            older.record_tasks(
                [
                    task(run_id, "fit", status=TaskStatus.FAILED, error="OOM"),
                    task(run_id, "fit", attempt=1),
                ]
            )
        database.migrate(engine)
        repository = Repository(engine)
        attempts = repository.list_attempts("ab-c", "fit")
        assert [(a.attempt, a.status, a.error) for a in attempts] == [
            (0, TaskStatus.FAILED, "OOM"),
            (1, TaskStatus.SUCCEEDED, None),
        ]
        assert [r.id for r in repository.find_runs("ab-c")] == ["ab-c"]
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                collation = connection.exec_driver_sql(
                    "SELECT collation_name FROM information_schema.columns"
                    " WHERE table_name = 'runs' AND column_name = 'id'"
                ).scalar()
            assert collation == "C"
    finally:
        engine.dispose()


def test_run_id_prefixes_hold_whatever_the_databases_collation(
    postgres_server: PostgresServer,
) -> None:
    """In a database whose collation ignores punctuation (as glibc's en_US does), ``abc-x``
    sorts between ``ab-c`` and ``ab-d``; run ids compare by bytes, so it is not found."""
    name = "icu_shifted"
    with postgres_server.admin() as connection:
        try:
            connection.execute(
                f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu"
                " ICU_LOCALE 'en-US-u-ka-shifted' LOCALE 'C.UTF-8'"
            )
        except psycopg.errors.FeatureNotSupported as error:
            pytest.skip(f"this PostgreSQL has no ICU collations: {error}")
    try:
        with Repository(postgres_server.url(name)) as repository:
            for run_id in ("ab-c", "abc-x", "ab-cd", "ab.z"):
                repository.create_run(run(run_id))
            assert [r.id for r in repository.find_runs("ab-c")] == ["ab-cd", "ab-c"]
            assert [r.id for r in repository.find_runs("abc")] == ["abc-x"]
    finally:
        postgres_server.drop_database(name)


def _open(url: str) -> str:
    Repository(url).close()
    return "ok"


def test_processes_opening_a_fresh_database_together_migrate_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    with ProcessPoolExecutor(4) as pool:
        assert list(pool.map(_open, [url] * 4)) == ["ok"] * 4
    assert _differences(url) == []


def test_postgres_processes_migrate_once(postgres_url: str) -> None:
    with ProcessPoolExecutor(3) as pool:
        assert list(pool.map(_open, [postgres_url] * 3)) == ["ok"] * 3


def test_an_unreachable_database_says_so(postgres_server: PostgresServer) -> None:
    url = f"postgresql://nobody@127.0.0.1:{postgres_server.port}/no_such_database"
    with pytest.raises(MetadataUnavailable, match="no_such_database"):
        Repository(url)


def test_importing_the_package_is_light() -> None:
    code = (
        "import sys, argosy.metadata, argosy.metadata.schemas, argosy.metadata.reader;"
        "heavy = {'sqlalchemy', 'alembic', 'httpx', 'fastapi'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_0006_keeps_tasks_and_cache_entries_and_leaves_foreign_keys_on(empty_url: str) -> None:
    """Upgrading a database at 0005 with tasks, attempts and cache entries in it: the output
    digests' foreign keys go (SQLite rebuilds the tables others point at), nothing recorded
    is lost, and SQLite's connections enforce foreign keys again afterwards."""
    engine = database.connect(empty_url)
    try:
        older = _repository_at(engine, "0005")
        older.create_run(run("r1"))
        older.record_tasks([task("r1", "fit", output=artifact("m"), cache_key="k")])
        database.migrate(engine)
        repository = Repository(engine)
        assert [t.output.digest for t in repository.list_tasks("r1")] == [artifact("m").digest]  # type: ignore[union-attr]
        assert repository.find_cached("k") is not None
        with engine.connect() as connection:
            keys = connection.dialect.get_foreign_keys(connection, "tasks")
            assert {key["referred_table"] for key in keys} == {"runs"}
            if engine.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
