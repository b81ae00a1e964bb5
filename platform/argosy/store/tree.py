"""The ``tree`` format: containers of arrays and plain values, stored without pickle.

Steps often return a few arrays together: ``{"train": table, "test": table}``, ``(X, y)``, a
dict holding a sparse matrix, a dict with int keys. JSON cannot hold them, and pickle would
make loading them run code; a tree holds them safely. It is an uncompressed zip that
`numpy.load` opens too: ``tree.json`` describes the structure, each array is an ``<n>.npy``
entry read back with ``allow_pickle=False``. Nodes of ``tree.json``:

=====================================  =============================================
node                                   value
=====================================  =============================================
a JSON string, number, bool, null      itself
``{"list": [node, ...]}``              a list; ``tuple``, ``set`` and ``frozenset``
                                       are written the same way under their names
``{"dict": [[key, value], ...]}``      a dict; keys are nodes too (int, str, tuple)
``{"complex": [real, imag]}``          a complex number
``{"bytes": "<base64>"}``              bytes
``{"array": n}``                       the array in entry ``n.npy``
``{"scalar": [dtype, "<base64>"]}``    a numpy scalar: its dtype and its bytes
``{"sparse": [class, shape, parts]}``  a scipy sparse array or matrix (2-D) of class
                                       ``csr_matrix``, ``coo_array``...; ``parts``
                                       maps its arrays (``data``, ``indices``...) to
                                       their entry numbers
=====================================  =============================================

Sets and dicts are written in the order of their encoded members (keys), and arrays numbered
in the order they are written, so equal values give equal bytes. Arrays load into memory (not
memory-mapped).
"""

from __future__ import annotations

import base64
import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from argosy.errors import StoreError
from argosy.store.base import ArtifactStore
from argosy.store.npy import is_contiguous, is_ndarray, npy_parts
from argosy.store.staged import StagedBlob, zip_entry, zip_writer

STRUCTURE = "tree.json"
"""The zip entry holding the structure."""
_MAX_DEPTH = 100
_SEQUENCES: dict[type, str] = {list: "list", tuple: "tuple", set: "set", frozenset: "frozenset"}
_BUILDERS: dict[str, Callable[[list[Any]], Any]] = {name: kind for kind, name in _SEQUENCES.items()}
_SPARSE_PARTS: dict[str, tuple[str, ...]] = {
    "csr": ("data", "indices", "indptr"),
    "csc": ("data", "indices", "indptr"),
    "bsr": ("data", "indices", "indptr"),
    "coo": ("data", "row", "col"),
    "dia": ("data", "offsets"),
}
"""The arrays that make a sparse array of each format, as `scipy.sparse.save_npz` stores them."""
_SPARSE_CLASSES = frozenset(
    f"{fmt}_{kind}" for fmt in _SPARSE_PARTS for kind in ("matrix", "array")
)


class _Unfit(Exception):
    """The value holds something a tree cannot: it is pickled instead."""


@dataclass
class Encoded:
    """A value as a tree: its structure, and the arrays it refers to, by entry number."""

    structure: Any
    arrays: list[Any] = field(default_factory=list)


def encode(value: object) -> Encoded | None:
    """``value`` as a tree, or None when it holds something a tree cannot."""
    encoded = Encoded(None)
    try:
        encoded.structure = _encode(value, encoded.arrays, 0)
    except _Unfit:
        return None
    return encoded


def save(store: ArtifactStore, encoded: Encoded) -> tuple[str, int]:
    """Store an encoded tree as one blob; its digest and size."""
    structure = _canonical(encoded.structure).encode()
    with StagedBlob(store) as blob:
        with zip_writer(blob) as archive:
            with zip_entry(archive, STRUCTURE, len(structure)) as entry:
                entry.write(structure)
            for number, array in enumerate(encoded.arrays):
                parts = npy_parts(array)
                with zip_entry(archive, f"{number}.npy", sum(len(p) for p in parts)) as entry:
                    for part in parts:
                        entry.write(part)
        return blob.commit(), blob.size


def load(source: Path | BinaryIO, digest: str) -> Any:
    """The value of the tree stored in the file at ``source``, or read from it (the blob
    ``digest``)."""
    try:
        with zipfile.ZipFile(source) as archive:
            structure = json.loads(archive.read(STRUCTURE))
            return _decode(structure, archive)
    except (KeyError, TypeError, ValueError, IndexError, RecursionError, zipfile.BadZipFile) as exc:
        raise StoreError(
            f"artifact {digest} is not a readable tree ({type(exc).__name__}: {exc}); it was "
            "not written by Argosy's tree serializer: run the step that produced it again"
        ) from exc


