"""Runs, tasks, artifacts and lineage: where they are recorded and how they are read.

`open_sink` and `open_reader` pick the implementation from `Settings`: the HTTP
`MetadataClient` when ``settings.metadata_url`` is set, else the embedded `Repository` on
``settings.embedded_database_url`` (SQLite under ``ARGOSY_HOME`` by default, migrated on open);
a sink on a plain SQLite file is the `EmbeddedSink`, which writes the same rows through
sqlite3. Importing this package is cheap: SQLAlchemy and httpx load only when one is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def open_sink(settings: Settings) -> MetadataSink:
    """The sink the runtime and the backends record through: on a plain SQLite file, the
    `EmbeddedSink`, which needs no SQLAlchemy."""
    if not settings.metadata_url:
        from argosy.metadata.embedded import EmbeddedSink, database_path

        url = settings.embedded_database_url
        if database_path(url) is not None:
            return EmbeddedSink(url, lost_after=settings.lost_after_seconds)
    return _open(settings)


def open_reader(settings: Settings) -> MetadataReader:
    """The reader the CLI and `argosy.Client` query through."""
    return _open(settings)


__all__ = ["MetadataReader", "MetadataSink", "open_reader", "open_sink"]
