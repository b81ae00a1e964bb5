"""The artifact store contract, run against every backend (LocalStore and S3Store on SeaweedFS)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse

from argosy.errors import ArtifactNotFound, StoreError
from argosy.store import ArtifactInfo, ArtifactStore, load, save
from tests.store.conftest import SMALL_PART, Backend

MISSING = "0" * 64


def _staged_file(store: ArtifactStore, data: bytes) -> tuple[Path, str]:
    path = store.staging_dir() / f"upload-{hashlib.sha256(data).hexdigest()[:8]}"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_bytes_are_stored_under_their_sha256(store: ArtifactStore) -> None:
    assert isinstance(store, ArtifactStore)
    digest = store.put_bytes(b"hello")
    assert digest == hashlib.sha256(b"hello").hexdigest()
    assert store.has(digest)
    assert store.get_bytes(digest) == b"hello"
    assert store.local_path(digest).read_bytes() == b"hello"
    assert store.uri(digest).startswith(("file://", "s3://"))
    assert store.uri(digest) != store.uri(MISSING)


def test_missing_blobs_are_not_found(store: ArtifactStore) -> None:
    assert not store.has(MISSING)
    with pytest.raises(ArtifactNotFound, match=MISSING):
        store.get_bytes(MISSING)
    with pytest.raises(ArtifactNotFound, match=MISSING):
        store.local_path(MISSING)


def test_malformed_digests_and_keys_are_refused(store: ArtifactStore) -> None:
    with pytest.raises(StoreError, match="not an artifact digest"):
        store.has("../../etc/passwd")
    for key in ("../escape", "/absolute", "a//b", "a/./b", ""):
        with pytest.raises(StoreError, match="not a record key"):
            store.put_record(key, b"x")


def test_the_same_bytes_are_stored_once(backend: Backend, store: ArtifactStore) -> None:
    first = store.put_bytes(b"same")
    path, digest = _staged_file(store, b"same")
    store.put_file(path, digest)
    assert store.put_bytes(b"same") == first == digest
    assert backend.blob_names() == [digest]
    assert not path.exists(), "put_file consumes its file even when the blob exists"


def test_put_file_moves_a_staged_file_in(backend: Backend, store: ArtifactStore) -> None:
    data = np.random.default_rng(0).bytes(3 * SMALL_PART + 123)  # a multipart upload on S3
    path, digest = _staged_file(store, data)
    store.put_file(path, digest)
    assert not path.exists()
    assert backend.blob_names() == [digest]
    fresh = backend.reopen()
    assert fresh.local_path(digest).read_bytes() == data  # a parallel ranged download on S3
    assert fresh.get_bytes(digest) == data


def test_chunks_are_stored_as_one_blob(backend: Backend, store: ArtifactStore) -> None:
    data = np.random.default_rng(5).bytes(2 * SMALL_PART + 1)  # multipart, streamed on S3
    chunks = [b"head:", memoryview(data), b""]
    digest = hashlib.sha256(b"head:" + data).hexdigest()
    store.put_chunks(chunks, digest)
    store.put_chunks(chunks, digest)
    assert backend.blob_names() == [digest]
    assert backend.reopen().get_bytes(digest) == b"head:" + data


def test_arrays_are_stored_as_numpy_saves_them(store: ArtifactStore) -> None:
    for array in (np.arange(24.0).reshape(2, 3, 4), np.asfortranarray(np.ones((3, 2)))):
        expected = io.BytesIO()
        np.save(expected, array)
        assert store.get_bytes(save(store, array).digest) == expected.getvalue()


def test_a_failed_save_leaves_nothing_behind(backend: Backend, store: ArtifactStore) -> None:
    half_picklable = [b"x" * 1_000_000, lambda: None]  # pickling fails after writing 1 MB
    with pytest.raises(StoreError, match="not picklable"):
        save(store, half_picklable)
    assert backend.blob_names() == []
    assert list(store.staging_dir().iterdir()) == []


def test_records_are_written_replaced_and_listed(store: ArtifactStore) -> None:
    assert store.get_record("runs/r1/outputs/fit/0.json") is None
    store.put_record("runs/r1/outputs/fit/0.json", b"one")
    store.put_record("runs/r1/outputs/fit/0.json", b"two")
    store.put_record("runs/r1/outputs/fit/1.json", b"three")
    store.put_record("runs/r1/outputs/fit_more/0.json", b"four")
    store.put_record("runs/r1/logs/fit/0/0.log", b"log")
    assert store.get_record("runs/r1/outputs/fit/0.json") == b"two"
    assert store.list_records("runs/r1/outputs/fit/") == [
        "runs/r1/outputs/fit/0.json",
        "runs/r1/outputs/fit/1.json",
    ]
    assert store.list_records("runs/r1/outputs/fit") == [
        "runs/r1/outputs/fit/0.json",
        "runs/r1/outputs/fit/1.json",
        "runs/r1/outputs/fit_more/0.json",
    ]
    assert len(store.list_records("runs/")) == 4
    assert store.list_records("runs/nope/") == []


_SPARSE = scipy.sparse.random(40, 30, density=0.2, format="csr", random_state=1)

ROUND_TRIPS: list[tuple[Any, str]] = [
    (b"\x00raw bytes", "bytes"),
    ({"b": [1, 2.5, None, True], "a": {"nested": "yes"}}, "json"),
    ([1, "two", 3.0], "json"),
    ((1, 2, 3), "json"),
    ("text", "json"),
    (42, "json"),
    (None, "json"),
    (np.arange(12, dtype=np.int32).reshape(3, 4), "npy"),
    (np.asfortranarray(np.random.default_rng(2).random((5, 3))), "npy"),
    (np.zeros(0), "npy"),
    (np.float32(1.5), "json"),
    (_SPARSE, "npz"),
    (scipy.sparse.coo_array(np.eye(4)), "npz"),
    ({1: "int keys are not JSON"}, "tree"),
    ({"when": complex(1, 2)}, "tree"),
    ({"train": np.arange(6.0).reshape(3, 2), "test": np.ones((2, 2), dtype=np.int8)}, "tree"),
    ((np.zeros((2, 3)), np.array([1, 0]), "labels", None), "tree"),
    ([np.asfortranarray(np.eye(3)), np.arange(10)[::3], np.float32(2.5)], "tree"),
    ({(1, "a"): {b"raw", 3j}, "s": frozenset({1, 2}), "x": [1.5, {"deep": np.int64(7)}]}, "tree"),
    ({"counts": _SPARSE, "diagonal": scipy.sparse.dia_array(np.eye(3)), "seconds": 0.5}, "tree"),
    (np.array([1, "a"], dtype=object), "pickle"),
    (np.ma.masked_array([1.0, 2.0], mask=[False, True]), "pickle"),
]


def _equal(left: Any, right: Any) -> bool:
    if type(left) in (list, tuple) and type(right) is type(left) and len(left) == len(right):
        return all(_equal(a, b) for a, b in zip(left, right, strict=True))
    if type(left) is dict and type(right) is dict and left.keys() == right.keys():
        return all(_equal(item, right[key]) for key, item in left.items())
    if scipy.sparse.issparse(left):
        return type(left) is type(right) and (left != right).nnz == 0
    if isinstance(left, np.ma.MaskedArray):
        same_data = np.array_equal(left.filled(0), right.filled(0))
        return type(right) is type(left) and same_data and bool(np.all(left.mask == right.mask))
    if isinstance(left, np.ndarray):
        return bool(np.array_equal(left, right)) and left.dtype == right.dtype
    return type(left) is type(right) and left == right


@pytest.mark.parametrize(("value", "fmt"), ROUND_TRIPS, ids=lambda v: type(v).__name__)
def test_every_serializer_round_trips(
    backend: Backend, store: ArtifactStore, value: Any, fmt: str
) -> None:
    info = save(store, value)
    assert info.format == fmt
    assert info.type == f"{type(value).__module__}.{type(value).__qualname__}"
    assert info.size == len(store.get_bytes(info.digest))
    described = ArtifactInfo.model_validate_json(info.model_dump_json())
    loaded = load(backend.reopen(), described, allow_pickle=fmt == "pickle")
    expected = float(value) if isinstance(value, np.generic) else value
    assert _equal(expected, loaded), (expected, loaded)


def test_lengths_are_recorded_for_fan_outs(store: ArtifactStore) -> None:
    assert save(store, [1, 2, 3]).length == 3
    assert save(store, (1, 2)).length == 2
    assert save(store, np.zeros((7, 2))).length == 7
    assert save(store, _SPARSE).length == 40
    assert save(store, {"a": 1}).length is None
    assert save(store, np.float64(1.0)).length is None


def test_equal_values_give_equal_digests(store: ArtifactStore) -> None:
    assert save(store, {"a": 1, "b": 2}).digest == save(store, {"b": 2, "a": 1}).digest
    assert save(store, _SPARSE).digest == save(store, _SPARSE.copy()).digest
    array = np.arange(10.0)
    assert save(store, array).digest == save(store, array.copy()).digest
    assert save(store, array).digest != save(store, array.astype(np.float32)).digest
    stored = save(store, array)
    assert save(store, load(store, stored)).digest == stored.digest  # a memory map passed on
    split = {"train": array, "test": array[:3], 2: "int key"}
    assert save(store, split).digest == save(store, dict(reversed(split.items()))).digest


def test_arrays_load_memory_mapped_and_read_only(backend: Backend, store: ArtifactStore) -> None:
    array = np.random.default_rng(3).random((3 * SMALL_PART // 8 + 7,))  # about 15 MB
    info = save(store, array)
    assert info.size > array.nbytes
    fresh = backend.reopen()
    mapped = load(fresh, info)
    assert isinstance(mapped, np.memmap)
    assert np.array_equal(mapped, array)
    with pytest.raises(ValueError, match="read-only"):
        mapped[0] = 1.0
    copied = load(fresh, info, mmap=False)
    assert not isinstance(copied, np.memmap)
    copied[0] = 1.0
    assert load(fresh, info)[0] == array[0]


def test_unknown_formats_are_refused_clearly(store: ArtifactStore) -> None:
    info = save(store, "x").model_copy(update={"format": "parquet"})
    with pytest.raises(StoreError, match="format 'parquet'"):
        load(store, info)


def test_a_sparse_npz_has_the_same_bytes_on_every_python(store: ArtifactStore) -> None:
    """No forced ZIP64: its header bytes differ between Python 3.11 patch releases."""
    ref = save(store, scipy.sparse.csr_matrix(np.eye(5)))
    data = store.get_bytes(ref.digest)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        versions = {info.extract_version for info in archive.infolist()}
    assert versions == {20}
    assert data[4:6] == (20).to_bytes(2, "little")  # the first local header agrees


def test_a_tree_is_an_npz_that_numpy_opens(store: ArtifactStore) -> None:
    split = {"train": np.arange(6.0).reshape(3, 2), "test": np.ones(2)}
    info = save(store, split)
    with np.load(io.BytesIO(store.get_bytes(info.digest)), allow_pickle=False) as archive:
        assert sorted(archive.files) == ["0", "1", "tree.json"]
        assert np.array_equal(archive["0"], split["test"])  # keys in order: "test", "train"
        assert np.array_equal(archive["1"], split["train"])
