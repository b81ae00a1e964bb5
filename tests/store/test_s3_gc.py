"""`S3Store`'s garbage-collection primitives on the real S3 test server: listing blobs, deleting
blobs (with their cached and placed copies) and records by prefix, past S3's 1,000 keys a page."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import urllib3

from argosy.errors import ArtifactNotFound
from argosy.store import S3Store, load, save
from tests.servers.s3 import S3Server
from tests.store.conftest import s3_store


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.make_bucket()


@pytest.fixture
def store(s3_server: S3Server, bucket: str, tmp_path: Path) -> S3Store:
    opened = s3_store(s3_server, bucket, tmp_path / "cache", retries=3, backoff=0.01)
    opened.check()  # writes .argosy/check: an object that is not a blob
    return opened


def test_blobs_are_listed_with_their_size_and_age(store: S3Store) -> None:
    digests = [store.put_bytes(f"blob {n}".encode() * (n + 1)) for n in range(3)]
    store.put_record("runs/r/outputs/s/0.json", b"{}")
    listed = {blob.digest: blob for blob in store.blobs()}
    assert sorted(listed) == sorted(digests)
    for n, digest in enumerate(digests):
        assert listed[digest].size == len(f"blob {n}".encode() * (n + 1))
        assert abs(listed[digest].stored_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_deleting_blobs_frees_their_bytes_and_their_copies_here(
    s3_server: S3Server, bucket: str, store: S3Store, tmp_path: Path
) -> None:
    kept = save(store, [1, 2, 3])
    loaded = save(store, b"x" * 1000)
    assert load(store, loaded) == b"x" * 1000  # now in the download cache too
    source = tmp_path / "notes.txt"
    source.write_bytes(b"placed")
    placed = load(store, save(store, source))  # a placed copy under the cache's paths/
    assert placed.read_bytes() == b"placed"
    placed_digest = hashlib.sha256(b"placed").hexdigest()
    cached = store.local_path(loaded.digest)

    freed = store.delete_blobs([loaded.digest, placed_digest, "0" * 64])

    # in the bucket: both blobs; here: the cached copy of each (an uploaded file stays in the
    # cache) and the placed copy of the file
    assert freed == 2 * (loaded.size + len(b"placed")) + len(b"placed")
    assert not cached.exists() and not placed.exists()
    assert [blob.digest for blob in store.blobs()] == [kept.digest]
    fresh = s3_store(s3_server, bucket, tmp_path / "other-cache")
    with pytest.raises(ArtifactNotFound):
        fresh.get_bytes(loaded.digest)
    assert load(fresh, kept) == [1, 2, 3]
    assert store.delete_blobs([loaded.digest]) == 0  # gone already: nothing freed


def test_records_are_deleted_by_prefix_only(store: S3Store) -> None:
    store.put_record("runs/a/outputs/s/0.json", b"12345")
    store.put_record("runs/a/logs/s/0/0.log", b"123")
    store.put_record("runs/ab/outputs/s/0.json", b"1")
    assert store.delete_records("runs/a/") == 8
    assert store.list_records("runs/") == ["runs/ab/outputs/s/0.json"]
    assert store.delete_records("runs/a/") == 0


def test_listing_and_deleting_go_past_a_page_and_a_listing_resumes_after_a_failure(
    store: S3Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 1100  # S3 lists and deletes at most 1,000 keys a request
    digests = sorted(store.put_bytes(f"{n}".encode()) for n in range(count))
    for n in range(count):
        store.put_record(f"runs/wide/outputs/s/{n}.json", b"{}")
    listing = store._client.list_objects
    failures = iter([5, 1003])  # cut the first listing after 5 keys, the next past a page

    def flaky(*args: Any, **kwargs: Any) -> Iterator[Any]:
        cut = next(failures, None)
        for n, item in enumerate(listing(*args, **kwargs)):
            if n == cut:
                raise urllib3.exceptions.ProtocolError("connection reset mid-listing")
            yield item

    monkeypatch.setattr(store._client, "list_objects", flaky)
    assert [blob.digest for blob in store.blobs()] == digests  # each once, in key order
    monkeypatch.undo()

    assert store.delete_records("runs/wide/") == 2 * count
    assert store.list_records("runs/") == []
    assert store.delete_blobs(digests) == sum(len(f"{n}".encode()) for n in range(count))
    assert list(store.blobs()) == []
