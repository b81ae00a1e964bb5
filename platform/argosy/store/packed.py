"""`PackedFile`: a local store's small records and blobs, packed together in one SQLite file.

A file costs at least one filesystem block (4 KiB) and an inode however few bytes it holds, so
a store of one file per record and per blob took about 8 KB per task for a few hundred bytes
of data. `LocalStore` keeps what is small here instead, in ``<root>/packed.sqlite``::

    records (key TEXT UNIQUE, data BLOB)
    blobs (digest BLOB UNIQUE, data BLOB,        the digest as its 32 bytes; stored_at in
           stored_at INTEGER)                     seconds since the epoch, for `argosy gc`

Both are tables with a rowid, whose pages hold rows of up to about 4 KB whole (a table
``WITHOUT ROWID`` holds only about 1 KB of a row in its page and the rest on a page of its own:
4 KB more for a 1 KB record).

Many processes of this machine read and write it at once (the local backend's workers; a
write-ahead log works only among processes of one machine, so one ``ARGOSY_HOME`` on a network
filesystem must not be used from several machines at once). Readers never wait for the writer;
each write is one transaction, so it is atomic and a reader sees all of it or none; writers
take turns at a gate (`argosy.sqlite_gate`: a writer goes in as the one before it ends, where
SQLite's busy handler would sleep a millisecond or more) and queue for up to `BUSY_TIMEOUT`
seconds rather than fail. ``synchronous=NORMAL``: a power cut may lose the last writes (as it
may lose the last renames of files) but never damages the file.
``auto_vacuum=INCREMENTAL`` is set as the file is created, so `PackedFile.compact` can give
the pages of deleted rows back to the filesystem (deleting rows itself writes to the log, so it
needs a little room on the disk: delete files first). ``user_version`` holds `SCHEMA_VERSION`.

Each `PackedFile` opens one connection per process, on first use, that never crosses a fork
(`argosy.sqlite_connection`); a reader never creates the file.

A full disk is the store's full-disk StoreError; a file locked for longer than the timeout, a
damaged file or one written by a newer Argosy is a StoreError that names it and what to do.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argosy.errors import StoreError
from argosy.sqlite_connection import ForkSafeConnection
from argosy.sqlite_gate import WriteGate
from argosy.store.base import StoredBlob
from argosy.store.staging import full_disk, reporting_full_disk

FILE_NAME = "packed.sqlite"
"""The packed file's name in the store's root."""
BLOB_LIMIT = 16 << 10
"""The largest blob packed (bytes); larger ones are files, which mmap and seals need and which
read and write as fast as rows from about this size on (tests/benchmarks/bench_store.py)."""
RECORD_LIMIT = 64 << 10
"""The largest record packed (bytes); larger ones (long logs) are files."""
SCHEMA_VERSION = 1
BUSY_TIMEOUT = 60.0
"""Seconds a write waits for other processes' writes before it fails."""
WAL_LIMIT = 16 << 20
"""Bytes the write-ahead log is cut back to after a checkpoint."""
_BATCH = 500
"""Rows listed or deleted per statement (well under SQLite's limit of bound parameters)."""

_SCHEMA = (
    "CREATE TABLE records (key TEXT NOT NULL UNIQUE, data BLOB NOT NULL)",
    "CREATE TABLE blobs (digest BLOB NOT NULL UNIQUE, data BLOB NOT NULL, "
    "stored_at INTEGER NOT NULL)",
)

_Row = tuple[Any, ...]


