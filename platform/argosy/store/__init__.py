"""Artifacts: content-addressed blobs and small records, on local disk or in S3.

`open_store` picks the backend from `Settings` (S3 when ``ARGOSY_S3_ENDPOINT`` is set, else a
`LocalStore` under ``ARGOSY_HOME``); `save` and `load` turn values into artifacts and back
(`Artifact` adds metadata to a value; `register_serializer` adds a format).
Importing this package does not import `minio`: `S3Store` is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from argosy.config import Settings
from argosy.store.artifact import Artifact
from argosy.store.base import ArtifactInfo, ArtifactStore
from argosy.store.local import LocalStore
from argosy.store.registry import register_serializer
from argosy.store.serializers import load, save

if TYPE_CHECKING:
    from argosy.store.s3 import S3Store


def open_store(settings: Settings) -> ArtifactStore:
    """The store the settings describe. Call its `check()` before starting work on it.

    An S3 store caches what it downloads (and what it uploaded) under ``ARGOSY_HOME/cache/s3``,
    keyed by digest and shared by every process on this machine, with the file and folder
    artifacts steps read (``paths/``); deleting it is always safe.
    """
    if settings.uses_s3:
        from argosy.store.s3 import S3Store

        return S3Store.from_settings(settings, cache_dir=settings.home / "cache" / "s3")
    return LocalStore(settings.store_root)


def __getattr__(name: str) -> Any:
    if name == "S3Store":
        from argosy.store.s3 import S3Store

        return S3Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Artifact",
    "ArtifactInfo",
    "ArtifactStore",
    "LocalStore",
    "S3Store",
    "load",
    "open_store",
    "register_serializer",
    "save",
]
