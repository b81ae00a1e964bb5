"""What only the local backend has: its directory layout, its errors, and how it deletes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from argosy.errors import StoreUnavailable
from argosy.store import LocalStore, load, save
from argosy.store.packed import BLOB_LIMIT, RECORD_LIMIT


def test_an_unwritable_root_names_argosy_home(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="set ARGOSY_HOME to a writable directory"):
        LocalStore(tmp_path / "a-file" / "store").check()


def test_large_blobs_live_under_their_digest_read_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    digest = store.put_bytes(b"layout" * BLOB_LIMIT)  # small ones are packed: see test_packed
    blob = tmp_path / "blobs" / digest[:2] / digest[2:]
    assert store.local_path(digest) == blob
    assert blob.stat().st_mode & 0o777 == 0o444
    assert store.uri(digest) == blob.as_uri()


def test_a_file_from_elsewhere_is_copied_in_and_consumed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"from elsewhere")
    digest = hashlib.sha256(b"from elsewhere").hexdigest()
    store.put_file(outside, digest)
    assert not outside.exists()
    assert store.get_bytes(digest) == b"from elsewhere"
    assert list(store.staging_dir().iterdir()) == []


def test_blobs_are_listed_deleted_with_their_copies_and_compacted(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    big = np.random.default_rng(0).random(1 << 18)  # 2 MiB: sealed
    kept, gone = save(store, [1, 2, 3]), save(store, big)
    placed = load(store, save(store, _a_file(tmp_path, b"placed")))
    listed = {blob.digest: blob for blob in store.blobs()}
    assert listed.keys() == {kept.digest, gone.digest, _sha256(b"placed")}
    assert listed[gone.digest].size == gone.size
    assert abs(listed[gone.digest].stored_at - datetime.now(UTC)) < timedelta(minutes=1)

    freed = store.delete_blobs([gone.digest, _sha256(b"placed"), "0" * 64])
    assert freed == gone.size + 3 * len(b"placed")  # packed, written out for a file, placed
    assert not placed.exists() and not store.has(gone.digest)
    assert [blob.digest for blob in store.blobs()] == [kept.digest]
    assert not list((store.root / "seals").rglob(gone.digest))
    store.compact()
    assert list((store.root / "blobs").iterdir()) == []  # what is left is packed
    assert load(store, kept) == [1, 2, 3]


def test_records_are_deleted_by_prefix(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_record("runs/a/outputs/s/0.json", b"12345")
    store.put_record("runs/a/logs/s/0/0.log", b"3" * RECORD_LIMIT * 2)  # a file
    store.put_record("runs/ab/outputs/s/0.json", b"1")
    store.put_record("runs/ab/logs/s/0/0.log", b"4" * RECORD_LIMIT * 2)
    assert store.delete_records("runs/a/") == 5 + RECORD_LIMIT * 2
    assert store.list_records("") == ["runs/ab/logs/s/0/0.log", "runs/ab/outputs/s/0.json"]
    store.compact()
    assert [p.name for p in (store.root / "records" / "runs").iterdir()] == ["ab"]
    store.put_record("runs/a/logs/s/0/0.log", b"5" * RECORD_LIMIT * 2)  # its folders made again
    assert store.get_record("runs/a/logs/s/0/0.log") == b"5" * RECORD_LIMIT * 2


def _a_file(folder: Path, data: bytes) -> Path:
    path = folder / "a-file.txt"
    path.write_bytes(data)
    return path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
