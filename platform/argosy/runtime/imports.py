"""Importing outside data into a run: captured once, by content digest, when the run starts.

A pipeline names outside data with ``argosy.importer(...)`` (`ir.Pipeline.imports`): a local file
or folder, or an ``s3://bucket/key`` object or ``s3://bucket/prefix/`` folder. Whoever starts the
run (the local runner, `argosy submit`) copies each into the artifact store before any task runs
and writes an import record naming the artifact at `import_key`; steps read that record
(`imported_artifact`) and get a local path to the copy. So every task of the run, on any
machine, reads the same bytes; the digest is part of the cache key of the steps that read it,
so a cached step runs again when the data changed; a resumed run keeps its origin's copies.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from argosy import ir
from argosy.config import Settings
from argosy.errors import ConfigError, PipelineError, StoreError
from argosy.store import save
from argosy.store.base import ArtifactInfo, ArtifactStore

S3_SCHEME = "s3://"


def import_key(run_id: str, name: str) -> str:
    """The record naming the artifact import ``name`` of run ``run_id`` was captured as."""
    return f"runs/{run_id}/imports/{name}.json"


def capture_imports(
    pipeline: ir.Pipeline, params: Mapping[str, Any], store: ArtifactStore, settings: Settings
) -> dict[str, ArtifactInfo]:
    """Copy every import of ``pipeline`` into ``store``; their artifacts, by name. Done before
    the run is recorded, so a missing file stops it before it starts."""
    captured = {}
    for item in pipeline.imports:
        location = item.uri if item.uri is not None else params[item.parameter]  # type: ignore[index]
        if not isinstance(location, str) or not location:
            raise PipelineError(
                f"import {item.name!r} takes its location from parameter {item.parameter!r}, "
                f"which is {location!r}; give a path or an s3:// URI",
                pipeline=pipeline.name,
            )
        captured[item.name] = _capture(location, store, settings, pipeline.name, item.name)
    return captured


def record_imports(store: ArtifactStore, run_id: str, captured: Mapping[str, ArtifactInfo]) -> None:
    """Make the captured imports run ``run_id``'s: the records its steps read them by."""
    for name, artifact in captured.items():
        store.put_record(import_key(run_id, name), artifact.model_dump_json().encode())


def origin_imports(
    pipeline: ir.Pipeline, origin: str, store: ArtifactStore
) -> dict[str, ArtifactInfo]:
    """The imports run ``origin`` captured, to resume with (a resume reads the same data);
    PipelineError when one is missing (the pipeline gained an import since)."""
    captured = {}
    for item in pipeline.imports:
        data = store.get_record(import_key(origin, item.name))
        if data is None:
            raise PipelineError(
                f"run {origin!r} has no capture of import {item.name!r} to resume with; start a "
                "new run instead",
                pipeline=pipeline.name,
            )
        captured[item.name] = ArtifactInfo.model_validate_json(data)
    return captured


def imported_artifact(store: ArtifactStore, run_id: str, name: str) -> ArtifactInfo:
    """The artifact import ``name`` of run ``run_id`` was captured as."""
    data = store.get_record(import_key(run_id, name))
    if data is None:
        raise StoreError(
            f"run {run_id!r} has no capture of import {name!r}: imports are copied into the store "
            "when a run starts with `argosy run`, `argosy submit` or the Python API; a workflow "
            "created from compiled YAML does not capture them"
        )
    return ArtifactInfo.model_validate_json(data)


def _capture(
    location: str, store: ArtifactStore, settings: Settings, pipeline: str, name: str
) -> ArtifactInfo:
    if location.startswith(S3_SCHEME):
        with tempfile.TemporaryDirectory(dir=store.staging_dir()) as scratch:
            artifact = save(store, _download(location, Path(scratch), settings, pipeline, name))
    else:
        path = Path(location).expanduser().absolute()
        if not path.exists():
            raise PipelineError(
                f"import {name!r} reads {location}, which does not exist (looked for {path}); "
                "give an existing file or folder, relative to the directory you run from",
                pipeline=pipeline,
            )
        artifact = save(store, path)
    return artifact.model_copy(update={"metadata": {**artifact.metadata, "source": location}})


