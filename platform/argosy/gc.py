"""Garbage collection (`argosy gc`): delete runs, and the blobs, records and logs nothing uses.

`plan` reads what a collection would delete, and `apply` deletes it; ``--dry-run`` is `plan`
alone, so it reports what the real collection would. Three parts:

* **runs** a `RunSelection` chooses (by age, status, pipeline, owner, id, keeping the newest
  few of each pipeline), less those that must stay (live runs, and origins a staying run still
  reads: `argosy.metadata.pruning`). Each goes with its rows (tasks, attempts, events, metrics,
  tags, cache entries) in a transaction that checks again that it may, then with its records
  (``runs/<id>/``: outputs, logs, imports). Artifact rows only those runs pointed at go last.
* a **mark** of every blob still used: each artifact the metadata records for the runs that
  stay, what the store's records name that the metadata may not know yet (imports a run
  captured; outputs of runs that did not succeed, which `argosy resume` takes over, fields of
  named outputs included), and every code package (Argo workflows and schedules run them).
* a **sweep** of the blobs not marked that were stored before a cut-off: the start of the
  oldest live run (a live run stores blobs before it records them), and at least ``grace``
  ago (imports are captured before their run is recorded). The store is listed before the
  mark is made and the mark is made again just before the sweep, so what a run records in the
  meantime stays. What a live run takes up between that second mark and the sweep (an output
  whose bytes equal an unmarked old blob, a cache hit on a deleted run) is a gap left open,
  milliseconds wide; so is a resume of a deleted run that starts while gc runs.

The sweep needs every run that uses the store in this metadata: it refuses to run against a
metadata service (``ARGOSY_METADATA_URL``: run it where the database is reachable), and an S3
bucket is swept against the embedded database only when asked (`GcOptions.sweep`), since other
machines may record runs into the same bucket elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from argosy.client import MIN_PREFIX
from argosy.config import Settings
from argosy.errors import Ambiguous, ArgosyError, ConfigError, NotFound, StoreError
from argosy.metadata.pruning import ChosenRun, KeptRun, RunSelection
from argosy.metadata.references import References
from argosy.metadata.repository import Repository
from argosy.metadata.writes import utcnow
from argosy.outputs import OutputRecord
from argosy.runtime.imports import import_key
from argosy.store.base import ArtifactInfo, ArtifactStore, StoredBlob
from argosy.store.concurrency import concurrently
from argosy.store.fields import named_artifacts

T = TypeVar("T")
Progress = Callable[[str, int, int], None]
"""Told ``(what, done, total)`` as the work goes (``total`` 0 when unknown)."""
GRACE = timedelta(hours=1)
"""Blobs younger than this are never swept, referenced or not."""


@dataclass(frozen=True)
class GcOptions:
    """What to collect."""

    selection: RunSelection = field(default_factory=RunSelection)
    grace: timedelta = GRACE
    sweep: bool = True
    """Sweep unmarked blobs; False deletes runs and their records only."""


@dataclass(frozen=True)
class Collection:
    """What a collection deletes (a plan) or deleted (once applied)."""

    runs: tuple[ChosenRun, ...]
    kept: tuple[KeptRun, ...]
    """Selected runs that stay, and why."""
    records: int
    """Records of the deleted runs (outputs, logs, imports)."""
    record_bytes: int
    blobs: tuple[StoredBlob, ...]
    artifacts: int
    """Artifact rows of the metadata."""
    freed: int
    """Bytes freed in all (blobs, with their copies kept beside them once applied, and records)."""
    cutoff: datetime | None
    """Blobs stored since are kept; None when nothing was swept."""
    held_by: str | None = None
    """The live run whose start set the cut-off, when one did."""
    leaving: frozenset[str] = frozenset()
    """The artifacts whose rows go (of a plan)."""

    @property
    def blob_bytes(self) -> int:
        return sum(blob.size for blob in self.blobs)

    def to_json(self, *, dry_run: bool) -> dict[str, Any]:
        """The collection as one JSON object (``argosy gc --json``)."""
        return {
            "dry_run": dry_run,
            "runs": [
                {
                    "id": run.id,
                    "pipeline": run.pipeline,
                    "status": run.status.value,
                    "created_at": run.created_at.isoformat(),
                    "owner": run.owner,
                }
                for run in self.runs
            ],
            "kept": [{"id": run.id, "reason": run.reason} for run in self.kept],
            "records": self.records,
            "record_bytes": self.record_bytes,
            "blobs": len(self.blobs),
            "blob_bytes": self.blob_bytes,
            "artifacts": self.artifacts,
            "bytes_freed": self.freed,
            "swept": self.cutoff is not None,
            "cutoff": None if self.cutoff is None else self.cutoff.isoformat(),
            "held_by": self.held_by,
        }


def open_repository(settings: Settings) -> Repository:
    """The metadata database gc works on; ConfigError for a metadata service."""
    if settings.metadata_url:
        raise ConfigError(
            f"argosy gc deletes rows of the metadata database itself, and ARGOSY_METADATA_URL "
            f"points at a service ({settings.metadata_url}); run it where the database is "
            "reachable: unset ARGOSY_METADATA_URL and set ARGOSY_DATABASE_URL (with the same "
            "ARGOSY_S3_* settings as the service), e.g. in the metadata server's pod"
        )
    if settings.database_url is None:
        settings.home.mkdir(parents=True, exist_ok=True)
    return Repository(settings.embedded_database_url, lost_after=settings.lost_after_seconds)


def run_ids(repository: Repository, refs: Iterable[str]) -> tuple[str, ...]:
    """The runs ``refs`` name, each by its id or a unique prefix of it (never by a pipeline's
    name, as `argosy show` takes one: gc deletes what it is told); NotFound or Ambiguous."""
    found: dict[str, None] = {}
    for ref in refs:
        try:
            found[repository.get_run(ref).id] = None
            continue
        except NotFound:
            pass
        matches = repository.find_runs(ref, 6) if len(ref) >= MIN_PREFIX else []
        if not matches:
            raise NotFound(
                f"no run {ref!r}: no run has that id or starts with it (a prefix needs "
                f"{MIN_PREFIX} characters); list runs with `argosy runs --all-owners`"
            )
        if len(matches) > 1:
            shown = ", ".join(run.id for run in matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise Ambiguous(f"run prefix {ref!r} is shared by {shown}; give more of the id")
        found[matches[0].id] = None
    return tuple(found)


def shares_its_store(settings: Settings) -> bool:
    """Whether other metadata databases may record runs into this settings' store: an S3
    bucket, recorded into this machine's embedded database."""
    return settings.uses_s3 and settings.database_url is None


