"""What only the local backend has: its directory layout and its errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from argosy.errors import StoreUnavailable
from argosy.store import LocalStore


def test_an_unwritable_root_names_argosy_home(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="set ARGOSY_HOME to a writable directory"):
        LocalStore(tmp_path / "a-file" / "store").check()


def test_blobs_live_under_their_digest_read_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    digest = store.put_bytes(b"layout")
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
