"""The embedded SQLite database as the standard library's sqlite3 reaches it, for the fast paths.

On the embedded database (``ARGOSY_HOME/metadata.db``, or any plain ``sqlite:///`` URL), a local
run records through the `EmbeddedSink` and ``argosy runs`` lists through the `EmbeddedReader`,
neither of which imports SQLAlchemy (importing it and building its models takes about 0.3 s).
Both hold an `EmbeddedFile`: one fork-safe connection (`argosy.sqlite_connection`), set up as
the Repository's are (`configure`: WAL, busy timeout, foreign keys), the database migrated
through SQLAlchemy and Alembic on open when it is at another schema revision (once), SQLite's
failures raised as Argosy's errors, and a `Repository` on the same file, opened on first use,
for the queries sqlite3 is not used for. Values are in SQLite's form of what SQLAlchemy stores
(`stored`): timestamps as naive UTC text with microseconds, JSON as text, booleans as 0 and 1.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argosy.errors import Conflict, MetadataError, MetadataUnavailable
from argosy.metadata import writes
from argosy.metadata.revision import SCHEMA_REVISION, require_revision
from argosy.metadata.writes import as_utc
from argosy.sqlite_connection import ForkSafeConnection

if TYPE_CHECKING:
    from argosy.metadata.repository import Repository

BUSY_TIMEOUT = 60.0
"""Seconds a write waits for another process's write before it fails."""
_URL_PREFIX = "sqlite:///"


def database_path(url: str) -> Path | None:
    """The file of a plain SQLite URL (``sqlite:///path``); None for any other URL, and for
    one with query options or ``%`` escapes (the Repository reads those as SQLAlchemy does)."""
    path = url.removeprefix(_URL_PREFIX)
    if path == url or not path or path == ":memory:" or any(c in path for c in "?%"):
        return None
    return Path(path)


def configure(connection: sqlite3.Connection) -> None:
    """Set up a fresh connection to the metadata database: autocommit (transactions begin
    explicitly), a busy timeout, ``synchronous=NORMAL``, foreign keys on, WAL mode."""
    connection.isolation_level = None
    for pragma in (
        f"busy_timeout={int(BUSY_TIMEOUT * 1000)}",
        "synchronous=NORMAL",
        "foreign_keys=ON",
    ):
        connection.execute(f"PRAGMA {pragma}")
    _use_wal(connection)


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch the database file to WAL mode (once, it persists), waiting out other openers.

    SQLite answers a mode switch that races another connection with "database is locked" at
    once, without its busy handler, so retry here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while connection.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
        try:
            connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class EmbeddedFile:
    """The SQLite database at ``url`` (a plain ``sqlite:///`` URL), at `SCHEMA_REVISION`."""

    def __init__(self, url: str, *, lost_after: float = 60.0) -> None:
        path = database_path(url)
        if path is None:
            raise ValueError(f"{url!r} is not a plain sqlite:/// URL")
        self.url = url
        self.lost_after = lost_after
        """Seconds without a heartbeat after which a running run reads as failed."""
        self._connection = ForkSafeConnection(path, _connect)
        self._repository: Repository | None = None
        self._opening = threading.Lock()
        if self._revision() != SCHEMA_REVISION:
            _migrate(url)

    def close(self) -> None:
        self._connection.close()
        if self._repository is not None:
            self._repository.close()

    def check(self) -> None:
        """`MetadataUnavailable` unless the database is at `SCHEMA_REVISION`."""
        require_revision(self._revision())

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, for reads (each statement sees the database as it is then)."""
        with self._errors(), self._connection.using(create=True) as connection:
            assert connection is not None, "a file made on use is there"
            yield connection

    @contextlib.contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """The connection in a transaction that holds the write lock from its start."""
        with self._errors(), self._connection.transaction(create=True) as connection:
            assert connection is not None, "a file made on use is there"
            yield connection

    def repository(self) -> Repository:
        """A `Repository` on this file, for the queries sqlite3 is not used for."""
        with self._opening:
            if self._repository is None:
                from argosy.metadata.repository import Repository

                self._repository = Repository(self.url, migrate=False, lost_after=self.lost_after)
        return self._repository

    def _revision(self) -> str | None:
        with self.reading() as connection:
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            if found is None:  # a new database
                return None
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else row[0]

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite's failures as Argosy's errors, as `argosy.metadata.database.errors` makes
        SQLAlchemy's."""
        try:
            yield
        except sqlite3.IntegrityError as error:
            raise Conflict(f"the write contradicts recorded metadata: {error}") from error
        except sqlite3.DataError as error:
            raise MetadataError(f"the database refused the values given: {error}") from error
        except sqlite3.Error as error:
            raise MetadataUnavailable(
                f"the metadata database failed ({type(error).__name__}: {error}); check that "
                f"{self.url} is reachable and migrated"
            ) from error
        except (OverflowError, UnicodeEncodeError) as error:
            raise writes.refused_value(error) from error
        except OSError as error:  # its folder cannot be made
            raise MetadataUnavailable(
                f"cannot open the metadata database {self.url} ({error}); set ARGOSY_HOME to a "
                "writable directory (or ARGOSY_DATABASE_URL to a database you can write)"
            ) from error


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT, check_same_thread=False)
    try:
        configure(connection)
    except BaseException:
        connection.close()
        raise
    connection.row_factory = sqlite3.Row
    return connection


def _migrate(url: str) -> None:
    """Bring the database to `SCHEMA_REVISION` (SQLAlchemy and Alembic are needed here only)."""
    from argosy.metadata import database

    engine = database.connect(url)
    try:
        database.migrate(engine)
    finally:
        engine.dispose()


AS_IS = frozenset({str, int, float, bool, bytes, type(None)})
"""Types sqlite3 stores as SQLAlchemy does (most values: checked first)."""


def stored(value: Any) -> Any:
    """A value in the form SQLAlchemy stores it on SQLite."""
    if type(value) in AS_IS:
        return value
    if isinstance(value, datetime):
        return as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def parsed_time(text: str | None) -> datetime | None:
    """A timestamp as `stored` keeps it, read back as an aware UTC datetime."""
    return None if text is None else as_utc(datetime.fromisoformat(text))


__all__ = [
    "AS_IS",
    "BUSY_TIMEOUT",
    "EmbeddedFile",
    "configure",
    "database_path",
    "parsed_time",
    "stored",
]
