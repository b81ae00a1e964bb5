"""The artifact store interface every backend implements, and the description of a stored value.

A store holds two kinds of things:

* **blobs**, immutable and content-addressed: the key of a blob is the sha256 of its bytes, a
  write is atomic (a reader never sees part of a blob under its final key) and the same bytes
  are stored once;
* **records**, small documents at deterministic keys (see `argosy.store.addresses`), written
  atomically and overwritable: which artifact a task produced, its logs, code packages' index.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict


class ArtifactInfo(BaseModel):
    """A stored value: where its bytes are and how to turn them back into a value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    digest: str
    """sha256 of the stored bytes: the artifact's identity."""
    format: str
    """Serializer name: ``npy``, ``npz``, ``json``, ``pickle`` or ``bytes``."""
    type: str
    """Python type of the value, ``module.qualname``."""
    size: int
    """Bytes stored."""
    length: int | None = None
    """``len(value)`` for lists, tuples and arrays: the width of a fan-out over it."""


@runtime_checkable
class ArtifactStore(Protocol):
    """Content-addressed blobs plus small records at deterministic keys."""

    def check(self) -> None:
        """Raise StoreUnavailable, saying what to fix, unless the store can be read and written."""

    def uri(self, digest: str) -> str:
        """Where a blob lives, for people and for other tools (``file://...``, ``s3://...``)."""

    def staging_dir(self) -> Path:
        """A local directory for temporary files that `put_file` can move in cheaply."""

    def has(self, digest: str) -> bool: ...

    def put_file(self, path: Path, digest: str) -> None:
        """Store the file (whose sha256 is ``digest``) as a blob; consume it when local.

        A no-op when the blob already exists. The file must not be used afterwards.
        """

    def put_bytes(self, data: bytes) -> str:
        """Store bytes as a blob and return their digest."""

    def put_chunks(self, chunks: Sequence[bytes | memoryview], digest: str) -> None:
        """Store the concatenation of ``chunks`` (whose sha256 is ``digest``) as a blob.

        A no-op when the blob already exists. For values already in memory (arrays): the
        backend takes the bytes from there, with no temporary file where it can (S3 streams
        them in parts).
        """

    def get_bytes(self, digest: str) -> bytes:
        """The blob's bytes; ArtifactNotFound if there is none."""

    def local_path(self, digest: str) -> Path:
        """A local file holding the blob (the blob itself, or a cached download), for mmap."""

    def put_record(self, key: str, data: bytes) -> None:
        """Write a record atomically, replacing any previous one."""

    def get_record(self, key: str) -> bytes | None:
        """The record at ``key``, or None if there is none."""

    def list_records(self, prefix: str) -> list[str]:
        """Keys of the records under ``prefix``, sorted."""


__all__ = ["ArtifactInfo", "ArtifactStore"]