class PackedFile:
    """Records and blobs in one SQLite file, shared by every process of this machine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = ForkSafeConnection(path, _connect)
        self._gate = WriteGate(path)
        self._uri = path.as_uri()  # each read names its blob, should its digest not match

    def uri(self, digest: str) -> str:
        """Where a packed blob lives, for people: the file, and the digest as fragment."""
        return f"{self._uri}#{digest}"

    def check(self) -> None:
        """Open the file (making it if need be), so that a broken one fails now."""
        with self._using(create=True):
            pass

    def get_record(self, key: str) -> bytes | None:
        rows = self._read("SELECT data FROM records WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def put_record(self, key: str, data: bytes) -> None:
        self._write(
            "INSERT OR REPLACE INTO records (key, data) VALUES (?, ?)", (key, data), len(data)
        )

    def drop_record(self, key: str) -> None:
        """Delete the record at ``key``, if there is one (it was rewritten as a file)."""
        if self._read("SELECT 1 FROM records WHERE key = ?", (key,)):
            with self._using(create=True) as connection:
                connection.execute("DELETE FROM records WHERE key = ?", (key,))

    def record_keys(self, prefix: str) -> list[str]:
        """The keys starting with ``prefix``, sorted."""
        where, bounds = _under(prefix)
        rows = self._read(f"SELECT key FROM records {where} ORDER BY key", bounds)
        return [key for (key,) in rows]

    def delete_records(self, prefix: str) -> int:
        """Delete the records whose keys start with ``prefix``; the bytes they held."""
        where, bounds = _under(prefix)
        size = f"SELECT coalesce(sum(length(data)), 0) FROM records {where}"
        with self._transaction() as connection:
            if connection is None:
                return 0
            (freed,) = connection.execute(size, bounds).fetchone()
            connection.execute(f"DELETE FROM records {where}", bounds)
        return int(freed)

    def has_blob(self, digest: str) -> bool:
        return bool(self._read("SELECT 1 FROM blobs WHERE digest = ?", (bytes.fromhex(digest),)))

    def get_blob(self, digest: str) -> bytes | None:
        """The blob's bytes as stored (unchecked), or None."""
        rows = self._read("SELECT data FROM blobs WHERE digest = ?", (bytes.fromhex(digest),))
        return rows[0][0] if rows else None

    def put_blob(self, digest: str, data: bytes) -> None:
        """Store ``data`` (whose sha256 is ``digest``) unless it is stored already."""
        row = (bytes.fromhex(digest), data, int(time.time()))
        self._write(
            "INSERT OR IGNORE INTO blobs (digest, data, stored_at) VALUES (?, ?, ?)", row, len(data)
        )

    def blobs(self) -> Iterator[StoredBlob]:
        """Every packed blob, in the order they were stored."""
        after = 0
        query = (
            "SELECT rowid, digest, length(data), stored_at FROM blobs WHERE rowid > ? "
            f"ORDER BY rowid LIMIT {_BATCH}"
        )
        while rows := self._read(query, (after,)):
            for _, digest, size, stored_at in rows:
                yield StoredBlob(digest.hex(), size, datetime.fromtimestamp(stored_at, UTC))
            after = rows[-1][0]

    def delete_blobs(self, digests: Sequence[str]) -> int:
        """Delete those blobs (the missing ones are ignored); the bytes they held."""
        freed = 0
        for start in range(0, len(digests), _BATCH):
            keys = [bytes.fromhex(digest) for digest in digests[start : start + _BATCH]]
            marks = ", ".join("?" * len(keys))
            with self._transaction() as connection:
                if connection is None:
                    return 0
                (size,) = connection.execute(
                    f"SELECT coalesce(sum(length(data)), 0) FROM blobs WHERE digest IN ({marks})",
                    keys,
                ).fetchone()
                connection.execute(f"DELETE FROM blobs WHERE digest IN ({marks})", keys)
            freed += size
        return freed

    def compact(self) -> None:
        """Give the pages of deleted rows back to the filesystem, and empty the log."""
        with self._using(create=False) as connection:
            if connection is not None:
                connection.executescript("PRAGMA incremental_vacuum")  # stepped to the end
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _read(self, query: str, parameters: Iterable[Any]) -> list[_Row]:
        """The rows of one query ([] while there is no file)."""
        try:
            return self._file.execute(query, tuple(parameters), create=False) or []
        except sqlite3.Error as error:
            raise self._failure(error, None) from error

    def _write(self, statement: str, parameters: Sequence[Any], needed: int) -> None:
        """Run one writing statement, its own transaction, past the gate; ``needed``: the bytes
        it writes."""
        try:
            with self._gate.passing():
                self._file.execute(statement, parameters, create=True)
        except sqlite3.Error as error:
            raise self._failure(error, needed) from error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection | None]:
        """A connection in a write transaction, committed when the block ends; None if there
        is no file yet."""
        with self._failures(None), self._file.transaction(create=False) as connection:
            yield connection

    @contextmanager
    def _using(
        self, *, create: bool, needed: int | None = None
    ) -> Iterator[sqlite3.Connection | None]:
        """This process's connection (`ForkSafeConnection.using`); ``needed``: bytes being
        written, for a full disk."""
        with self._failures(needed), self._file.using(create=create) as connection:
            yield connection

    @contextmanager
    def _failures(self, needed: int | None) -> Iterator[None]:
        """SQLite's errors as StoreErrors."""
        try:
            yield
        except sqlite3.Error as error:
            raise self._failure(error, needed) from error

    def _failure(self, error: sqlite3.Error, needed: int | None) -> StoreError:
        code = (getattr(error, "sqlite_errorcode", None) or -1) & 0xFF  # its primary code
        if code == sqlite3.SQLITE_FULL:
            return full_disk(self.path.parent, needed, str(error))
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return StoreError(
                f"{self.path} stayed locked by another process for over {BUSY_TIMEOUT:.0f} s "
                f"({error}); nothing was stored. Is a process stuck while writing to it? Stop "
                "it (or wait for it to finish), then run again"
            )
        if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return StoreError(
                f"{self.path} is damaged ({error}): the small records and blobs it holds "
                "cannot be read. Move it aside (a new one is made), then run the steps that "
                "wrote them again"
            )
        if code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM):
            return StoreError(
                f"cannot write {self.path} ({error}); give yourself write access to it and "
                "its folder, or set ARGOSY_HOME to a writable directory"
            )
        return StoreError(f"the packed store file {self.path} failed: {error}")


def _connect(path: Path) -> sqlite3.Connection:
    with reporting_full_disk(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )
    try:
        connection.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only a new file takes it
        connection.execute("PRAGMA journal_mode = WAL").fetchall()
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}").fetchall()
        if _version(connection) != SCHEMA_VERSION:
            _create_schema(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def _version(connection: sqlite3.Connection) -> int:
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    return int(version)


def _create_schema(connection: sqlite3.Connection) -> None:
    """Create the tables, unless another process did first (then check its version)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = _version(connection)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{connection.execute('PRAGMA database_list').fetchone()[2]} was written by a "
                f"newer Argosy (format {version}; this one reads {SCHEMA_VERSION}): upgrade "
                "Argosy, or set ARGOSY_HOME to another directory"
            )
        if version == 0:
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")


def _under(prefix: str) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause (and its parameters) selecting the keys that start with ``prefix``, from
    a range of keys their index finds."""
    if not prefix:
        return "", ()
    starts = (len(prefix), prefix)
    if prefix[-1] == chr(0x10FFFF):  # no code point follows it: no upper bound
        return "WHERE key >= ? AND substr(key, 1, ?) = ?", (prefix, *starts)
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return "WHERE key >= ? AND key < ? AND substr(key, 1, ?) = ?", (prefix, after, *starts)


__all__ = [
    "BLOB_LIMIT",
    "BUSY_TIMEOUT",
    "FILE_NAME",
    "RECORD_LIMIT",
    "SCHEMA_VERSION",
    "PackedFile",
]
