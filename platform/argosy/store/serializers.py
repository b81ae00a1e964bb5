"""Turning step values into stored artifacts and back: `save` and `load`, a serializer per type.

==========  ===========================================  ========================================
format      values                                       on load
==========  ===========================================  ========================================
``bytes``   bytes, bytearray, memoryview                 bytes
``npy``     numpy arrays (not of dtype object)           a read-only memory map (``mmap=True``)
``npz``     scipy sparse arrays and matrices             the same sparse class
``json``    plain data: dict (str keys), list, str,      equal plain data (a top-level tuple
            int, float, bool, None, numpy scalars        comes back a tuple; numpy scalars
                                                         come back as Python numbers)
``pickle``  anything else, recorded as such              the unpickled value
==========  ===========================================  ========================================

Large values never pass through memory twice: an array's bytes are hashed where they lie and
handed to the store as they are (`ArtifactStore.put_chunks`: a file for the local store, a
streamed multipart upload for S3, nothing at all when the digest is already stored); other
values are written into a file in the store's staging directory while they are hashed. Arrays
load with mmap from `ArtifactStore.local_path`.
JSON is canonical (sorted keys, no spaces) and the npz container carries fixed timestamps, so
equal values give equal digests: the cache and deduplication depend on it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from argosy.errors import StoreError
from argosy.store.base import ArtifactInfo, ArtifactStore

_CHUNK = 1 << 20
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_SPARSE_FORMATS = frozenset({"csr", "csc", "bsr", "coo", "dia"})


class _StagedBlob:
    """A file in the store's staging directory, hashed as it is written, then put as a blob."""

    def __init__(self, store: ArtifactStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.staging_dir(), prefix="save-")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._hash.update(view)
        self._file.write(view)
        self.size += view.nbytes
        return view.nbytes

    def __enter__(self) -> _StagedBlob:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._file.close()
        if exc_type is not None:
            self.path.unlink(missing_ok=True)

    def commit(self) -> str:
        """Close the file, hand it to the store, and return its digest."""
        self._file.close()
        digest = self._hash.hexdigest()
        self._store.put_file(self.path, digest)
        return digest


def _type_name(value: object) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _is_ndarray(value: object) -> bool:
    """A plain array (or a memory map of one); subclasses such as masked arrays are pickled."""
    numpy = sys.modules.get("numpy")  # a value cannot be an array unless numpy is imported
    return (
        numpy is not None
        and type(value) in (numpy.ndarray, numpy.memmap)
        and not value.dtype.hasobject
    )


def _is_sparse(value: object) -> bool:
    sparse = sys.modules.get("scipy.sparse")
    return (
        sparse is not None
        and sparse.issparse(value)
        and getattr(value, "format", None) in _SPARSE_FORMATS
    )


def _is_plain_scalar(value: object) -> bool:
    if value is None or isinstance(value, str | int | float):
        return True
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.generic) and value.dtype.kind in "biuf"


def _is_plain(value: object, depth: int = 0) -> bool:
    if depth > 100:
        return False
    if type(value) is list or (type(value) is tuple and depth == 0):
        return all(_is_plain(item, depth + 1) for item in value)
    if type(value) is dict:
        return all(type(key) is str and _is_plain(item, depth + 1) for key, item in value.items())
    return _is_plain_scalar(value)


def _json_default(value: Any) -> Any:
    return value.item()  # numpy scalars, the only non-JSON values _is_plain lets through


def _save_bytes(store: ArtifactStore, value: bytes | bytearray | memoryview) -> tuple[str, int]:
    data = bytes(value)
    return store.put_bytes(data), len(data)


def _save_json(store: ArtifactStore, value: Any) -> tuple[str, int]:
    data = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default).encode()
    return store.put_bytes(data), len(data)


def _save_npy(store: ArtifactStore, value: Any) -> tuple[str, int]:
    import numpy as np

    if not value.flags.c_contiguous:  # numpy lays it out; hash it as it goes to a file
        with _StagedBlob(store) as blob:
            np.lib.format.write_array(blob, value, allow_pickle=False)
            return blob.commit(), blob.size
    chunks = [_npy_header(value), memoryview(value.reshape(-1).view(np.uint8))]
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    store.put_chunks(chunks, digest.hexdigest())  # straight from the array's memory
    return digest.hexdigest(), sum(len(chunk) for chunk in chunks)


