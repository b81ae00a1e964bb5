"""Small records and blobs packed in one SQLite file (``store/packed.sqlite``): routing by size,
many writing processes, stores written before packing, damaged rows, deletion and compaction.

Before, every record and blob was a file: about 8 KB on disk per task (two 4 KiB blocks) for a
few hundred bytes of data.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import multiprocessing
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from argosy import sqlite_connection
from argosy.errors import ArtifactCorrupted, StoreError, StoreUnavailable
from argosy.store import LocalStore, load, save
from argosy.store.packed import BLOB_LIMIT, FILE_NAME, RECORD_LIMIT
from tests.store.conftest import overwrite_local


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rows(root: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(root / FILE_NAME)) as packed:
        (count,) = packed.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(count)


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_small_things_are_packed_and_large_ones_are_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    small, large = b"s" * BLOB_LIMIT, b"l" * (BLOB_LIMIT + 1)
    assert store.put_bytes(small) == _sha256(small)
    store.put_chunks([large[:10], memoryview(large)[10:]], _sha256(large))
    staged = store.staging_dir() / "staged"
    staged.write_bytes(b"a small file")
    store.put_file(staged, _sha256(b"a small file"))
    assert not staged.exists()
    store.put_record("runs/r/outputs/s/0.json", b"{}")
    store.put_record("runs/r/logs/s/0/0.log", b"x" * (RECORD_LIMIT + 1))

    assert _files(tmp_path / "blobs") == [
        tmp_path / "blobs" / _sha256(large)[:2] / _sha256(large)[2:]
    ]
    assert _files(tmp_path / "records") == [tmp_path / "records/runs/r/logs/s/0/0.log"]
    assert (_rows(tmp_path, "blobs"), _rows(tmp_path, "records")) == (2, 1)
    fresh = LocalStore(tmp_path)
    for data in (small, large, b"a small file"):
        assert fresh.has(_sha256(data)) and fresh.get_bytes(_sha256(data)) == data
    assert fresh.get_record("runs/r/logs/s/0/0.log") == b"x" * (RECORD_LIMIT + 1)
    assert fresh.list_records("runs/r/") == ["runs/r/logs/s/0/0.log", "runs/r/outputs/s/0.json"]
    assert fresh.uri(_sha256(small)) == f"{(tmp_path / FILE_NAME).as_uri()}#{_sha256(small)}"


def test_a_rewritten_record_leaves_no_stale_copy_in_the_other_place(tmp_path: Path) -> None:
    store, key = LocalStore(tmp_path), "runs/r/logs/s/0/0.log"
    file = tmp_path / "records" / key
    for data in (b"short", b"long" * RECORD_LIMIT, b"short again", b"long again" * RECORD_LIMIT):
        store.put_record(key, data)
        assert store.get_record(key) == LocalStore(tmp_path).get_record(key) == data
        assert file.exists() == (len(data) > RECORD_LIMIT)
        assert _rows(tmp_path, "records") == (len(data) <= RECORD_LIMIT)
        assert store.list_records("runs/") == [key]


def test_a_small_blob_asked_for_as_a_file_is_written_out_once(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    info = save(store, np.arange(10.0))
    loaded = load(LocalStore(tmp_path), info)  # small: read whole, no file needed
    assert not isinstance(loaded, np.memmap) and not loaded.flags.writeable
    assert list(loaded) == list(range(10)) and _files(tmp_path / "blobs") == []
    path = store.local_path(info.digest)  # for whoever needs a file (mmap, a registered format)
    assert path == tmp_path / "blobs" / info.digest[:2] / info.digest[2:]
    assert path.stat().st_mode & 0o777 == 0o444
    assert store.uri(info.digest) == path.as_uri()
    assert [(blob.digest, blob.size) for blob in store.blobs()] == [(info.digest, info.size)]
    assert np.array_equal(np.load(path, mmap_mode="r"), np.arange(10.0))


def test_a_damaged_row_is_refused_and_never_written_out(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    info = save(store, np.arange(10.0))
    changed = bytearray(store.get_bytes(info.digest))
    changed[-8:] = np.float64(-1.0).tobytes()
    overwrite_local(tmp_path, info.digest, bytes(changed))
    fresh = LocalStore(tmp_path)
    with pytest.raises(ArtifactCorrupted, match=f"{FILE_NAME}#{info.digest}"):
        fresh.get_bytes(info.digest)
    with pytest.raises(ArtifactCorrupted, match="changed or damaged"):
        load(fresh, info)
    with pytest.raises(ArtifactCorrupted, match="changed or damaged"):
        fresh.local_path(info.digest)
    assert _files(tmp_path / "blobs") == []


def test_a_store_written_before_packing_still_reads(tmp_path: Path) -> None:
    old = LocalStore(tmp_path, packed=False)  # every record and blob a file, as before
    info = save(old, {"a": 1})
    array = save(old, np.arange(3))
    old.put_record("runs/r/outputs/s/0.json", info.model_dump_json().encode())
    assert not (tmp_path / FILE_NAME).exists()
    assert len(_files(tmp_path / "blobs")) == 2

    store = LocalStore(tmp_path)
    assert not (tmp_path / FILE_NAME).exists(), "reading makes no packed file"
    assert store.get_record("runs/r/outputs/s/0.json") == info.model_dump_json().encode()
    assert load(store, info) == {"a": 1} and list(load(store, array)) == [0, 1, 2]
    assert store.uri(info.digest) == (tmp_path / "blobs" / info.digest[:2]).as_uri() + (
        f"/{info.digest[2:]}"
    )
    store.put_record("runs/r/outputs/s/1.json", b"{}")
    assert store.list_records("runs/r/") == [
        "runs/r/outputs/s/0.json",
        "runs/r/outputs/s/1.json",
    ]
    assert save(store, {"a": 1}) == info  # already held as a file: not packed again
    assert sorted(blob.digest for blob in store.blobs()) == sorted([info.digest, array.digest])
    assert store.delete_records("runs/r/") == len(info.model_dump_json()) + 2
    assert store.list_records("") == []


def test_deleted_rows_are_given_back_by_compact(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    rng = np.random.default_rng(0)
    digests = [store.put_bytes(rng.bytes(8 << 10)) for _ in range(1000)]  # 8 MB
    for n in range(1000):
        store.put_record(f"runs/r/logs/s/{n}/0.log", rng.bytes(2 << 10))
    keep = store.put_bytes(b"kept")
    store.compact()  # the log into the file
    full = (tmp_path / FILE_NAME).stat().st_size
    assert full > 10e6

    assert store.delete_blobs([*digests, "0" * 64]) == 1000 * (8 << 10)
    assert store.delete_records("runs/r/logs/") == 1000 * (2 << 10)
    store.compact()
    assert (tmp_path / FILE_NAME).stat().st_size < full / 20
    assert [blob.digest for blob in store.blobs()] == [keep]
    assert store.get_bytes(keep) == b"kept" and store.list_records("") == []


def test_a_newer_or_damaged_packed_file_is_a_clear_error(tmp_path: Path) -> None:
    newer, damaged = tmp_path / "newer", tmp_path / "damaged"
    LocalStore(newer).put_record("a", b"1")
    with contextlib.closing(sqlite3.connect(newer / FILE_NAME)) as packed:
        packed.execute("PRAGMA user_version = 2")
    with pytest.raises(StoreError, match="newer Argosy"):
        LocalStore(newer).get_record("a")
    damaged.mkdir()
    (damaged / FILE_NAME).write_bytes(b"not a database" * 1000)
    with pytest.raises(StoreUnavailable, match=r"is damaged.*Move it aside"):
        LocalStore(damaged).check()


_WRITES = 150


def _write_many(root: str, writer: int) -> None:
    """Records and blobs of this writer, blobs every writer shares, one record all rewrite."""
    store = LocalStore(root)
    for n in range(_WRITES):
        store.put_record(f"runs/r/outputs/w{writer}/{n}.json", f"{writer}:{n}".encode())
        store.put_bytes(f"blob {writer}:{n}".encode())
        store.put_bytes(f"shared {n}".encode())
        store.put_record("runs/r/last", f"{writer}".encode())
    if writer % 2:
        store.put_record(f"runs/r/logs/w{writer}.log", b"large" * RECORD_LIMIT)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_many_processes_write_at_once_and_nothing_is_lost(tmp_path: Path, method: str) -> None:
    root = tmp_path / "store"
    parent = LocalStore(root)
    parent.put_record("runs/r/opened", b"before the fork")  # a connection the children must not use
    context = multiprocessing.get_context(method)
    writers = [context.Process(target=_write_many, args=(str(root), n)) for n in range(4)]
    for writer in writers:
        writer.start()
    for n in range(_WRITES):  # the parent writes meanwhile, on its own connection
        parent.put_bytes(f"parent {n}".encode())
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    store = LocalStore(root)
    for writer in range(4):
        keys = store.list_records(f"runs/r/outputs/w{writer}/")
        assert len(keys) == _WRITES
        last = store.get_record(f"runs/r/outputs/w{writer}/{_WRITES - 1}.json")
        assert last == f"{writer}:{_WRITES - 1}".encode()
    assert store.get_record("runs/r/last") in {b"0", b"1", b"2", b"3"}
    assert store.get_record("runs/r/logs/w3.log") == b"large" * RECORD_LIMIT
    assert len(list(store.blobs())) == 4 * _WRITES + _WRITES + _WRITES
    assert store.get_bytes(_sha256(b"shared 7")) == b"shared 7"
    assert parent.get_bytes(_sha256(b"blob 3:9")) == b"blob 3:9"
    with contextlib.closing(sqlite3.connect(root / FILE_NAME)) as packed:
        assert packed.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_fork_the_hooks_did_not_see_leaves_the_parents_connection_alone(tmp_path: Path) -> None:
    """A C library's fork() skips Python's fork hooks: the child still opens its own."""
    store = LocalStore(tmp_path)
    store.put_record("parent", b"1")  # the connection the child inherits
    child = ctypes.CDLL(None, use_errno=True).fork()
    if child == 0:
        ok = False
        try:
            store.put_record("child", b"2")
            ok = store.get_record("parent") == b"1" and len(sqlite_connection._inherited) == 1
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.get_record("child") == b"2"
    store.put_record("parent", b"3")  # the parent's connection still works
    assert LocalStore(tmp_path).get_record("parent") == b"3"
