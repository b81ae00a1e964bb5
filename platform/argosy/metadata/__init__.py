"""Runs, tasks, artifacts and lineage: where they are recorded and how they are read.

`open_sink` and `open_reader` pick the implementation from `Settings`: the HTTP
`MetadataClient` when ``settings.metadata_url`` is set, else the embedded `Repository` on
``settings.embedded_database_url`` (SQLite under ``ARGOSY_HOME`` by default, migrated on open);
on a plain SQLite file, the sink is the `EmbeddedSink`, which writes the same rows through
sqlite3, and the reader the `EmbeddedReader`, which lists runs through sqlite3. Importing this
package is cheap: SQLAlchemy and httpx load only when a query needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from argosy.config import Settings
from argosy.metadata.reader import MetadataReader
from argosy.metadata.sink import MetadataSink

if TYPE_CHECKING:
    from argosy.metadata.client import MetadataClient
    from argosy.metadata.repository import Repository


def _open(settings: Settings) -> MetadataClient | Repository:
    if settings.metadata_url:
        from argosy.metadata.client import MetadataClient

        token = settings.token.get_secret_value() if settings.token else None
        return MetadataClient(
            settings.metadata_url, token, retry_for=settings.metadata_retry_seconds
        )
    from argosy.metadata.repository import Repository

    if settings.database_url is None:
        settings.home.mkdir(parents=True, exist_ok=True)
    return Repository(
        settings.embedded_database_url, migrate=True, lost_after=settings.lost_after_seconds
    )


def _embedded_file(settings: Settings) -> str | None:
    """The URL of the embedded database when it is a plain SQLite file (sqlite3 reaches it)."""
    if settings.metadata_url:
        return None
    from argosy.metadata.embedded_file import database_path

    url = settings.embedded_database_url
    return url if database_path(url) is not None else None


def open_sink(settings: Settings) -> MetadataSink:
    """The sink the runtime and the backends record through: on a plain SQLite file, the
    `EmbeddedSink`, which needs no SQLAlchemy."""
    url = _embedded_file(settings)
    if url is None:
        return _open(settings)
    from argosy.metadata.embedded import EmbeddedSink

    return EmbeddedSink(url, lost_after=settings.lost_after_seconds)


def open_reader(settings: Settings) -> MetadataReader:
    """The reader the CLI and `argosy.Client` query through: on a plain SQLite file, the
    `EmbeddedReader`, which lists runs without SQLAlchemy."""
    url = _embedded_file(settings)
    if url is None:
        return _open(settings)
    from argosy.metadata.embedded_reader import EmbeddedReader

    # it answers the rest of MetadataReader through its Repository (__getattr__)
    return cast(MetadataReader, EmbeddedReader(url, lost_after=settings.lost_after_seconds))


__all__ = ["MetadataReader", "MetadataSink", "open_reader", "open_sink"]
