"""What each metadata write puts in the tables, and the checks that keep writes idempotent.

The schema has two writers: `Repository` (SQLAlchemy, on SQLite or Postgres; a batch of task
records in `argosy.metadata.attempts`) and `EmbeddedSink` (the standard library's sqlite3, a
local run's fast path; `argosy.metadata.embedded`). Both build their rows here and decide here
what is fresh, what finishes and what contradicts the record, so they write the same rows; they
differ only in how they run the statements. No database is touched in this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from argosy.errors import Conflict, MetadataError, NotFound
from argosy.metadata.schemas import RunCreate, RunStatus, RunUpdate, TaskRecord, TaskStatus
from argosy.store.base import ArtifactInfo

TERMINAL_RUN = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})
RUN_IDENTITY = ("pipeline", "pipeline_version", "parameters", "backend", "resumed_from")
"""What makes a run that run: a second create_run must agree (fields it leaves None excepted,
as every pod of a resumed run records the run without knowing what it resumes)."""
RUN_CHECKED = ("nonce", *RUN_IDENTITY)
"""The columns of a recorded run that `check_recorded_run` compares."""
ATTEMPT_COLUMNS = (
    "status",
    "started_at",
    "finished_at",
    "output_digest",
    "cache_key",
    "cache_hit",
    "cloned_from",
    "error",
    "log_key",
    "gpu_fallback",
)
"""Columns an attempt records and its task repeats for the latest attempt."""
OUTCOME_COLUMNS = ("status", "output_digest", "cache_hit", "cloned_from")
"""The columns of a recorded attempt that a record of it again must agree with."""

Row = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive one is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- runs --------------------------------------------------------------------------------


class NewRun(NamedTuple):
    """The rows of a run recorded for the first time."""

    pipeline: Row
    version: Row
    run: Row
    tags: list[Row]


def new_run(run: RunCreate, now: datetime) -> NewRun:
    row = run.model_dump(exclude={"pipeline_ir", "tags"}, mode="json")
    version = {
        "digest": run.pipeline_version,
        "pipeline": run.pipeline,
        "ir": run.pipeline_ir,
        "created_at": now,
    }
    return NewRun(
        pipeline={"name": run.pipeline, "created_at": now},
        version=version,
        run=row | {"started_at": run.started_at or now, "created_at": now},
        tags=[{"run_id": run.id, "tag": tag, "created_at": now} for tag in run.tags],
    )


def check_recorded_run(run: RunCreate, recorded: Mapping[str, Any]) -> None:
    """Conflict unless ``recorded`` (the `RUN_CHECKED` columns of the run under ``run.id``)
    is ``run`` itself."""
    if run.nonce is not None and recorded["nonce"] != run.nonce:
        raise Conflict(
            f"run id {run.id} is taken by another run (fresh ids collided); draw a new id "
            "(argosy.run_ids.new_run_id) and create the run under it"
        )
    row = run.model_dump(include=set(RUN_IDENTITY), mode="json")
    clashes = [key for key in RUN_IDENTITY if row[key] is not None and recorded[key] != row[key]]
    if clashes:
        raise Conflict(
            f"run {run.id} is already recorded with another {', '.join(clashes)}; "
            "give the new run a new id"
        )


def run_end(run_id: str, before: Mapping[str, Any] | None, update: RunUpdate) -> Row:
    """The values `update_run` sets, given the run's status, finished_at and error before it
    (None: no such run)."""
    if before is None:
        raise NotFound(f"no run {run_id}; create it first")
    if before["status"] in TERMINAL_RUN and before["status"] != update.status:
        raise Conflict(
            f"run {run_id} already ended as {before['status']}; it cannot become {update.status}"
        )
    finished = before["finished_at"] or update.finished_at
    if finished is None and update.status in TERMINAL_RUN:
        finished = utcnow()
    error = update.error if update.error is not None else before["error"]
    return {"status": update.status.value, "finished_at": finished, "error": error}


# --- task attempts -----------------------------------------------------------------------


class Batch(NamedTuple):
    """A batch of task records, each attempt once."""

    attempts: dict[tuple[str, int], TaskRecord]

    @classmethod
    def of(cls, tasks: Sequence[TaskRecord]) -> Batch:
        return cls({(task.task_id, task.attempt): task for task in tasks})

    def run_ids(self) -> set[str]:
        return {task.run_id for task in self.attempts.values()}

    def task_ids(self) -> list[str]:
        """The batch's task ids, sorted (so concurrent batches lock rows alike)."""
        return sorted({key[0] for key in self.attempts})


def require_runs(run_ids: set[str], known: Iterable[str]) -> None:
    """NotFound unless every run of ``run_ids`` is among the ``known`` (recorded) ones."""
    missing = run_ids - set(known)
    if missing:
        raise NotFound(
            f"no run {', '.join(sorted(missing))}; record the run (create_run) before its tasks"
        )


class AttemptRows(NamedTuple):
    """What a batch writes: artifacts and task rows to insert or update, attempts to insert
    (fresh) and to finish (recorded as running), events, metrics and cache entries."""

    artifacts: list[Row]
    tasks: list[Row]
    fresh: list[Row]
    finished: list[Row]
    events: list[Row]
    metrics: list[Row]
    cached: list[Row]


