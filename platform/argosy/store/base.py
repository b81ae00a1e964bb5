"""The artifact store interface every backend implements, and the description of a stored value.

A store holds two kinds of things:

* **blobs**, immutable and content-addressed: the key of a blob is the sha256 of its bytes, a
  write is atomic (a reader never sees part of a blob under its final key) and the same bytes
  are stored once;
* **records**, small documents at deterministic keys (see `argosy.store.addresses`), written
  atomically and overwritable: which artifact a task produced, its logs, code packages' index.

An `ArtifactInfo` describes the bytes (digest, format, type, size) and, for one output, what its
step said of it: the file or folder name of a path artifact and free-form JSON metadata
(`argosy.Artifact`). Those two are left out of the JSON when empty, so records written before
them read and hash the same, and they never enter the digest: equal bytes are one blob
whatever is said of them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NamedTuple, Protocol, runtime_checkable

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue

MAX_METADATA_BYTES = 64 * 1024
"""The most bytes an output's metadata may take as JSON: it is a description, kept with every
record of the output; a large thing belongs in the value itself."""


def json_metadata(metadata: Any) -> dict[str, JsonValue]:
    """A copy of ``metadata`` as plain JSON, or ValueError naming the first value that is not:
    a dict with str keys of None, bool, int, finite float, str, lists (tuples become lists) and
    dicts of those, valid Unicode, at most `MAX_METADATA_BYTES` as JSON."""
    if not isinstance(metadata, dict):
        raise ValueError(f"metadata is a {_kind(metadata)}, not a dict of JSON values")
    _check_json(metadata, "metadata", 0)
    try:
        text = json.dumps(metadata, ensure_ascii=False, allow_nan=False, sort_keys=True)
        size = len(text.encode())
    except UnicodeEncodeError as error:
        reason = error.reason
        raise ValueError(f"metadata holds text that is not valid Unicode ({reason})") from None
    if size > MAX_METADATA_BYTES:
        raise ValueError(
            f"metadata takes {size:,} bytes as JSON, over the {MAX_METADATA_BYTES:,} allowed: "
            "keep it to a description (metrics, parameters, a schema) and put large things in "
            "the value"
        )
    copied: dict[str, JsonValue] = json.loads(text)
    return copied


def _check_json(value: Any, where: str, depth: int) -> None:
    if depth > 32:
        raise ValueError(f"{where} nests deeper than 32 levels")
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value}, which JSON cannot hold; use None or a string")
        return
    if isinstance(value, list | tuple):
        for n, item in enumerate(value):
            _check_json(item, f"{where}[{n}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} has the key {key!r}, a {_kind(key)}: keys must be str")
            _check_json(item, f"{where}[{key!r}]", depth + 1)
        return
    raise ValueError(
        f"{where} is a {_kind(value)}, which is not JSON: convert it (int(x), float(x), "
        "x.tolist(), str(x))"
    )


def _kind(value: object) -> str:
    kind = type(value)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return module + kind.__qualname__


Metadata = Annotated[dict[str, JsonValue], AfterValidator(json_metadata)]
"""Metadata of an output: plain JSON (see `json_metadata`)."""


class ArtifactInfo(BaseModel):
    """A stored value: where its bytes are and how to turn them back into a value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    digest: str
    """sha256 of the stored bytes: the artifact's identity."""
    format: str
    """Serializer name: ``bytes``, ``npy``, ``npz``, ``json``, ``tree``, ``pickle``, ``file``,
    ``dir``, ``parquet``, or one given to ``argosy.register_serializer``."""
    type: str
    """Python type of the value, ``module.qualname``."""
    size: int
    """Bytes stored."""
    length: int | None = None
    """``len(value)`` for lists, tuples and arrays: the width of a fan-out over it."""
    name: str | None = Field(default=None, exclude_if=lambda name: name is None)
    """The file or folder name of a path artifact (format ``file`` or ``dir``)."""
    metadata: Metadata = Field(default_factory=dict, exclude_if=lambda metadata: not metadata)
    """What the step said of this output (``argosy.Artifact(value, metadata={...})``)."""

    def __hash__(self) -> int:
        return hash((self.digest, self.format, self.type, self.name))  # metadata is a dict


class StoredBlob(NamedTuple):
    """A blob as the store holds it, for garbage collection: what it is, its size, its age."""

    digest: str
    """sha256 of its bytes: its key."""
    size: int
    """Bytes stored."""
    stored_at: datetime
    """When it was stored (UTC, timezone-aware): a file's or object's modification time, or
    the time its packed row was written."""


@runtime_checkable
class ArtifactStore(Protocol):
    """Content-addressed blobs plus small records at deterministic keys."""

    concurrency: int
    """How many requests are worth making at once (`argosy.store.concurrency`): 1 where each
    waits on nothing but this machine, more where each waits on the network."""

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

    def blobs(self) -> Iterator[StoredBlob]:
        """Every blob the store holds, each once, in no particular order."""

    def delete_blobs(self, digests: Iterable[str]) -> int:
        """Remove those blobs, with whatever is kept beside them (seals, placed copies, cached
        downloads), so that nothing left can be read as one of them; return the bytes freed.
        Digests the store does not hold are ignored."""

    def delete_records(self, prefix: str) -> int:
        """Remove every record whose key starts with ``prefix``; return the bytes freed."""

    def compact(self) -> None:
        """Give the space freed by deletions back to the filesystem (or the bucket)."""


__all__ = [
    "MAX_METADATA_BYTES",
    "ArtifactInfo",
    "ArtifactStore",
    "Metadata",
    "StoredBlob",
    "json_metadata",
]
