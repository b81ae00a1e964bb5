"""Connecting to the metadata database and bringing its schema up to date.

`connect(url)` makes an engine tuned for this workload: SQLite in WAL mode with a busy timeout,
foreign keys on, and write transactions that take the write lock up front (``BEGIN IMMEDIATE``)
so concurrent local workers queue instead of failing; Postgres through psycopg 3 with a
pre-pinged pool, so a restarted database costs one reconnect, not an error.

`migrate(engine)` runs the Alembic migrations under a lock (the SQLite write lock, a Postgres
advisory lock), so processes that open a fresh database together migrate it once. A database
already at `SCHEMA_REVISION` is recognised with one query, without importing Alembic.
`errors(engine)` turns the driver's failures into Argosy's errors (Conflict, MetadataUnavailable,
MetadataError), each saying what to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DataError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from argosy.errors import Conflict, MetadataError, MetadataUnavailable
from argosy.metadata.embedded_file import BUSY_TIMEOUT, configure
from argosy.metadata.revision import SCHEMA_REVISION
from argosy.metadata.writes import refused_value

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x41_52_47_4F  # "ARGO": the Postgres advisory lock id of migrations
WRITE = {"argosy_write": True}
"""Execution options of a connection that will write (SQLite: ``BEGIN IMMEDIATE``)."""
_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def connect(url: str) -> Engine:
    """An engine on ``url`` (any SQLAlchemy URL; ``postgresql://`` means psycopg 3)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
    if parsed.get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": 10}
    return create_engine(parsed, **options)


def _sqlite_engine(url: Any) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        configure(dbapi_connection)  # autocommit: SQLAlchemy's begin event issues BEGIN

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("argosy_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def current_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    try:
        with connection.begin_nested():
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def migrate(engine: Engine) -> None:
    """Bring the schema to `SCHEMA_REVISION`; MetadataUnavailable if the database is unreachable."""
    try:
        with engine.connect() as connection:
            if _revision_outside_transaction(connection) == SCHEMA_REVISION:
                return
        with (
            engine.connect().execution_options(**WRITE) as connection,
            _rebuilding_tables(connection),
            connection.begin(),
        ):
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK}
                )
            if current_revision(connection) != SCHEMA_REVISION:
                _upgrade(connection)
    except SQLAlchemyError as error:
        raise MetadataUnavailable(
            f"cannot open the metadata database {engine.url.render_as_string()}: {error}; "
            "check that it is running and the URL (ARGOSY_DATABASE_URL) is right"
        ) from error


@contextmanager
def _rebuilding_tables(connection: Connection) -> Iterator[None]:
    """On SQLite, foreign keys unenforced while migrations run (set before their transaction,
    the only place SQLite takes it): a migration that rebuilds a table others point at (a
    batch migration) drops it, which enforcement refuses; the rows are copied as they are."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _revision_outside_transaction(connection: Connection) -> str | None:
    try:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        connection.rollback()
        return None


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@contextmanager
def errors(engine: Engine) -> Iterator[None]:
    """Raise what went wrong on ``engine`` inside the block as an Argosy error."""
    try:
        yield
    except IntegrityError as error:
        raise Conflict(f"the write contradicts recorded metadata: {error.orig}") from error
    except _UNAVAILABLE as error:
        raise MetadataUnavailable(
            f"the metadata database failed ({type(error).__name__}: {error}); check that "
            f"{engine.url.render_as_string()} is reachable and migrated"
        ) from error
    except DataError as error:
        raise MetadataError(f"the database refused the values given: {error.orig}") from error
    except (OverflowError, UnicodeEncodeError) as error:
        raise refused_value(error) from error


def insert(connection: Connection, model: Any) -> Any:
    """An INSERT for ``model`` in the connection's dialect (for its ON CONFLICT clauses)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(model)


def insert_ignore(connection: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping those whose key is recorded already."""
    if rows:
        connection.execute(insert(connection, model).on_conflict_do_nothing(), rows)


__all__ = [
    "MIGRATIONS",
    "WRITE",
    "connect",
    "current_revision",
    "errors",
    "insert",
    "insert_ignore",
    "migrate",
]