def _encode(value: Any, arrays: list[Any], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise _Unfit
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic):
        if value.dtype.hasobject:
            raise _Unfit
        return {"scalar": [value.dtype.str, base64.b64encode(value.tobytes()).decode()]}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    kind = type(value)
    if kind in _SEQUENCES:
        items = [_encode(item, arrays, depth + 1) for item in value]
        if kind in (set, frozenset):
            items.sort(key=_canonical)
        return {_SEQUENCES[kind]: items}
    if kind is dict:
        keys = sorted(
            ((_encode(key, arrays, depth + 1), item) for key, item in value.items()),
            key=lambda pair: _canonical(pair[0]),
        )  # keys hold no arrays (they are unhashable): arrays are numbered in this order
        return {"dict": [[key, _encode(item, arrays, depth + 1)] for key, item in keys]}
    if kind is complex:
        return {"complex": [value.real, value.imag]}
    if kind is bytes:
        return {"bytes": base64.b64encode(value).decode()}
    if is_ndarray(value):
        return {"array": _add_array(value, arrays)}
    if _is_sparse(value):
        parts = {name: _add_array(getattr(value, name), arrays) for name in _parts(kind.__name__)}
        return {"sparse": [kind.__name__, list(value.shape), parts]}
    raise _Unfit


def _add_array(array: Any, arrays: list[Any]) -> int:
    import numpy as np

    if not is_ndarray(array):
        raise _Unfit
    arrays.append(array if is_contiguous(array) else np.ascontiguousarray(array))
    return len(arrays) - 1


def _is_sparse(value: object) -> bool:
    kind = type(value)
    return (
        kind.__module__.startswith("scipy.sparse")
        and kind.__name__ in _SPARSE_CLASSES
        and len(value.shape) == 2  # type: ignore[attr-defined]
    )


def _parts(sparse_class: str) -> tuple[str, ...]:
    return _SPARSE_PARTS[sparse_class.partition("_")[0]]


def _decode(node: Any, archive: zipfile.ZipFile) -> Any:
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"unexpected node {str(node)[:80]}")
    [(tag, payload)] = node.items()
    if tag in _BUILDERS:
        return _BUILDERS[tag]([_decode(item, archive) for item in payload])
    if tag == "dict":
        return {_decode(key, archive): _decode(item, archive) for key, item in payload}
    if tag == "complex":
        real, imag = payload
        return complex(float(real), float(imag))
    if tag == "bytes":
        return base64.b64decode(payload, validate=True)
    if tag == "array":
        return _read_array(archive, payload)
    if tag == "scalar":
        return _scalar(*payload)
    if tag == "sparse":
        return _sparse(*payload, archive)
    raise ValueError(f"unknown node {tag!r}")


def _sparse(name: str, shape: list[int], parts: dict[str, int], archive: zipfile.ZipFile) -> Any:
    import scipy.sparse

    if name not in _SPARSE_CLASSES or set(parts) != set(_parts(name)):
        raise ValueError(f"{name!r} with parts {sorted(parts)} is not a sparse array")
    data, *others = (_read_array(archive, parts[part]) for part in _parts(name))
    layout = (data, tuple(others)) if name.startswith("coo") else (data, *others)
    return getattr(scipy.sparse, name)(layout, shape=tuple(shape))


def _scalar(dtype: str, data: str) -> Any:
    import numpy as np

    kind = np.dtype(dtype)
    if kind.hasobject:
        raise ValueError(f"a scalar of dtype {dtype!r} would hold Python objects")
    return np.frombuffer(base64.b64decode(data, validate=True), dtype=kind)[0]


def _read_array(archive: zipfile.ZipFile, number: object) -> Any:
    import numpy as np

    if type(number) is not int:
        raise ValueError(f"array reference {number!r} is not an entry number")
    with archive.open(f"{number}.npy") as entry:
        return np.lib.format.read_array(entry, allow_pickle=False)


def _canonical(node: Any) -> str:
    return json.dumps(node, sort_keys=True, separators=(",", ":"))


__all__ = ["STRUCTURE", "Encoded", "encode", "load", "save"]