def plan(
    repository: Repository,
    store: ArtifactStore,
    options: GcOptions,
    progress: Progress | None = None,
) -> Collection:
    """What collecting with ``options`` would delete now; nothing is deleted."""
    tell = progress or _silent
    tell("choosing runs", 0, 0)
    choice = repository.choose_runs(options.selection)
    keys = [key for run in choice.doomed for key in store.list_records(f"runs/{run.id}/")]
    record_bytes = _record_bytes(store, keys, tell)
    listed = _listed(store, tell) if options.sweep else []
    tell("marking what stays", 0, 0)
    references = repository.references(choice.doomed_ids)
    cutoff, held_by = _cutoff(references, options.grace)
    marked = _marked(store, references, tell) if options.sweep else set()
    blobs = tuple(
        sorted(
            (b for b in listed if b.digest not in marked and b.stored_at < cutoff),
            key=lambda blob: blob.digest,
        )
    )
    return Collection(
        runs=tuple(choice.doomed),
        kept=tuple(choice.kept),
        records=len(keys),
        record_bytes=record_bytes,
        blobs=blobs,
        artifacts=len(references.leaving),
        freed=record_bytes + sum(blob.size for blob in blobs),
        cutoff=cutoff if options.sweep else None,
        held_by=held_by if options.sweep else None,
        leaving=references.leaving,
    )


def apply(
    repository: Repository,
    store: ArtifactStore,
    planned: Collection,
    options: GcOptions,
    progress: Progress | None = None,
) -> Collection:
    """Delete what ``planned`` lists, checking again as it goes; what was deleted."""
    tell = progress or _silent
    leaving = {run.id for run in planned.runs}
    deleted: list[ChosenRun] = []
    kept = list(planned.kept)
    records = record_bytes = 0
    for done, run in enumerate(reversed(planned.runs)):  # newest first: one that must stay
        tell("deleting runs", done, len(planned.runs))  # now keeps its (older) origin too
        if repository.delete_run(run.id, leaving) is None:
            leaving.discard(run.id)
            kept.append(KeptRun(run.id, "it is live again, or a run resumed it meanwhile"))
            continue
        records += len(store.list_records(f"runs/{run.id}/"))
        record_bytes += store.delete_records(f"runs/{run.id}/")
        deleted.append(run)
    tell("deleting artifact rows", 0, 0)
    artifacts = repository.delete_artifacts(sorted(planned.leaving))
    blobs: tuple[StoredBlob, ...] = ()
    blob_bytes = 0
    if planned.cutoff is not None and planned.blobs:
        tell("marking what stays", 0, 0)
        references = repository.references()
        cutoff = min(planned.cutoff, _cutoff(references, options.grace)[0])
        marked = _marked(store, references, tell)
        blobs = tuple(b for b in planned.blobs if b.digest not in marked and b.stored_at < cutoff)
        tell("deleting blobs", 0, len(blobs))
        blob_bytes = store.delete_blobs(blob.digest for blob in blobs)
    tell("compacting", 0, 0)
    store.compact()
    return replace(
        planned,
        runs=tuple(reversed(deleted)),
        kept=tuple(sorted(kept, key=lambda run: run.id)),
        records=records,
        record_bytes=record_bytes,
        blobs=blobs,
        artifacts=artifacts,
        freed=record_bytes + blob_bytes,
        leaving=frozenset(),
    )


