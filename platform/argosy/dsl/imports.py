"""``importer(location)``: outside data a pipeline reads, captured when each run starts.

Like Metaflow's ``IncludeFile`` and KFP's ``dsl.importer``: the location (a local file or
folder, or an ``s3://`` object or ``prefix/``, constant or a pipeline parameter) is recorded in
the IR (`ir.Import`); whoever starts a run copies the data into the artifact store by content
digest (`argosy.runtime.imports`), and a step given the handle receives a local path to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from argosy import ir
from argosy.dsl._context import current
from argosy.dsl.handles import Handle, ParameterHandle
from argosy.errors import PipelineError


@dataclass(frozen=True)
class ImportHandle(Handle):
    """Outside data the run imports: a step given it receives a local ``Path``."""

    name: str


def importer(location: str | ParameterHandle, *, name: str | None = None) -> ImportHandle:
    """Import the file, folder or ``s3://`` object at ``location`` into each run (captured by
    content digest when the run starts); ``name`` names it in lineage and in the run."""
    builder = current()
    if builder is None:
        raise PipelineError("importer() declares the data a pipeline reads, inside @pipeline")
    where = {"pipeline": builder.pipeline}
    if isinstance(location, ParameterHandle):
        item = {"parameter": location.name}
        wanted = name or location.name
    elif isinstance(location, str) and location:
        item = {"uri": location}
        wanted = name or _name_of(location)
    else:
        raise PipelineError(
            f"importer() takes a path, an s3:// URI or a pipeline parameter, not {location!r}",
            **where,
        )
    if name is not None and not ir.NAME_PATTERN.match(name):
        raise PipelineError(
            f"importer(name={name!r}): a name is lower-case letters, digits and underscores, "
            "starting with a letter",
            **where,
        )
    taken = {i.name for i in builder.imports}
    unique, n = wanted, 1
    while unique in taken:
        n += 1
        unique = f"{wanted}_{n}"
    builder.imports.append(ir.Import(name=unique, **item))
    return ImportHandle(builder.pipeline, f"imported data {unique!r}", unique)


def _name_of(location: str) -> str:
    """A name for the data at ``location``: its file or folder name as an identifier."""
    stem = PurePosixPath(location.rstrip("/")).name.split(".")[0].lower()
    name = re.sub(r"[^a-z0-9_]+", "_", stem).strip("_")[:40]
    return name if ir.NAME_PATTERN.match(name) else "data"


__all__ = ["ImportHandle", "importer"]
