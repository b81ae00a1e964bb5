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
``tree``    containers of arrays and plain values:       the same containers, arrays in memory
            ``{"train": array, "test": array}``,         (see `argosy.store.tree`)
            ``(X, y)``, int keys, complex, sets, bytes
``file``    a `pathlib.Path` of a file                   a local path of a file of the same
                                                         name (see `argosy.store.paths`)
``dir``     a `pathlib.Path` of a folder                 a local path of a folder of the same
                                                         name, unpacked once
``pickle``  anything else, recorded as such              the unpickled value, only with
                                                         ``allow_pickle=True``
==========  ===========================================  ========================================

Serializers registered with ``argosy.register_serializer`` are asked first, for the types they
name (see `argosy.store.registry`); ``parquet`` (pandas DataFrames) is one, registered where
pandas and pyarrow are installed. A value wrapped in ``argosy.Artifact(value, metadata=...)``
is stored as the value alone, and the metadata goes on its `ArtifactInfo`.

Loading never runs code unless asked to: unpickling a value can run whatever its writer put in
it, and anyone who can write a record or an object could make an artifact claim the pickle
format. So, as numpy's ``allow_pickle=False`` and PyTorch's ``weights_only=True``, `load`
refuses a pickled value with `PickleNotAllowed` unless the caller passes ``allow_pickle=True``.
Every blob is checked against its digest as it is read (see `argosy.store.verify`).

Large values never pass through memory twice: an array's bytes are hashed where they lie and
handed to the store as they are (`ArtifactStore.put_chunks`: a file for the local store, a
streamed multipart upload for S3, nothing at all when the digest is already stored); other
values are written into a file in the store's staging directory while they are hashed. Arrays
load with mmap from `ArtifactStore.local_path`; blobs of up to `READ_WHOLE` bytes are read into
memory instead (small arrays then come back read-only, as mapped ones do).
JSON is canonical (sorted keys, no spaces) and zip containers carry fixed timestamps, so equal
values give equal digests: the cache and deduplication depend on it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from argosy.errors import PickleNotAllowed, StoreError
from argosy.store import parquet, registry, tree
from argosy.store.artifact import Artifact
from argosy.store.base import ArtifactInfo, ArtifactStore
from argosy.store.fields import FIELDS_FORMAT, field_infos, rebuild
from argosy.store.npy import is_contiguous, is_ndarray, npy_parts
from argosy.store.paths import load_file, load_folder, save_path
from argosy.store.staged import StagedBlob, zip_entry, zip_writer
from argosy.store.staging import new_file, reporting_full_disk

_CHUNK = 1 << 20
_SPARSE_FORMATS = frozenset({"csr", "csc", "bsr", "coo", "dia"})

_Writer = Callable[[ArtifactStore, Any], tuple[str, int]]


def _type_name(value: object) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


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

    if not is_contiguous(value):  # numpy lays it out; hash it as it goes to a file
        with StagedBlob(store) as blob:
            np.lib.format.write_array(blob, value, allow_pickle=False)
            return blob.commit(), blob.size
    chunks = npy_parts(value)
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    store.put_chunks(chunks, digest.hexdigest())  # straight from the array's memory
    return digest.hexdigest(), sum(len(chunk) for chunk in chunks)


def _save_npz(store: ArtifactStore, value: Any) -> tuple[str, int]:
    import scipy.sparse

    fd, raw = new_file(store.staging_dir(), "npz")
    try:
        with open(fd, "w+b") as scratch:
            scipy.sparse.save_npz(scratch, value, compressed=False)
            scratch.seek(0)
            with StagedBlob(store) as blob:
                _copy_zip_without_timestamps(scratch, blob)
                return blob.commit(), blob.size
    finally:
        raw.unlink(missing_ok=True)


