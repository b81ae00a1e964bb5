"""Named outputs: a step that returns several values stores each as an artifact of its own.

A step whose return type is a NamedTuple or a dataclass has named outputs (`ir.Step.outputs`).
Each field is saved with the serializer its value calls for, under its own digest, and a small
manifest artifact (format ``fields``: canonical JSON listing each field's name and `ArtifactInfo`
in the order the type declares them) stands
for the whole output. A downstream step that reads one field loads only that artifact; one that
reads the whole output gets every field back, as the returned type when that type is already
imported in the process (the pipeline's module, in a task), else as a dict. The type is looked
up, never imported: loading data runs no code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from argosy.errors import StoreError
from argosy.store.base import ArtifactInfo, ArtifactStore
from argosy.store.registry import imported_class

FIELDS_FORMAT = "fields"
"""The format of the manifest artifact of a step with named outputs."""
NONE_TYPE = "builtins.NoneType"
"""The type of a None output: what a caught task leaves, named outputs or not."""


def field_values(value: Any, names: Sequence[str]) -> dict[str, Any]:
    """The value of each named output in what a step returned: a NamedTuple, a dataclass or a
    mapping with exactly those names; StoreError naming what is missing or extra otherwise."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        given = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    elif isinstance(value, tuple) and hasattr(value, "_fields"):
        given = dict(zip(value._fields, value, strict=True))
    elif isinstance(value, Mapping):
        given = dict(value)
    else:
        raise StoreError(
            f"the step declares named outputs ({', '.join(names)}) but returned a "
            f"{type(value).__name__}; return its NamedTuple or dataclass (or a dict with those "
            "keys)"
        )
    missing, extra = set(names) - set(given), set(given) - set(names)
    if missing or extra:
        raise StoreError(
            f"the step's named outputs are {', '.join(names)}, but it returned "
            + "; ".join(
                part
                for part in (
                    missing and f"no {', '.join(sorted(missing))}",
                    extra and f"unknown {', '.join(sorted(map(str, extra)))}",
                )
                if part
            )
        )
    return {name: given[name] for name in names}


def save_fields(
    store: ArtifactStore, fields: Mapping[str, ArtifactInfo], type_name: str
) -> ArtifactInfo:
    """Store the manifest of named outputs already saved as ``fields``: the whole output."""
    document = {"fields": [[name, info.model_dump(mode="json")] for name, info in fields.items()]}
    data = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    digest = store.put_bytes(data)
    return ArtifactInfo(digest=digest, format=FIELDS_FORMAT, type=type_name, size=len(data))


def field_infos(store: ArtifactStore, info: ArtifactInfo) -> dict[str, ArtifactInfo]:
    """The artifact of each named output, from the manifest ``info`` (checked by its digest)."""
    if info.format != FIELDS_FORMAT:
        raise StoreError(
            f"artifact {info.digest} (a {info.type}) is one value, not named outputs; read the "
            "whole output"
        )
    document = json.loads(store.get_bytes(info.digest))
    return {name: ArtifactInfo.model_validate(item) for name, item in document["fields"]}


def named_artifacts(store: ArtifactStore, info: ArtifactInfo | None) -> dict[str, ArtifactInfo]:
    """The artifact of each named output when ``info`` is their manifest; else none."""
    if info is None or info.format != FIELDS_FORMAT:
        return {}
    return field_infos(store, info)


def output_part(store: ArtifactStore, info: ArtifactInfo, field: str | None) -> ArtifactInfo:
    """``info`` itself, or the artifact of its named output ``field`` when one is given. A
    caught task's output is None, and so is each of its named outputs."""
    if field is None or info.type == NONE_TYPE:
        return info
    return field_info(store, info, field)


def field_info(store: ArtifactStore, info: ArtifactInfo, field: str) -> ArtifactInfo:
    """The artifact of named output ``field`` of the whole output ``info``."""
    fields = field_infos(store, info)
    if field not in fields:
        raise StoreError(
            f"artifact {info.digest} has no output named {field!r}; it has {', '.join(fields)}"
        )
    return fields[field]


def rebuild(type_name: str, values: dict[str, Any]) -> Any:
    """``values`` as the NamedTuple or dataclass ``type_name`` names when that type is already
    imported and has exactly these fields, made without calling its constructor (no user code
    runs: the fields are set as the step returned them); otherwise the dict itself."""
    kind = imported_class(type_name)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        if sorted(f.name for f in dataclasses.fields(kind)) != sorted(values):
            return values
        made = object.__new__(kind)  # not __init__ or __post_init__: fields as they were
        for name, value in values.items():
            object.__setattr__(made, name, value)
        return made
    if isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields"):
        if sorted(kind._fields) != sorted(values):
            return values
        return kind._make(values[name] for name in kind._fields)  # tuple.__new__ alone
    return values


__all__ = [
    "FIELDS_FORMAT",
    "field_info",
    "field_infos",
    "field_values",
    "named_artifacts",
    "output_part",
    "rebuild",
    "save_fields",
]
