"""`argosy.Client`: past runs, their tasks, outputs, logs, metrics and lineage, from Python.

    from argosy import Client
    run = Client().latest_run("kmeans_sweep")
    run.output("fit")[2].load()          # a mapped step: one artifact per task, in map order
    run.output("pick_best").load()       # an unmapped step: one artifact
    run.output("train").load(allow_pickle=True)  # a fitted model: unpickled only when asked

The client reads through a `MetadataReader` (the embedded database, or a metadata service when
``ARGOSY_METADATA_URL`` is set) and loads values from the `ArtifactStore`; both are opened on
first use. `Run`, `Task` and `Artifact` are small frozen views over the recorded shapes that
fetch more only when asked. Run ids and artifact digests may be given as unique prefixes, as in
git.

Like Metaflow's namespaces, a client lists the runs of one owner (`argosy.ownership`), by
default the current user's: ``Client(owner="production")`` lists production runs,
``Client(owner=None)`` every owner's; a run asked for by id is found whoever owns it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from argosy import ir
from argosy.config import Settings
from argosy.errors import ArgosyError, NotFound, TagError
from argosy.metadata.reader import Direction, MetadataReader
from argosy.metadata.schemas import (
    ArtifactPublic,
    LineageGraph,
    MetricPublic,
    RunPublic,
    RunStatus,
    RunTagsChange,
    TaskPublic,
)
from argosy.outputs import map_width
from argosy.ownership import (
    CURRENT_USER,
    CurrentUser,
    check_owner,
    check_project,
    check_tags,
    user_owner,
)
from argosy.store.addresses import log_key
from argosy.store.base import ArtifactInfo, ArtifactStore

PAGE = 200
"""Runs asked for per page when scanning."""
MIN_PREFIX = 4
"""Shortest id prefix accepted, so a typo does not match by accident."""

DIGEST_LENGTH = 64
"""Hex characters of a sha256: a digest this long is never a prefix."""

T = TypeVar("T")


class _Field(Generic[T]):
    """A read-only attribute of a view, taken from the model it wraps (``view.<source>``)."""

    def __init__(self, source: str = "record") -> None:
        self.source = source

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, view: Any, owner: type | None = None) -> T:
        return getattr(getattr(view, self.source), self.name)


class Client:
    """Reads what Argosy recorded. ``Client()`` uses the settings of the environment.

    `runs` and `latest_run` list the runs of ``owner``: ``user:<name>``, ``production``, None
    for every owner's, by default the current user's.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        reader: MetadataReader | None = None,
        store: ArtifactStore | None = None,
        owner: str | CurrentUser | None = CURRENT_USER,
    ) -> None:
        self._settings = settings
        self._reader = reader
        self._store = store
        self._owner = (
            owner if owner is None or isinstance(owner, CurrentUser) else check_owner(owner)
        )

    @property
    def owner(self) -> str | None:
        """Whose runs `runs` and `latest_run` list (None: everyone's)."""
        if isinstance(self._owner, CurrentUser):
            self._owner = user_owner(self.settings.user)
        return self._owner

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings()
        return self._settings

    @property
    def reader(self) -> MetadataReader:
        if self._reader is None:
            from argosy.metadata import open_reader

            self._reader = open_reader(self.settings)
        return self._reader

    @property
    def store(self) -> ArtifactStore:
        if self._store is None:
            from argosy.store import open_store

            self._store = open_store(self.settings)
        return self._store

    def runs(
        self,
        pipeline: str | None = None,
        status: RunStatus | str | None = None,
        limit: int | None = 50,
        *,
        project: str | None = None,
        tags: Iterable[str] = (),
    ) -> list[Run]:
        """The client owner's runs, newest first: of one pipeline, in one status, of one
        project, holding every one of ``tags``, when given; all of them when limit=None."""
        scope = self._scope(project, tags)
        return [Run(self, record) for record in self._run_records(pipeline, status, limit, **scope)]

    def run(self, run_id: str) -> Run:
        """The run with this id, or the one run whose id starts with it (whoever owns it);
        NotFound otherwise."""
        return Run(self, self._get_run(run_id))

    def latest_run(
        self,
        pipeline: str,
        status: RunStatus | str | None = None,
        *,
        project: str | None = None,
        tags: Iterable[str] = (),
    ) -> Run:
        """The client owner's newest run of ``pipeline`` (in ``status``, of ``project``, with
        every one of ``tags``, when given)."""
        scope = self._scope(project, tags)
        records = self._run_records(pipeline, status, 1, **scope)
        if not records:
            which = f"{pipeline} in status {RunStatus(status).value}" if status else pipeline
            shown = {**scope, "owner": scope["owner"] or "any", "tags": ", ".join(scope["tags"])}
            among = ", ".join(f"{key} {value}" for key, value in shown.items() if value)
            raise NotFound(
                f"no runs of {which} ({among}); start one with `argosy run PIPELINE`, or read "
                "every owner's runs with Client(owner=None)"
            )
        return Run(self, records[0])

    def _scope(self, project: str | None, tags: Iterable[str]) -> dict[str, Any]:
        """The project, owner and tags filters of a listing, checked."""
        return {
            "project": None if project is None else check_project(project),
            "owner": self.owner,
            "tags": check_tags(tags),
        }

    def artifact(self, digest: str) -> Artifact:
        """The artifact with this digest, or the one whose digest starts with it."""
        return Artifact(self, self._get_artifact(digest))

    def _run_records(
        self,
        pipeline: str | None,
        status: RunStatus | str | None,
        limit: int | None,
        **scope: Any,
    ) -> list[RunPublic]:
        """Recorded runs, newest first, in ``scope`` (project, owner, tags: every owner's when
        there is none)."""
        wanted = None if status is None else RunStatus(status)
        records: list[RunPublic] = []
        cursor: str | None = None
        while limit is None or len(records) < limit:
            size = PAGE if limit is None else min(PAGE, limit - len(records))
            page = self.reader.list_runs(
                pipeline=pipeline, status=wanted, limit=size, cursor=cursor, **scope
            )
            records.extend(page.data)
            cursor = page.next_cursor
            if cursor is None or not page.data:
                break
        return records

    def _get_run(self, run_id: str) -> RunPublic:
        try:
            return self.reader.get_run(run_id)
        except NotFound:
            matches = _prefixed(run_id, (run.id for run in self._run_records(None, None, None)))
            return self.reader.get_run(_only(matches, run_id, "run"))

    def _get_artifact(self, digest: str) -> ArtifactPublic:
        try:
            return self.reader.get_artifact(digest)
        except NotFound:
            if len(digest) >= DIGEST_LENGTH:
                raise
            matches = _prefixed(digest, self._recorded_digests())
            return self.reader.get_artifact(_only(matches, digest, "artifact"))

    def _recorded_digests(self) -> set[str]:
        """Every digest a task wrote or read (a full scan: prefixes are for people, not scripts)."""
        digests: set[str] = set()
        for run in self._run_records(None, None, None):
            for task in self.reader.list_tasks(run.id):
                if task.output is not None:
                    digests.add(task.output.digest)
                digests.update(read.artifact.digest for read in task.inputs)
        return digests