def _copy_zip_without_timestamps(source: Any, target: StagedBlob) -> None:
    """Rewrite a zip with fixed entry times and sizes, so equal contents give equal bytes."""
    with zipfile.ZipFile(source) as zin, zip_writer(target) as zout:
        for entry in zin.infolist():
            with zin.open(entry) as src, zip_entry(zout, entry.filename, entry.file_size) as dst:
                shutil.copyfileobj(src, dst, _CHUNK)


def _save_pickle(store: ArtifactStore, value: Any) -> tuple[str, int]:
    with StagedBlob(store) as blob:
        try:
            pickle.dump(value, blob, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise StoreError(
                f"cannot store a value of type {_type_name(value)}: it is not picklable "
                f"({exc}); return plain data, a numpy array, or a picklable object"
            ) from exc
        return blob.commit(), blob.size


def _save_registered(serializer: registry.Serializer) -> _Writer:
    """A writer that lets ``serializer`` write the value into a staging file, then hashes the
    file and hands it to the store as it is."""

    def write(store: ArtifactStore, value: Any) -> tuple[str, int]:
        fd, path = new_file(store.staging_dir(), "save", suffix=f".{serializer.name}")
        os.close(fd)
        try:
            serializer.save(value, path)
            with path.open("rb") as file:
                digest = hashlib.file_digest(file, "sha256").hexdigest()
                size = file.tell()
            store.put_file(path, digest)
        finally:
            path.unlink(missing_ok=True)  # put_file took it, or the serializer failed
        return digest, size

    return write


def _length(value: object) -> int | None:
    if isinstance(value, list | tuple):
        return len(value)
    if is_ndarray(value):
        return len(value) if value.ndim else None
    if _is_sparse(value):
        return int(value.shape[0])
    return None


def _choose(value: object, registered: registry.Serializer | None) -> tuple[str, _Writer]:
    if registered is not None:
        return registered.name, _save_registered(registered)
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes", _save_bytes
    if is_ndarray(value):
        return "npy", _save_npy
    if _is_sparse(value):
        return "npz", _save_npz
    if _is_plain(value):
        return "json", _save_json
    encoded = tree.encode(value)
    if encoded is not None:
        return "tree", lambda store, _: tree.save(store, encoded)
    return "pickle", _save_pickle


def save(store: ArtifactStore, value: object) -> ArtifactInfo:
    """Store ``value`` with the serializer its type calls for, and describe what was stored.

    An `Artifact` is stored as its value, with its metadata on the description; a `Path` as
    the file or folder it names (cheap for a file whose bytes the store holds already: one
    read, no copy). A full disk is a StoreError that names the directory and what to do;
    nothing is left of the value then.
    """
    if isinstance(value, Artifact):
        return save(store, value.value).model_copy(update={"metadata": value.metadata})
    needed = value.nbytes if is_ndarray(value) else None  # type: ignore[attr-defined]
    with reporting_full_disk(store.staging_dir(), needed):
        registered = registry.for_value(value)
        if registered is None and isinstance(value, Path):
            return save_path(store, value)
        fmt, writer = _choose(value, registered)
        digest, size = writer(store, value)
    return ArtifactInfo(
        digest=digest, format=fmt, type=_type_name(value), size=size, length=_length(value)
    )


READ_WHOLE = 16 << 10
"""Blobs up to this size are read into memory rather than opened as a local file: a memory map
of a few pages saves nothing, and a store that packs small blobs (the local one) then needs no
file for them."""


def _source(store: ArtifactStore, info: ArtifactInfo) -> Path | BinaryIO:
    """Where to read the blob of ``info`` from, checked against its digest: its bytes when it
    is small, else a local file."""
    if info.size <= READ_WHOLE:
        return io.BytesIO(store.get_bytes(info.digest))
    return store.local_path(info.digest)


def _load_npy(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    import numpy as np

    source = _source(store, info)
    if not isinstance(source, Path):
        array = np.load(source, allow_pickle=False)
        array.flags.writeable = not mmap  # read-only, as a mapped one would be
        return array
    try:
        return np.load(source, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError:  # an empty array cannot be mapped
        return np.load(source, allow_pickle=False)


def _load_npz(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    import scipy.sparse

    return scipy.sparse.load_npz(_source(store, info))


def _load_json(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    value = json.loads(store.get_bytes(info.digest))
    return tuple(value) if info.type == "builtins.tuple" else value


def _load_tree(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    return tree.load(_source(store, info), info.digest)


def _load_bytes(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    return store.get_bytes(info.digest)


def _load_pickle(store: ArtifactStore, info: ArtifactInfo, mmap: bool) -> Any:
    source = _source(store, info)
    if not isinstance(source, Path):
        return pickle.load(source)
    with source.open("rb") as file:
        return pickle.load(file)


_LOADERS: dict[str, Callable[[ArtifactStore, ArtifactInfo, bool], Any]] = {
    "bytes": _load_bytes,
    "npy": _load_npy,
    "npz": _load_npz,
    "json": _load_json,
    "tree": _load_tree,
    "file": lambda store, info, mmap: load_file(store, info),
    "dir": lambda store, info, mmap: load_folder(store, info),
    "pickle": _load_pickle,
}
parquet.register_if_installed()


def _loader(info: ArtifactInfo) -> Callable[[ArtifactStore, ArtifactInfo, bool], Any]:
    """How to read an artifact of ``info.format``: built in, or registered in this process."""
    loader = _LOADERS.get(info.format)
    if loader is not None:
        return loader
    serializer = registry.named(info.format)
    if serializer is not None:
        return lambda store, info, mmap: serializer.load(store.local_path(info.digest))
    if info.format == parquet.PARQUET.name:  # where pandas or pyarrow is missing
        raise StoreError(
            f"artifact {info.digest} (a {info.type}) has format {info.format!r}, which needs "
            "pandas and pyarrow: install them where it is loaded"
        )
    known = ", ".join(sorted(_LOADERS.keys() | registry.registered_names()))
    raise StoreError(
        f"artifact {info.digest} (a {info.type}) has format {info.format!r}, and no serializer "
        f"of that name is registered in this process (known: {known}). Import the module that "
        f"calls argosy.register_serializer({info.format!r}, ...) before loading it: the "
        "pipeline file that registers it, or a module it imports (a format of a newer Argosy: "
        "upgrade)"
    )


def load(
    store: ArtifactStore, info: ArtifactInfo, *, mmap: bool = True, allow_pickle: bool = False
) -> Any:
    """The value `info` describes; arrays come back memory-mapped (small ones read-only in
    memory) unless ``mmap=False``, files
    and folders (formats ``file`` and ``dir``) as local paths, read-only by convention.

    Named outputs (`argosy.store.fields`) come back as their NamedTuple or dataclass when it is
    imported, else as a dict of their values.

    A value stored with pickle is refused (`PickleNotAllowed`) unless ``allow_pickle=True``:
    pass it only for artifacts written by code you trust. The blob's bytes are checked against
    its digest (`ArtifactCorrupted` when they do not match).
    """
    if info.format == FIELDS_FORMAT:
        values = {
            name: load(store, field, mmap=mmap, allow_pickle=allow_pickle)
            for name, field in field_infos(store, info).items()
        }
        return rebuild(info.type, values)
    loader = _loader(info)
    if loader is _load_pickle and not allow_pickle:
        raise PickleNotAllowed(
            f"artifact {info.digest} (a {info.type}) was stored with pickle, and unpickling "
            "runs whatever code its writer put in it, so it was not loaded. If you trust the "
            "run that wrote it, load it with `.load(allow_pickle=True)` (argosy.store.load(..., "
            "allow_pickle=True)); for a pipeline whose steps pass such values to each other, "
            "declare `@pipeline(allow_pickle=True)`. Better, return numpy arrays, plain data or "
            "containers of them, which are stored without pickle"
        )
    return loader(store, info, mmap)


__all__ = ["READ_WHOLE", "load", "save"]
