"""Serializers added by users: ``argosy.register_serializer``, and the lookup `save` and `load` use.

A serializer is a name and the types it handles, with a function that writes a value into a
file and one that reads a value back from a file::

    import argosy, polars

    argosy.register_serializer(
        "polars_ipc", polars.DataFrame,
        save=lambda frame, path: frame.write_ipc(path),
        load=lambda path: polars.read_ipc(path, memory_map=False),
    )

`argosy.store.save` asks the registered serializers before its built-in formats, the one
registered last first: a value that is an instance of one of a serializer's types is written
by it, and its name is the artifact's format. `argosy.store.load` reads an artifact of that
format with its ``load`` function, given the verified local file of the blob (read-only: copy
it before changing it). A type may be named ``"module.Name"`` instead of given, so registering
does not import the module: it matches once something imported it.

Registering is done at import, by the pipeline file (or a module it imports): workers and pods
import it before they run a step, so the serializer is there wherever the step's outputs are
written or its inputs read. Registering a name again replaces its serializer (a module
imported twice). A name cannot be one of the built-in formats (`BUILTIN_FORMATS`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argosy.errors import StoreError

BUILTIN_FORMATS = frozenset(
    {"bytes", "npy", "npz", "json", "tree", "pickle", "file", "dir", "parquet", "fields"}
)
"""Formats Argosy writes itself; no registered serializer may take their names."""
FORMAT_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
"""Format names: lower case letters, digits and ``_``, starting with a letter."""

_registered: dict[str, Serializer] = {}
"""Serializers by name, in the order registered (the last one is asked first)."""


@dataclass(frozen=True)
class Serializer:
    """A format: the types it writes, and how it writes a value to a file and reads it back."""

    name: str
    """The format name recorded in `ArtifactInfo.format`."""
    types: tuple[type | str, ...]
    """Classes whose instances it writes, or ``"module.Name"`` of classes not imported yet."""
    save: Callable[[Any, Path], None]
    """Writes the value into the (existing, empty) file at the path given."""
    load: Callable[[Path], Any]
    """The value stored in the file at the path given (read-only: do not change it)."""

    def handles(self, value: object) -> bool:
        """Whether ``value`` is an instance of one of the types."""
        classes = tuple(filter(None, map(_resolved, self.types)))
        return bool(classes) and isinstance(value, classes)


def register_serializer(
    name: str,
    types: type | str | Iterable[type | str],
    *,
    save: Callable[[Any, Path], None],
    load: Callable[[Path], Any],
) -> Serializer:
    """Store values of ``types`` in format ``name``: ``save(value, path)`` writes one into the
    file at ``path``, ``load(path)`` reads it back. Returns the serializer registered.

    Call it at import in the pipeline file, or a module the pipeline imports, so that workers
    and pods have it. Without it, loading an artifact of format ``name`` fails and says so.
    """
    if not isinstance(name, str) or not FORMAT_PATTERN.fullmatch(name):
        raise StoreError(
            f"serializer name {name!r} is not a format name: use 1-32 lower case letters, "
            "digits and _, starting with a letter"
        )
    if name in BUILTIN_FORMATS:
        raise StoreError(
            f"serializer name {name!r} is a built-in format of Argosy "
            f"({', '.join(sorted(BUILTIN_FORMATS))}); give yours another name"
        )
    serializer = Serializer(name, _types(name, types), save, load)
    _check_callable(serializer)
    return add(serializer)


def add(serializer: Serializer) -> Serializer:
    """Register ``serializer`` (a built-in one too), asked first from now on."""
    _registered.pop(serializer.name, None)
    _registered[serializer.name] = serializer
    return serializer


def for_value(value: object) -> Serializer | None:
    """The serializer that writes ``value``: the last registered of those that handle it."""
    for serializer in reversed(_registered.values()):
        if serializer.handles(value):
            return serializer
    return None


def named(name: str) -> Serializer | None:
    """The serializer registered under ``name`` in this process, if any."""
    return _registered.get(name)


def registered_names() -> list[str]:
    """Names of the serializers registered in this process, sorted."""
    return sorted(_registered)


def _types(name: str, types: type | str | Iterable[type | str]) -> tuple[type | str, ...]:
    listed = (types,) if isinstance(types, type | str) else tuple(types)
    bad = [t for t in listed if not isinstance(t, type) and not _is_dotted(t)]
    if not listed or bad:
        raise StoreError(
            f"serializer {name!r} must be given the types it handles: classes, or "
            f"'module.Name' strings (got {bad[0] if bad else 'none'!r})"
        )
    return listed


def _is_dotted(spec: object) -> bool:
    return isinstance(spec, str) and "." in spec.strip(".")


def _check_callable(serializer: Serializer) -> None:
    for role in ("save", "load"):
        if not callable(getattr(serializer, role)):
            raise StoreError(
                f"serializer {serializer.name!r} needs a {role} function; got "
                f"{getattr(serializer, role)!r}"
            )


def _resolved(spec: type | str) -> type | None:
    return spec if isinstance(spec, type) else imported_class(spec)


def imported_class(name: str) -> type | None:
    """The class ``module.Qualified.Name`` names, when its module is imported already (a value
    of it can exist then); None otherwise. Never imports: naming a class runs no code."""
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        found: Any = sys.modules.get(".".join(parts[:split]))
        if found is None:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute, None)
        return found if isinstance(found, type) else None
    return None


__all__ = [
    "BUILTIN_FORMATS",
    "FORMAT_PATTERN",
    "Serializer",
    "add",
    "for_value",
    "imported_class",
    "named",
    "register_serializer",
    "registered_names",
]