def _prefixed(prefix: str, ids: Iterable[str]) -> list[str]:
    if len(prefix) < MIN_PREFIX:
        return []
    return sorted({identifier for identifier in ids if identifier.startswith(prefix)})


def _only(matches: list[str], prefix: str, what: str) -> str:
    if not matches:
        hint = "list runs with `argosy runs`" if what == "run" else "see `argosy show RUN_ID`"
        raise NotFound(f"no {what} {prefix!r}; {hint}")
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise NotFound(f"{what} prefix {prefix!r} is ambiguous ({shown}); give more characters")
    return matches[0]


@dataclass(frozen=True, repr=False)
class Artifact:
    """A stored value: its identity and description now, its bytes on `load`."""

    client: Client = field(compare=False)
    info: ArtifactInfo

    digest = _Field[str]("info")
    format = _Field[str]("info")
    type = _Field[str]("info")
    size = _Field[int]("info")
    length = _Field[int | None]("info")
    name = _Field[str | None]("info")
    """The file or folder name of a path artifact (format ``file`` or ``dir``)."""

    @property
    def metadata(self) -> dict[str, Any]:
        """What the step said of this output (``argosy.Artifact(value, metadata=...)``)."""
        return copy.deepcopy(self.info.metadata)

    def __repr__(self) -> str:
        named = f" {self.name!r}" if self.name is not None else ""
        return f"<Artifact {self.digest[:12]} {self.format} {self.type}{named} {self.size} B>"

    def load(self, *, mmap: bool = True, allow_pickle: bool = False) -> Any:
        """The value, deserialized (numpy arrays memory-mapped unless ``mmap=False``; a file or
        folder as a local `Path`, read-only by convention).

        A value stored with pickle (format ``pickle``) raises `PickleNotAllowed` unless
        ``allow_pickle=True``: unpickling runs code of whoever wrote it, so pass it only for
        runs you trust. Bytes that do not match the digest raise `ArtifactCorrupted`.
        """
        from argosy.store import load

        return load(self.client.store, self.info, mmap=mmap, allow_pickle=allow_pickle)

    @cached_property
    def fields(self) -> dict[str, Artifact]:
        """The named outputs of a step that returned several values (a NamedTuple or a
        dataclass), an artifact each, by name; empty for a single value."""
        from argosy.store.fields import named_artifacts

        infos = named_artifacts(self.client.store, self.info)
        return {name: Artifact(self.client, info) for name, info in infos.items()}

    def lineage(self, direction: Direction = "upstream", depth: int | None = None) -> LineageGraph:
        """Tasks and artifacts this one came from (upstream) or fed (downstream)."""
        return self.client.reader.lineage(self.digest, direction=direction, depth=depth)

    @cached_property
    def record(self) -> ArtifactPublic:
        """The metadata record: the tasks that produced and consumed it."""
        if isinstance(self.info, ArtifactPublic):
            return self.info
        return self.client.reader.get_artifact(self.digest)