def _download(location: str, scratch: Path, settings: Settings, pipeline: str, name: str) -> Path:
    """Download the object or the folder (a key prefix ending in ``/``) ``location`` names."""
    bucket, _, key = location[len(S3_SCHEME) :].partition("/")
    if not bucket or not key:
        raise PipelineError(
            f"import {name!r} reads {location}, which names no object; write "
            "s3://bucket/key or s3://bucket/prefix/ for a folder",
            pipeline=pipeline,
        )
    client = _s3_client(settings, name)
    from minio.error import S3Error

    try:
        if not key.endswith("/"):
            target = scratch / Path(key).name
            client.fget_object(bucket, key, str(target))
            return target
        folder = scratch / Path(key.rstrip("/")).name
        found = False
        for entry in client.list_objects(bucket, prefix=key, recursive=True):
            if entry.object_name is None or entry.is_dir:
                continue
            found = True
            target = object_path_in_folder(
                folder, entry.object_name[len(key) :], location, pipeline, name
            )
            client.fget_object(bucket, entry.object_name, str(target))
    except S3Error as error:
        raise PipelineError(
            f"import {name!r} could not read {location}: {error.code} ({error.message})",
            pipeline=pipeline,
        ) from None
    if not found:
        raise PipelineError(
            f"import {name!r} reads folder {location}, which holds no objects", pipeline=pipeline
        )
    return folder


def object_path_in_folder(
    folder: Path, relative: str, location: str, pipeline: str, name: str
) -> Path:
    """Where the object at ``relative`` (its key after the prefix) goes in ``folder``;
    PipelineError for a key that would land outside it or clash with a folder."""
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise PipelineError(
            f"import {name!r} reads folder {location}, which holds an object named "
            f"{relative!r}: a key with an empty, '.' or '..' part cannot be a file of a folder; "
            "rename it or import the objects you need one by one",
            pipeline=pipeline,
        )
    target = folder.joinpath(*parts)
    if target.is_dir() or any(parent.is_file() for parent in target.parents):
        raise PipelineError(
            f"import {name!r} reads folder {location}, where {relative!r} is both a file and "
            "a folder; a folder on disk cannot hold both",
            pipeline=pipeline,
        )
    return target


def _s3_client(settings: Settings, name: str) -> Any:
    """A client of the S3 server the settings name (imports read from the same server)."""
    if not settings.s3_endpoint:
        raise ConfigError(
            f"import {name!r} reads from S3, but no S3 server is configured; set "
            "ARGOSY_S3_ENDPOINT (and ARGOSY_S3_ACCESS_KEY, ARGOSY_S3_SECRET_KEY)"
        )
    from minio import Minio

    access, secret = settings.s3_access_key, settings.s3_secret_key
    return Minio(
        settings.s3_endpoint,
        access_key=access.get_secret_value() if access else None,
        secret_key=secret.get_secret_value() if secret else None,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )


def prepare_imports(
    pipeline: ir.Pipeline,
    params: Mapping[str, Any],
    store: ArtifactStore,
    settings: Settings,
    *,
    resumed_from: str | None,
) -> Callable[[str], None]:
    """Capture a new run's imports now (or, for a resumed run, take its origin's), before the
    run is recorded, so a missing file stops it first; the call that gives them to the run
    once its id is known."""
    if not pipeline.imports:
        return lambda run_id: None
    if resumed_from is not None:
        captured = origin_imports(pipeline, resumed_from, store)
    else:
        captured = capture_imports(pipeline, params, store, settings)
    return lambda run_id: record_imports(store, run_id, captured)


__all__ = [
    "capture_imports",
    "import_key",
    "imported_artifact",
    "object_path_in_folder",
    "origin_imports",
    "prepare_imports",
    "record_imports",
]
