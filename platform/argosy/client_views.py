"""The views `argosy.Client` returns: `Run`, `Task` and `Artifact`, small frozen wrappers over
the recorded shapes that fetch more (tasks, logs, bytes, lineage, named outputs) only when
asked, through the client that made them."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from argosy.errors import ArgosyError, NotFound, TagError
from argosy.metadata.reader import Direction
from argosy.metadata.run_views import StepSummary
from argosy.metadata.schemas import (
    ArtifactPublic,
    LineageGraph,
    MetricPublic,
    RunPublic,
    RunTagsChange,
    TaskPublic,
    TaskStatus,
)
from argosy.ownership import check_tags
from argosy.store.addresses import log_key
from argosy.store.base import ArtifactInfo

if TYPE_CHECKING:
    from argosy import ir
    from argosy.client import Client

T = TypeVar("T")


class _Field(Generic[T]):
    """A read-only attribute of a view, taken from the model it wraps (``view.<source>``)."""

    def __init__(self, source: str = "record") -> None:
        self.source = source

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, view: Any, owner: type | None = None) -> T:
        return getattr(getattr(view, self.source), self.name)


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
        A task that ran and printed nothing has an empty log.
        """
        record = self.record
        if record.cloned_from is not None and record.log_key is None:
            origin_run, step, index = record.cloned_from.rsplit(".", 2)
            return self.client.run(origin_run).logs(step, int(index), attempt)
        chosen = record.attempt if attempt is None else attempt
        key = record.log_key if attempt is None and record.log_key else None
        key = key or log_key(record.run_id, record.step, record.index, chosen)
        data = self.client.store.get_record(key)
        if data is None and chosen == record.attempt and _ran_silently(record):
            return ""
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
        from argosy import ir  # building the IR's models took a tenth of `argosy runs`' start

        return ir.Pipeline.model_validate(
            self.client.reader.get_pipeline_version(self.record.pipeline_version)
        )

    def steps(self) -> list[StepSummary]:
        """What each step's tasks add up to (counts by status, retries, cache hits, clones,
        time, outputs), one per step of the pipeline in order; computed by the metadata
        store, so it costs the same for 10 tasks as for 100,000."""
        return self.client.reader.run_steps(self.id)

    def tasks(
        self,
        step: str | None = None,
        *,
        statuses: Iterable[TaskStatus | str] = (),
        limit: int | None = None,
        offset: int = 0,
        inputs: bool = True,
    ) -> list[Task]:
        """The run's tasks in pipeline order (step by step, each by index): only those of
        ``step`` and in one of ``statuses`` when given, ``limit`` of them (None: all) from the
        ``offset``-th on; ``inputs=False`` leaves out what each read. Each call reads the
        metadata store: read a large run a step or a page at a time
        (``run.tasks("fit", statuses=["failed"], limit=50)``)."""
        if step is not None:
            self.pipeline_ir.step(step)
        wanted = TaskStatus.parse(statuses)
        records = self.client.reader.list_tasks(
            self.id, step=step, statuses=wanted, limit=limit, offset=offset, inputs=inputs
        )
        return [Task(self.client, record) for record in records]

    def output(self, step: str, field: str | None = None) -> Artifact | list[Artifact]:
        """The output of an unmapped step, or the outputs of a mapped one in map order; only
        its named output ``field`` when given (``run.output("train", "model")``)."""
        outputs = self._outputs(step)
        if field is None:
            return outputs
        picked = [_field_of(output, field, step) for output in _listed(outputs)]
        return picked if isinstance(outputs, list) else picked[0]

    def _outputs(self, step: str) -> Artifact | list[Artifact]:
        tasks = self.tasks(step)
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
        from argosy.outputs import map_width  # with the IR: not imported to list runs

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

    def task(self, step: str, index: int = 0) -> Task:
        """Task ``step[index]``; NotFound if none is recorded. Reads one task when the step's
        tasks are recorded from index 0 on without gaps (the usual case), else the step."""
        page = self.tasks(step, limit=1, offset=index)
        if page and page[0].index == index:
            return page[0]
        for task in self.tasks(step):
            if task.index == index:
                return task
        raise NotFound(f"run {self.id} has no task {step}[{index}]; see `argosy show {self.id}`")

    def logs(self, step: str, index: int = 0, attempt: int | None = None) -> str:
        """The captured output of a task (its latest attempt unless ``attempt`` is given)."""
        return self.task(step, index).logs(attempt)


def _ran_silently(record: TaskPublic) -> bool:
    """Whether the task's latest attempt ran to its end and printed nothing (the runtime names
    a log only when there was output)."""
    ended = record.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CAUGHT)
    return ended and record.finished_at is not None and not record.cache_hit and not record.log_key


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


__all__ = ["Artifact", "Run", "Task"]