def _npy_header(value: Any) -> bytes:
    """The .npy header `numpy.save` writes for this (C-ordered) array."""
    import numpy as np

    header = io.BytesIO()
    fields = np.lib.format.header_data_from_array_1_0(value)
    try:
        np.lib.format.write_array_header_1_0(header, fields)
    except ValueError:  # a header over 64 KiB (a huge structured dtype) needs version 2.0
        header = io.BytesIO()
        np.lib.format.write_array_header_2_0(header, fields)
    return header.getvalue()


def _save_npz(store: ArtifactStore, value: Any) -> tuple[str, int]:
    import scipy.sparse

    staging = store.staging_dir()
    with tempfile.TemporaryDirectory(dir=staging, prefix="npz-") as scratch:
        raw = Path(scratch) / "raw.npz"
        scipy.sparse.save_npz(raw, value, compressed=False)
        with _StagedBlob(store) as blob:
            _copy_zip_without_timestamps(raw, blob)
            return blob.commit(), blob.size


def _copy_zip_without_timestamps(source: Path, target: _StagedBlob) -> None:
    """Rewrite a zip with fixed entry times and sizes, so equal contents give equal bytes."""
    with (
        zipfile.ZipFile(source) as zin,
        zipfile.ZipFile(_Unseekable(target), "w", zipfile.ZIP_STORED) as zout,
    ):
        for entry in zin.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=_ZIP_EPOCH)
            # the size known up front: ZIP64 only for an entry that needs it. A forced ZIP64
            # entry has other header bytes on other Python 3.11 patch releases (Debian's images
            # run 3.11.2), and the same value must give the same digest everywhere.
            fixed.file_size = entry.file_size
            with zin.open(entry) as src, zout.open(fixed, "w") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)


class _Unseekable:
    """A write-only stream over a staged blob: zipfile then writes it in one forward pass."""

    def __init__(self, blob: _StagedBlob) -> None:
        self._blob = blob

    def write(self, data: Any) -> int:
        return self._blob.write(data)

    def tell(self) -> int:
        return self._blob.size

    def flush(self) -> None:
        """Nothing is buffered here."""


def _save_pickle(store: ArtifactStore, value: Any) -> tuple[str, int]:
    with _StagedBlob(store) as blob:
        try:
            pickle.dump(value, blob, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise StoreError(
                f"cannot store a value of type {_type_name(value)}: it is not picklable "
                f"({exc}); return plain data, a numpy array, or a picklable object"
            ) from exc
        return blob.commit(), blob.size


def _length(value: object) -> int | None:
    if isinstance(value, list | tuple):
        return len(value)
    if _is_ndarray(value):
        return len(value) if value.ndim else None
    if _is_sparse(value):
        return int(value.shape[0])
    return None


def _choose(value: object) -> tuple[str, Callable[[ArtifactStore, Any], tuple[str, int]]]:
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes", _save_bytes
    if _is_ndarray(value):
        return "npy", _save_npy
    if _is_sparse(value):
        return "npz", _save_npz
    if _is_plain(value):
        return "json", _save_json
    return "pickle", _save_pickle


def save(store: ArtifactStore, value: object) -> ArtifactInfo:
    """Store ``value`` with the serializer its type calls for, and describe what was stored."""
    fmt, writer = _choose(value)
    digest, size = writer(store, value)
    return ArtifactInfo(
        digest=digest, format=fmt, type=_type_name(value), size=size, length=_length(value)
    )


def _load_npy(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    import numpy as np

    path = store.local_path(info.digest)
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError:  # an empty array cannot be mapped
        return np.load(path, allow_pickle=False)


def _load_npz(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    import scipy.sparse

    return scipy.sparse.load_npz(store.local_path(info.digest))


def _load_json(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    value = json.loads(store.get_bytes(info.digest))
    return tuple(value) if info.type == "builtins.tuple" else value


def _load_bytes(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    return store.get_bytes(info.digest)


def _load_pickle(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    with store.local_path(info.digest).open("rb") as file:
        return pickle.load(file)


_LOADERS: dict[str, Callable[[ArtifactStore, ArtifactInfo, bool], Any]] = {
    "bytes": _load_bytes,
    "npy": _load_npy,
    "npz": _load_npz,
    "json": _load_json,
    "pickle": _load_pickle,
}


def load(store: ArtifactStore, info: ArtifactInfo, *, mmap: bool = True) -> Any:
    """The value `info` describes; arrays come back memory-mapped unless ``mmap=False``."""
    loader = _LOADERS.get(info.format)
    if loader is None:
        raise StoreError(
            f"artifact {info.digest} has format {info.format!r}, which this Argosy cannot "
            f"read (known: {', '.join(sorted(_LOADERS))}); upgrade Argosy"
        )
    return loader(store, info, mmap)


__all__ = ["load", "save"]