@dataclass(frozen=True, repr=False)
class Task:
    """One task of a run (one step, one index) as its latest attempt left it."""

    client: Client = field(compare=False)
    record: TaskPublic

    id = _Field[str]()
    run_id = _Field[str]()
    step = _Field[str]()
    index = _Field[int]()
    attempt = _Field[int]()

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.status}>"

    @property
    def status(self) -> str:
        return self.record.status.value

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.record.metrics)

    @property
    def duration(self) -> float | None:
        """Seconds the latest attempt took, when it finished."""
        return _seconds(self.record.started_at, self.record.finished_at)

    @property
    def output(self) -> Artifact | None:
        output = self.record.output
        return None if output is None else Artifact(self.client, output)

    def logs(self, attempt: int | None = None) -> str:
        """The captured stdout and stderr of the latest attempt, or of ``attempt``.

        A task cloned by a resume did not run: its log is the one of the task it was cloned from.
        """
        record = self.record
        if record.cloned_from is not None and record.log_key is None:
            origin_run, step, index = record.cloned_from.rsplit(".", 2)
            return self.client.run(origin_run).logs(step, int(index), attempt)
        chosen = record.attempt if attempt is None else attempt
        key = record.log_key if attempt is None and record.log_key else None
        key = key or log_key(record.run_id, record.step, record.index, chosen)
        data = self.client.store.get_record(key)
        if data is None:
            why = (
                "it was a cache hit, so nothing ran"
                if record.cache_hit
                else "it may not have run yet, or its log is still with its pod on the cluster"
            )
            raise NotFound(f"no log recorded for task {self.id}, attempt {chosen}: {why}")
        return data.decode(errors="replace")


