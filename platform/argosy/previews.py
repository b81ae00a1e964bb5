"""Previews of stored values, for people: the result line of ``argosy run`` (`preview`), and
the fuller look of the web UI's artifact page (`look`).

A preview never runs code from data and never reads much: JSON values are loaded only when
small (`PREVIEW_BYTES`) and shown shortened; an array shows its dtype and shape, read from the
memory-mapped file; a named output shows its field names, a file or folder its name; anything
else (pickles included) shows its type and size only. `look` adds the value as indented JSON
(cut at `LOOK_CHARACTERS`) and the head of a table (`HEAD_ROWS` rows): of a JSON list of
records, of a 1-D, 2-D or structured array, or of a CSV or TSV file.
"""

from __future__ import annotations

import csv
import json
import reprlib
from dataclasses import dataclass, field
from typing import Any

from argosy.errors import ArgosyError
from argosy.store.base import ArtifactInfo, ArtifactStore

PREVIEW_BYTES = 64 * 1024
"""The largest JSON value loaded to be shown."""
HEAD_ROWS, HEAD_COLUMNS = 10, 12
"""How much of a table `look` shows."""
LOOK_CHARACTERS = 4000
"""How much of a JSON value's text `look` shows."""
CSV_HEAD_BYTES = 64 * 1024
"""How much of a CSV file is read for its head."""

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


@dataclass(frozen=True)
class Look:
    """What the artifact page shows of a value besides its metadata."""

    summary: str
    """The one-line `preview`."""
    text: str | None = None
    """The value as indented JSON, cut at `LOOK_CHARACTERS`."""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    """The head of a table: `HEAD_ROWS` rows of at most `HEAD_COLUMNS` columns."""
    fields: dict[str, ArtifactInfo] = field(default_factory=dict)
    """The artifact of each named output, for a step that returned several values."""


def look(store: ArtifactStore, info: ArtifactInfo) -> Look:
    """The `preview` line, and the value's text or table head where it has one."""
    summary = preview(store, info)
    try:
        return _looked(store, info, summary)
    except ArgosyError:  # `preview` has said what is wrong
        return Look(summary)


def _looked(store: ArtifactStore, info: ArtifactInfo, summary: str) -> Look:
    from argosy.store import load
    from argosy.store.fields import FIELDS_FORMAT, field_infos

    if info.format == "json" and info.size <= PREVIEW_BYTES:
        value = load(store, info)
        text = json.dumps(value, indent=2, ensure_ascii=False)
        cut = text if len(text) <= LOOK_CHARACTERS else text[:LOOK_CHARACTERS] + "\n…"
        return Look(summary, cut, *_records_head(value))
    if info.format == "npy":
        return Look(summary, None, *_array_head(load(store, info, mmap=True)))
    if info.format == FIELDS_FORMAT:
        return Look(summary, fields=field_infos(store, info))
    if info.format == "file" and (info.name or "").lower().endswith((".csv", ".tsv")):
        path = load(store, info)
        with path.open("rb") as file:
            head = file.read(CSV_HEAD_BYTES + 1)
        return Look(summary, None, *_csv_head(head, "\t" if path.suffix == ".tsv" else ","))
    return Look(summary)


def _records_head(value: Any) -> tuple[list[str], list[list[str]]]:
    """Columns and first rows of a list of JSON objects; nothing for other values."""
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        return [], []
    rows = value[:HEAD_ROWS]
    columns = list(dict.fromkeys(key for row in rows for key in row))[:HEAD_COLUMNS]
    return columns, [[_cell(row.get(key, "")) for key in columns] for row in rows]


def _array_head(array: Any) -> tuple[list[str], list[list[str]]]:
    """Columns and first rows of a 1-D, 2-D or structured array; nothing for other shapes."""
    names = array.dtype.names
    if names and array.ndim == 1:
        columns = list(names[:HEAD_COLUMNS])
        return columns, [[_cell(row[n]) for n in columns] for row in array[:HEAD_ROWS]]
    if array.ndim == 1:
        return ["value"], [[_cell(v)] for v in array[:HEAD_ROWS]]
    if array.ndim == 2:
        width = min(array.shape[1], HEAD_COLUMNS)
        head = array[:HEAD_ROWS, :width]
        return [str(c) for c in range(width)], [[_cell(v) for v in row] for row in head]
    return [], []


def _csv_head(data: bytes, delimiter: str) -> tuple[list[str], list[list[str]]]:
    """Header and first rows of the start of a CSV file (``data``: up to one byte more than
    `CSV_HEAD_BYTES`, which says that its last line may be cut short)."""
    lines = data[:CSV_HEAD_BYTES].decode(errors="replace").splitlines()
    if len(data) > CSV_HEAD_BYTES:
        lines = lines[:-1]
    table = list(csv.reader(lines[: HEAD_ROWS + 1], delimiter=delimiter))
    if not table:
        return [], []
    return table[0][:HEAD_COLUMNS], [row[:HEAD_COLUMNS] for row in table[1:]]


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else _SHORT.repr(_plain(value))
    return text if len(text) <= 80 else text[:79] + "…"


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (its repr is ``np.int64(3)`` otherwise)."""
    item = getattr(value, "item", None)
    return item() if callable(item) and getattr(value, "shape", None) == () else value


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


__all__ = ["HEAD_ROWS", "PREVIEW_BYTES", "Look", "human_bytes", "look", "preview"]