def _silent(what: str, done: int, total: int) -> None:
    """Progress told to nobody."""


def _listed(store: ArtifactStore, tell: Progress) -> list[StoredBlob]:
    listed = []
    for blob in store.blobs():
        listed.append(blob)
        if len(listed) % 1000 == 0:
            tell("listing blobs", len(listed), 0)
    return listed


def _record_bytes(store: ArtifactStore, keys: list[str], tell: Progress) -> int:
    """The bytes the records at ``keys`` hold (the protocol lists keys without sizes)."""
    tell("measuring records", 0, len(keys))
    return sum(concurrently(store, lambda key: len(store.get_record(key) or b""), keys))


def _cutoff(references: References, grace: timedelta) -> tuple[datetime, str | None]:
    """Blobs stored at or after this may be in use: ``grace`` ago, or the start of the oldest
    live run when that is earlier (with its id), a second before it began: stores may keep
    whole seconds (the packed file, S3's Last-Modified)."""
    cutoff, held_by = utcnow() - grace, None
    for run, started in sorted(references.live.items()):
        started = started.replace(microsecond=0) - timedelta(seconds=1)
        if started < cutoff:
            cutoff, held_by = started, run
    return cutoff, held_by


def _marked(store: ArtifactStore, references: References, tell: Progress) -> set[str]:
    """Every blob the runs that stay use, and every code package's."""
    marked = set(references.digests)
    marked.update(_read(store, key, _package) for key in store.list_records("code/"))
    imports = [import_key(run, name) for run, names in references.imports.items() for name in names]
    outputs = []
    for run, recorded in references.unsettled.items():
        prefix = f"runs/{run}/outputs/"
        keys = store.list_records(prefix)
        outputs += [key for key in keys if _task_of(key, prefix) not in recorded]
    tell("reading records", 0, len(imports) + len(outputs))
    for found in concurrently(store, lambda key: _read(store, key, _imported), imports):
        marked.update(artifact.digest for artifact in found)
    for found in concurrently(store, lambda key: _read(store, key, _output), outputs):
        marked.update(artifact.digest for artifact in found)
    marked.discard("")
    return marked


def _task_of(key: str, prefix: str) -> tuple[str, int] | None:
    """The (step, index) of the output record at ``key`` (`output_key`), if it is one."""
    step, _, name = key.removeprefix(prefix).rpartition("/")
    index = name.removesuffix(".json")
    return (step, int(index)) if index.isdigit() and name.endswith(".json") else None


def _read(store: ArtifactStore, key: str, parse: Callable[[ArtifactStore, bytes], T]) -> T:
    """What the record at ``key`` names, as ``parse`` reads it (from nothing when it is gone);
    StoreError for one that cannot be read, so nothing it may name is swept."""
    try:
        return parse(store, store.get_record(key) or b"")
    except ValueError as error:  # pydantic's ValidationError and json's errors too
        raise StoreError(
            f"the record {key} cannot be read ({error}); no blob was swept, since it may name "
            "one: move the record aside (or delete its run), then run argosy gc again"
        ) from error


def _package(store: ArtifactStore, data: bytes) -> str:
    """The blob a code package's index names ("" for none)."""
    blob = json.loads(data or b"{}").get("blob", "")
    return blob if isinstance(blob, str) else ""


def _imported(store: ArtifactStore, data: bytes) -> list[ArtifactInfo]:
    """The artifact an import record names."""
    return [ArtifactInfo.model_validate_json(data)] if data else []


def _output(store: ArtifactStore, data: bytes) -> list[ArtifactInfo]:
    """The artifacts an output record names: the output, its named outputs, what its task read."""
    if not data:
        return []
    record = OutputRecord.model_validate_json(data)
    named = [record.artifact, *(read.artifact for read in record.inputs)]
    try:
        return named + list(named_artifacts(store, record.artifact).values())
    except (ArgosyError, ValueError):  # the manifest of named outputs is gone or unreadable
        return named


__all__ = [
    "GRACE",
    "Collection",
    "GcOptions",
    "Progress",
    "apply",
    "open_repository",
    "plan",
    "run_ids",
    "shares_its_store",
]