@dataclass(frozen=True, repr=False)
class Run:
    """A recorded run: its parameters and status now, tasks and outputs when asked."""

    client: Client = field(compare=False)
    record: RunPublic

    id = _Field[str]()
    pipeline = _Field[str]()
    project = _Field[str | None]()
    owner = _Field[str | None]()
    """``user:<name>`` or ``production`` (None for a run recorded before runs had owners)."""

    def __repr__(self) -> str:
        return f"<Run {self.id} of {self.pipeline}: {self.status}>"

    @property
    def tags(self) -> tuple[str, ...]:
        """The run's tags when this view read it, in alphabetical order."""
        return tuple(self.record.tags)

    def add_tags(self, *tags: str) -> Run:
        """Tag the run (a tag it has already stays once); the run as recorded now. This view
        keeps what it read: ``run = run.add_tags("best")``."""
        return self._change_tags(add=check_tags(tags))

    def remove_tags(self, *tags: str) -> Run:
        """Remove tags from the run (one it has not changes nothing); the run as recorded now."""
        return self._change_tags(remove=check_tags(tags))

    def _change_tags(self, **change: tuple[str, ...]) -> Run:
        if not any(change.values()):
            raise TagError("name at least one tag, e.g. run.add_tags('baseline')")
        update = RunTagsChange.model_validate(change)
        return Run(self.client, self.client.reader.update_tags(self.id, update))

    @property
    def status(self) -> str:
        return self.record.status.value

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.record.parameters)

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, when the run finished."""
        return _seconds(self.record.started_at, self.record.finished_at)

    @cached_property
    def pipeline_ir(self) -> ir.Pipeline:
        """The pipeline as it was when this run started (its recorded version)."""
        return ir.Pipeline.model_validate(
            self.client.reader.get_pipeline_version(self.record.pipeline_version)
        )

    @cached_property
    def _tasks(self) -> list[Task]:
        return [Task(self.client, record) for record in self.client.reader.list_tasks(self.id)]

    def tasks(self, step: str | None = None) -> list[Task]:
        """The run's tasks, by step then index; only those of ``step`` when given."""
        if step is not None:
            self.pipeline_ir.step(step)
        return [task for task in self._tasks if step is None or task.step == step]

    def output(self, step: str, field: str | None = None) -> Artifact | list[Artifact]:
        """The output of an unmapped step, or the outputs of a mapped one in map order; only
        its named output ``field`` when given (``run.output("train", "model")``)."""
        outputs = self._outputs(step)
        if field is None:
            return outputs
        picked = [_field_of(output, field, step) for output in _listed(outputs)]
        return picked if isinstance(outputs, list) else picked[0]

    def _outputs(self, step: str) -> Artifact | list[Artifact]:
        tasks = sorted(self.tasks(step), key=lambda task: task.index)
        mapped = self.pipeline_ir.step(step).mapped is not None
        if mapped and not tasks and self._mapped_over_nothing(step):
            return []
        missing = [task for task in tasks if task.output is None]
        if missing or not tasks:
            state = ", ".join(f"{task.id} {task.status}" for task in missing[:3]) or "no tasks yet"
            raise NotFound(
                f"step {step!r} of run {self.id} has no output ({state}); "
                f"see `argosy show {self.id}`"
            )
        outputs = [task.output for task in tasks if task.output is not None]
        return outputs if mapped else outputs[0]

    def _mapped_over_nothing(self, step: str) -> bool:
        """Whether the mapped ``step`` has no tasks because what it maps over is empty."""
        try:
            width = map_width(
                self.pipeline_ir,
                step,
                run_id=self.id,
                params=self.record.parameters,
                store=self.client.store,
            )
        except ArgosyError:  # what it maps over is not known yet (its upstream has not run)
            return False
        return width == 0

    def metrics(self) -> list[MetricPublic]:
        """Every metric the run's tasks reported."""
        return self.client.reader.metrics(self.id)

    def logs(self, step: str, index: int = 0, attempt: int | None = None) -> str:
        """The captured output of a task (its latest attempt unless ``attempt`` is given)."""
        for task in self.tasks(step):
            if task.index == index:
                return task.logs(attempt)
        raise NotFound(f"run {self.id} has no task {step}[{index}]; see `argosy show {self.id}`")


def _listed(outputs: Artifact | list[Artifact]) -> list[Artifact]:
    return outputs if isinstance(outputs, list) else [outputs]


def _field_of(output: Artifact, field: str, step: str) -> Artifact:
    """Named output ``field`` of ``output``; NotFound naming the outputs there are."""
    if field not in output.fields:
        there = ", ".join(output.fields) or "none: it returned one value"
        raise NotFound(
            f"step {step!r} has no output named {field!r}; its named outputs are {there}"
        )
    return output.fields[field]


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


__all__ = ["Artifact", "Client", "Run", "Task"]
