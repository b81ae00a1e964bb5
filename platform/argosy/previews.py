"""One-line previews of stored values, for people: the result line of ``argosy run``.

A preview never runs code from data and never reads much: JSON values are loaded only when
small (`PREVIEW_BYTES`) and shown shortened; an array shows its dtype and shape, read from the
memory-mapped file; a named output shows its field names, a file or folder its name; anything
else (pickles included) shows its type and size only.
"""

from __future__ import annotations

import reprlib
from typing import Any

from argosy.errors import ArgosyError
from argosy.store.base import ArtifactInfo, ArtifactStore

PREVIEW_BYTES = 64 * 1024
"""The largest JSON value loaded to be shown."""

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxdict = 8


def preview(store: ArtifactStore, info: ArtifactInfo) -> str:
    """A line saying what the artifact holds, e.g. ``50005000`` or ``float64 array (1000, 10)``."""
    try:
        return _described(store, info)
    except ArgosyError as error:  # unreadable: say so rather than fail the command
        return f"{_kind(info)} (not readable here: {error})"


def _described(store: ArtifactStore, info: ArtifactInfo) -> str:
    from argosy.store import load
    from argosy.store.fields import FIELDS_FORMAT, field_infos

    if info.format == "json" and info.size <= PREVIEW_BYTES:
        return _SHORT.repr(load(store, info))
    if info.format == "npy":
        array: Any = load(store, info, mmap=True)
        return f"{array.dtype} array {tuple(array.shape)}"
    if info.format == FIELDS_FORMAT:
        fields = ", ".join(field_infos(store, info))
        return f"{_kind(info)} with fields {fields}"
    if info.name is not None:
        return f"{info.format} {info.name!r} ({human_bytes(info.size)})"
    return f"{_kind(info)} ({human_bytes(info.size)})"


def _kind(info: ArtifactInfo) -> str:
    return info.type.removeprefix("builtins.")


def human_bytes(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``3.2 GiB``."""
    if size < 1024:
        return f"{size} B"
    value, unit = size / 1024, "KiB"
    for larger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.1f} {unit}"


__all__ = ["PREVIEW_BYTES", "human_bytes", "preview"]
