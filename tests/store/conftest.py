"""The store under test: every contract test runs once on a LocalStore and once on an S3Store."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from argosy.store import ArtifactStore, LocalStore, S3Store
from argosy.store.packed import FILE_NAME
from tests.servers.s3 import S3Server

SMALL_PART = 5 << 20
"""S3's smallest multipart part, so a test file of a few parts exercises multipart transfers."""


@dataclass
class Backend:
    """A store, plus what only the tests need: the digests it holds, and a second client of it."""

    store: ArtifactStore
    blob_names: Callable[[], list[str]]
    reopen: Callable[[], ArtifactStore]
    """Another store on the same storage with nothing cached: loads must really fetch."""
    overwrite: Callable[[str, bytes], None]
    """Replace the bytes of a stored blob behind the store's back, as anyone who can write to
    the storage could (the S3 keys, the disk)."""


def _local(tmp_path: Path) -> Backend:
    root = tmp_path / "store"
    store = LocalStore(root)
    return Backend(
        store=store,
        blob_names=lambda: sorted(blob.digest for blob in store.blobs()),
        reopen=lambda: LocalStore(root),
        overwrite=lambda digest, data: overwrite_local(root, digest, data),
    )


def overwrite_local(root: Path, digest: str, data: bytes) -> None:
    """Replace a blob's bytes in a local store: its file, or else its packed row."""
    path = root / "blobs" / digest[:2] / digest[2:]
    if path.is_file():
        path.chmod(0o644)
        path.write_bytes(data)
        return
    with contextlib.closing(sqlite3.connect(root / FILE_NAME)) as packed, packed:
        changed = packed.execute(
            "UPDATE blobs SET data = ? WHERE digest = ?", (data, bytes.fromhex(digest))
        )
        assert changed.rowcount == 1, f"no blob {digest} in {root}"


def _s3(server: S3Server, tmp_path: Path) -> Backend:
    bucket = server.make_bucket()
    client = server.client()
    count = iter(range(1_000_000))

    def open_store() -> S3Store:
        cache = tmp_path / f"cache-{next(count)}"
        return s3_store(server, bucket, cache, part_size=SMALL_PART, parallel=3)

    return Backend(
        store=open_store(),
        blob_names=lambda: sorted(
            str(item.object_name).removeprefix("blobs/")
            for item in client.list_objects(bucket, "blobs/", recursive=True)
        ),
        reopen=open_store,
        overwrite=lambda digest, data: client.put_object(
            bucket, f"blobs/{digest}", io.BytesIO(data), len(data)
        ),
    )


def s3_store(
    server: S3Server, bucket: str, cache_dir: Path, endpoint: str | None = None, **options: Any
) -> S3Store:
    """A store of ``bucket`` on ``server`` (reached at ``endpoint``, a proxy, when given)."""
    return S3Store(
        endpoint or server.endpoint,
        bucket,
        access_key=server.access_key,
        secret_key=server.secret_key,
        secure=False,
        cache_dir=cache_dir,
        **options,
    )


def incomplete_uploads(server: S3Server, bucket: str) -> list[str]:
    """Keys with an incomplete multipart upload in ``bucket``, sorted."""
    uploads = server.client()._list_multipart_uploads(bucket).uploads
    return sorted(str(upload.object_name) for upload in uploads)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return _local(tmp_path)
    return _s3(request.getfixturevalue("s3_server"), tmp_path)


@pytest.fixture
def store(backend: Backend) -> ArtifactStore:
    backend.store.check()
    return backend.store