def attempt_rows(
    batch: Batch, recorded: Mapping[tuple[str, int], Mapping[str, Any]], now: datetime
) -> AttemptRows | None:
    """The rows ``batch`` writes, given the `OUTCOME_COLUMNS` of its attempts already
    ``recorded``; None when it writes nothing. Conflict for an attempt recorded as ended with
    another outcome."""
    fresh: list[TaskRecord] = []
    finished: list[TaskRecord] = []
    for key, task in batch.attempts.items():
        before = recorded.get(key)
        if before is None:
            fresh.append(task)
        elif before["status"] == TaskStatus.RUNNING and task.status != TaskStatus.RUNNING:
            finished.append(task)
        elif before["status"] != TaskStatus.RUNNING and task.status != TaskStatus.RUNNING:
            _check_same_outcome(before, task)
    written = fresh + finished
    if not written:
        return None
    artifacts = {
        info.digest: info
        for task in written
        for info in [task.output, *task.named_outputs.values(), *(i.artifact for i in task.inputs)]
        if info is not None
    }
    return AttemptRows(
        artifacts=[artifact_row(artifacts[digest], now) for digest in sorted(artifacts)],
        tasks=_task_rows(written),
        fresh=[_attempt_row(task) for task in fresh],
        finished=[_attempt_row(task) for task in finished],
        events=[row for task in written for row in _events(task)],
        metrics=[
            {"task_id": t.task_id, "attempt": t.attempt, "run_id": t.run_id, "name": k, "value": v}
            for t in written
            for k, v in t.metrics.items()
        ],
        cached=[
            {
                "cache_key": t.cache_key,
                "task_id": t.task_id,
                "attempt": t.attempt,
                "created_at": now,
            }
            for t in written
            if t.cache_key and t.status == TaskStatus.SUCCEEDED
        ],
    )


def artifact_row(info: ArtifactInfo, now: datetime) -> Row:
    """The artifacts row of ``info``: the bytes it describes. Its name and metadata describe one
    output, and are recorded on that output's event (`_events`)."""
    return info.model_dump(exclude={"name", "metadata"}) | {"created_at": now}


def _task_rows(written: list[TaskRecord]) -> list[Row]:
    """A row per task: its latest attempt's columns, and how many attempts it has had."""
    latest: dict[str, TaskRecord] = {}
    for task in written:
        if task.task_id not in latest or latest[task.task_id].attempt <= task.attempt:
            latest[task.task_id] = task
    rows = []
    for task_id, task in latest.items():
        row = _attempt_row(task) | {"id": task_id, "attempts": task.attempt + 1}
        del row["task_id"]
        rows.append(row)
    return rows


def _check_same_outcome(before: Mapping[str, Any], task: TaskRecord) -> None:
    output = task.output.digest if task.output else None
    if tuple(before[column] for column in OUTCOME_COLUMNS) != (
        task.status,
        output,
        task.cache_hit,
        task.cloned_from,
    ):
        raise Conflict(
            f"task {task.task_id} attempt {task.attempt} is already recorded as "
            f"{before['status']} with output {before['output_digest']}; record a new attempt "
            "number instead"
        )


def _attempt_row(task: TaskRecord) -> Row:
    return {
        "task_id": task.task_id,
        "attempt": task.attempt,
        "run_id": task.run_id,
        "step": task.step,
        "index": task.index,
        "status": task.status.value,
        "started_at": task.started_at,
        "finished_at": task.finished_at,
        "output_digest": task.output.digest if task.output else None,
        "cache_key": task.cache_key,
        "cache_hit": task.cache_hit,
        "cloned_from": task.cloned_from,
        "error": task.error,
        "log_key": task.log_key,
        "gpu_fallback": task.gpu_fallback,
    }


def _events(task: TaskRecord) -> list[Row]:
    """The task's edges; each keeps the artifact's name and metadata as the task saw them."""
    common = {"task_id": task.task_id, "run_id": task.run_id}
    rows = [
        common
        | _described(i.artifact)
        | {"kind": "input", "position": n, "argument": i.argument, "item": i.item}
        for n, i in enumerate(task.inputs)
    ]
    if task.output is not None:
        rows.append(
            common
            | _described(task.output)
            | {"kind": "output", "position": 0, "argument": None, "item": None}
        )
    rows += [
        common
        | _described(info)
        | {"kind": "output", "position": n, "argument": name, "item": None}
        for n, (name, info) in enumerate(task.named_outputs.items(), start=1)
    ]
    return rows


def _described(info: ArtifactInfo) -> Row:
    return {
        "artifact_digest": info.digest,
        "artifact_name": info.name,
        "artifact_metadata": info.metadata or None,
    }


def refused_value(error: OverflowError | UnicodeEncodeError) -> MetadataError:
    """The error of a value no database can store, raised by the driver before SQL runs."""
    if isinstance(error, OverflowError):  # sqlite3 refuses integers beyond 64 bits
        return MetadataError(f"a number is out of the database's range: {error}")
    return MetadataError(  # a lone surrogate
        f"text that is not valid Unicode cannot be recorded ({error.reason} at "
        f"{error.object[error.start : error.end]!r}); pass plain text"
    )


__all__ = [
    "ATTEMPT_COLUMNS",
    "OUTCOME_COLUMNS",
    "RUN_CHECKED",
    "RUN_IDENTITY",
    "TERMINAL_RUN",
    "AttemptRows",
    "Batch",
    "NewRun",
    "artifact_row",
    "as_utc",
    "attempt_rows",
    "check_recorded_run",
    "new_run",
    "refused_value",
    "require_runs",
    "run_end",
    "utcnow",
]
