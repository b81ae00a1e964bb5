"""The embedded metadata store: every query Argosy makes, on SQLite or Postgres.

`Repository` implements `MetadataSink` (what the runtime writes) and `MetadataReader` (what the
CLI, the SDK and the service read); the FastAPI service is a thin layer over it. Writes are
idempotent: creating a run twice, recording the same task attempt twice or registering the
same artifact twice changes nothing; a write that contradicts what is recorded raises
`Conflict`. `record_tasks` writes a whole batch in one transaction with a handful of
multi-row statements, whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, select, update
from sqlalchemy.exc import (
    DataError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from argosy.errors import Conflict, MetadataError, MetadataUnavailable, NotFound
from argosy.metadata import database, lineage, queries
from argosy.metadata.models import (
    SCHEMA_REVISION,
    ApiTokenRow,
    ArtifactRow,
    AttemptRow,
    CacheEntryRow,
    EventRow,
    MetricRow,
    PipelineRow,
    PipelineVersionRow,
    RunRow,
    TaskRow,
    utcnow,
)
from argosy.metadata.reader import Direction
from argosy.metadata.schemas import (
    ArtifactPublic,
    LineageGraph,
    MetricPublic,
    PipelinePublic,
    PipelineVersionPublic,
    RunCreate,
    RunDiff,
    RunPublic,
    RunsPublic,
    RunStatus,
    RunUpdate,
    TaskPublic,
    TaskRecord,
    TaskStatus,
)
from argosy.metadata.tokens import Scope, hash_token
from argosy.store.base import ArtifactInfo

_CHUNK = 500
"""Keys per ``IN (...)`` list, well under SQLite's bound-parameter limit."""
_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
_TERMINAL_RUN = {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}
_RUN_IDENTITY = ("pipeline", "pipeline_version", "parameters", "backend", "resumed_from")
"""What makes a run that run: a second create_run must agree (fields it leaves None excepted,
as every pod of a resumed run records the run without knowing what it resumes)."""
_FINISH_ATTEMPT = (
    update(AttemptRow)
    .where(
        AttemptRow.task_id == bindparam("key_task_id"),
        AttemptRow.attempt == bindparam("key_attempt"),
    )
    .values(
        {column: bindparam(column) for column in queries.ATTEMPT_COLUMNS if column != "started_at"}
        | {"started_at": func.coalesce(bindparam("started_at"), AttemptRow.started_at)}
    )
)
"""Record the end of an attempt that was recorded as running."""


class Repository:
    """Metadata on one database: a `MetadataSink` and a `MetadataReader`."""

    def __init__(self, database_url: str | Engine, *, migrate: bool = True) -> None:
        self.engine = (
            database.connect(database_url) if isinstance(database_url, str) else database_url
        )
        if migrate:
            database.migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with (
            self._errors(),
            self.engine.connect().execution_options(**database.WRITE) as connection,
            connection.begin(),
        ):
            yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._errors(), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError as error:
            raise Conflict(f"the write contradicts recorded metadata: {error.orig}") from error
        except _UNAVAILABLE as error:
            raise MetadataUnavailable(
                f"the metadata database failed ({type(error).__name__}: {error}); check that "
                f"{self.engine.url.render_as_string()} is reachable and migrated"
            ) from error
        except DataError as error:
            raise MetadataError(f"the database refused the values given: {error.orig}") from error
        except OverflowError as error:  # sqlite3 refuses integers beyond 64 bits before SQL runs
            raise MetadataError(f"a number is out of the database's range: {error}") from error

    def _insert(self, model: Any) -> Any:
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(model)

    def _insert_ignore(self, connection: Connection, model: Any, rows: list[dict]) -> None:
        if rows:
            connection.execute(self._insert(model).on_conflict_do_nothing(), rows)

    # --- sink ----------------------------------------------------------------------------

    def check(self) -> None:
        with self._read() as connection:
            revision = database.current_revision(connection)
        if revision != SCHEMA_REVISION:
            raise MetadataUnavailable(
                f"the metadata database is at schema revision {revision}, this Argosy needs "
                f"{SCHEMA_REVISION}; run `argosy server --migrate` (or open it embedded once)"
            )

    def create_run(self, run: RunCreate) -> None:
        with self._write() as connection:
            self._insert_ignore(connection, PipelineRow, [{"name": run.pipeline}])
            version = {
                "digest": run.pipeline_version,
                "pipeline": run.pipeline,
                "ir": run.pipeline_ir,
            }
            self._insert_ignore(connection, PipelineVersionRow, [version])
            if run.pipeline_ir is not None:
                connection.execute(
                    update(PipelineVersionRow)
                    .where(PipelineVersionRow.digest == run.pipeline_version)
                    .where(PipelineVersionRow.ir.is_(None))
                    .values(ir=run.pipeline_ir)
                )
            row = run.model_dump(exclude={"pipeline_ir"}, mode="json")
            row |= {"started_at": run.started_at or utcnow(), "created_at": utcnow()}
            self._insert_ignore(connection, RunRow, [row])
            recorded = connection.execute(select(RunRow).where(RunRow.id == run.id)).one()
        clashes = [
            key
            for key in _RUN_IDENTITY
            if row[key] is not None and getattr(recorded, key) != row[key]
        ]
        if clashes:
            raise Conflict(
                f"run {run.id} is already recorded with another {', '.join(clashes)}; "
                "give the new run a new id"
            )

    def update_run(self, run_id: str, update_: RunUpdate) -> None:
        with self._write() as connection:
            before = connection.execute(
                select(RunRow.status, RunRow.finished_at, RunRow.error).where(RunRow.id == run_id)
            ).one_or_none()
            if before is None:
                raise NotFound(f"no run {run_id}; create it first")
            if before.status in _TERMINAL_RUN and before.status != update_.status:
                raise Conflict(
                    f"run {run_id} already ended as {before.status}; "
                    f"it cannot become {update_.status}"
                )
            finished = before.finished_at or update_.finished_at
            if finished is None and update_.status in _TERMINAL_RUN:
                finished = utcnow()
            connection.execute(
                update(RunRow)
                .where(RunRow.id == run_id)
                .values(
                    status=update_.status,
                    finished_at=finished,
                    error=update_.error if update_.error is not None else before.error,
                )
            )

    def record_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        batch = {(task.task_id, task.attempt): task for task in tasks}
        if not batch:
            return
        with self._write() as connection:
            self._require_runs(connection, {task.run_id for task in batch.values()})
            recorded = self._recorded_attempts(connection, {key[0] for key in batch})
            fresh: list[TaskRecord] = []
            finished: list[TaskRecord] = []
            for key, task in batch.items():
                before = recorded.get(key)
                if before is None:
                    fresh.append(task)
                elif before.status == TaskStatus.RUNNING and task.status != TaskStatus.RUNNING:
                    finished.append(task)
                elif before.status != TaskStatus.RUNNING and task.status != TaskStatus.RUNNING:
                    _check_same_outcome(before, task)
            self._write_attempts(connection, fresh, finished)

    def _require_runs(self, connection: Connection, run_ids: set[str]) -> None:
        known = set(connection.execute(select(RunRow.id).where(RunRow.id.in_(run_ids))).scalars())
        missing = run_ids - known
        if missing:
            raise NotFound(
                f"no run {', '.join(sorted(missing))}; record the run (create_run) before its tasks"
            )

    def _recorded_attempts(self, connection: Connection, task_ids: set[str]) -> dict:
        recorded: dict[tuple[str, int], Any] = {}
        ordered = sorted(task_ids)
        for start in range(0, len(ordered), _CHUNK):
            query = select(
                AttemptRow.task_id,
                AttemptRow.attempt,
                AttemptRow.status,
                AttemptRow.output_digest,
                AttemptRow.cache_hit,
                AttemptRow.cloned_from,
            ).where(AttemptRow.task_id.in_(ordered[start : start + _CHUNK]))
            for row in connection.execute(query):
                recorded[row.task_id, row.attempt] = row
        return recorded

    def _write_attempts(
        self, connection: Connection, fresh: list[TaskRecord], finished: list[TaskRecord]
    ) -> None:
        written = fresh + finished
        if not written:
            return
        artifacts = {
            info.digest: info
            for task in written
            for info in [task.output, *(i.artifact for i in task.inputs)]
            if info is not None
        }
        self._insert_ignore(
            connection, ArtifactRow, [_artifact_row(info) for info in artifacts.values()]
        )
        self._upsert_tasks(connection, written)
        self._insert_ignore(connection, AttemptRow, [_attempt_row(task) for task in fresh])
        if finished:
            connection.execute(
                _FINISH_ATTEMPT,
                [
                    _attempt_row(task) | {"key_task_id": task.task_id, "key_attempt": task.attempt}
                    for task in finished
                ],
            )
        self._insert_ignore(connection, EventRow, [row for t in written for row in _events(t)])
        metrics = [
            {"task_id": t.task_id, "attempt": t.attempt, "run_id": t.run_id, "name": k, "value": v}
            for t in written
            for k, v in t.metrics.items()
        ]
        self._insert_ignore(connection, MetricRow, metrics)
        cached = [
            {"cache_key": t.cache_key, "task_id": t.task_id, "attempt": t.attempt}
            for t in written
            if t.cache_key and t.status == TaskStatus.SUCCEEDED
        ]
        if cached:
            statement = self._insert(CacheEntryRow)
            statement = statement.on_conflict_do_update(
                index_elements=[CacheEntryRow.cache_key],
                set_={
                    "task_id": statement.excluded.task_id,
                    "attempt": statement.excluded.attempt,
                    "created_at": statement.excluded.created_at,
                },
            )
            connection.execute(statement, cached)

    def _upsert_tasks(self, connection: Connection, written: list[TaskRecord]) -> None:
        latest: dict[str, TaskRecord] = {}
        for task in written:
            if task.task_id not in latest or latest[task.task_id].attempt <= task.attempt:
                latest[task.task_id] = task
        statement = self._insert(TaskRow)
        new = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[TaskRow.id],
            set_={column: getattr(new, column) for column in queries.ATTEMPT_COLUMNS}
            | {
                "attempt": new.attempt,
                "attempts": func.max(TaskRow.attempts, new.attempts)
                if self.engine.dialect.name == "sqlite"
                else func.greatest(TaskRow.attempts, new.attempts),
                "started_at": func.coalesce(new.started_at, TaskRow.started_at),
            },
            where=TaskRow.attempt <= new.attempt,
        )
        rows = [
            _attempt_row(task) | {"id": task_id, "attempts": task.attempt + 1}
            for task_id, task in latest.items()
        ]
        for row in rows:
            del row["task_id"]
        connection.execute(statement, rows)

    def find_cached(self, cache_key: str) -> TaskRecord | None:
        with self._read() as connection:
            entry = connection.execute(
                select(CacheEntryRow.task_id, CacheEntryRow.attempt).where(
                    CacheEntryRow.cache_key == cache_key
                )
            ).one_or_none()
            if entry is None:
                return None
            records = queries.attempt_records(
                connection,
                and_(AttemptRow.task_id == entry.task_id, AttemptRow.attempt == entry.attempt),
            )
        return records[0] if records else None

    def list_attempts(self, run_id: str, step: str, index: int = 0) -> list[TaskRecord]:
        """Every recorded attempt of one task, first to last; NotFound if there is none."""
        with self._read() as connection:
            records = queries.attempt_records(
                connection,
                and_(
                    AttemptRow.run_id == run_id,
                    AttemptRow.step == step,
                    AttemptRow.index == index,
                ),
            )
        if not records:
            raise NotFound(f"no task {step}[{index}] in run {run_id}")
        return records

    # --- artifacts, pipelines -----------------------------------------------------------

    def put_artifacts(self, artifacts: Sequence[ArtifactInfo], uri: str | None = None) -> None:
        """Register artifacts; registering a known digest again is a no-op."""
        rows = [_artifact_row(info) | {"uri": uri} for info in artifacts]
        with self._write() as connection:
            self._insert_ignore(connection, ArtifactRow, rows)

    # --- reader -------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunPublic:
        with self._read() as connection:
            return queries.get_run(connection, run_id)

    def list_runs(
        self,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunsPublic:
        with self._read() as connection:
            return queries.list_runs(connection, pipeline, status, limit, cursor)

    def list_tasks(self, run_id: str) -> list[TaskPublic]:
        with self._read() as connection:
            return queries.list_tasks(connection, run_id)

    def metrics(self, run_id: str) -> list[MetricPublic]:
        with self._read() as connection:
            return queries.metrics(connection, run_id)

    def get_artifact(self, digest: str) -> ArtifactPublic:
        with self._read() as connection:
            return queries.get_artifact(connection, digest)

    def get_pipeline_version(self, digest: str) -> dict:
        with self._read() as connection:
            return queries.get_pipeline_version(connection, digest)

    def list_pipelines(self) -> list[PipelinePublic]:
        with self._read() as connection:
            return queries.list_pipelines(connection)

    def list_pipeline_versions(self, pipeline: str) -> list[PipelineVersionPublic]:
        with self._read() as connection:
            return queries.list_pipeline_versions(connection, pipeline)

    def diff_runs(self, a: str, b: str) -> RunDiff:
        runs = (self.get_run(a), self.get_run(b))
        outputs = [
            {
                f"{t.step}[{t.index}]": t.output.digest if t.output else None
                for t in self.list_tasks(r.id)
            }
            for r in runs
        ]
        metrics = [
            {f"{m.step}[{m.index}].{m.name}": m.value for m in self.metrics(r.id)} for r in runs
        ]
        return RunDiff(
            a=a,
            b=b,
            pipelines=(runs[0].pipeline, runs[1].pipeline),
            pipeline_versions=(runs[0].pipeline_version, runs[1].pipeline_version),
            parameters=queries.changes(runs[0].parameters, runs[1].parameters),
            outputs=queries.changes(*outputs),
            metrics=queries.changes(*metrics),
        )

    # --- lineage ------------------------------------------------------------------------

    def lineage(
        self, digest: str, direction: Direction = "upstream", depth: int | None = None
    ) -> LineageGraph:
        with self._read() as connection:
            return lineage.lineage(connection, digest, direction, depth)

    def run_graph(self, run_id: str) -> LineageGraph:
        with self._read() as connection:
            queries.require_run(connection, run_id)
            return lineage.run_graph(connection, run_id)

    # --- tokens -------------------------------------------------------------------------

    def add_token(self, token: str, scope: Scope, name: str) -> None:
        """Accept ``token`` with ``scope`` from now on (adding it again changes nothing)."""
        row = {"token_hash": hash_token(token), "scope": scope, "name": name}
        with self._write() as connection:
            self._insert_ignore(connection, ApiTokenRow, [row])

    def token_scope(self, token: str) -> str | None:
        """The scope of ``token``, or None if it was never added."""
        with self._read() as connection:
            return connection.execute(
                select(ApiTokenRow.scope).where(ApiTokenRow.token_hash == hash_token(token))
            ).scalar()


def _check_same_outcome(before: Any, task: TaskRecord) -> None:
    output = task.output.digest if task.output else None
    if (before.status, before.output_digest, before.cache_hit, before.cloned_from) != (
        task.status,
        output,
        task.cache_hit,
        task.cloned_from,
    ):
        raise Conflict(
            f"task {task.task_id} attempt {task.attempt} is already recorded as {before.status} "
            f"with output {before.output_digest}; record a new attempt number instead"
        )


def _artifact_row(info: ArtifactInfo) -> dict[str, Any]:
    return info.model_dump() | {"created_at": utcnow()}


def _attempt_row(task: TaskRecord) -> dict[str, Any]:
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


def _events(task: TaskRecord) -> list[dict[str, Any]]:
    common = {"task_id": task.task_id, "run_id": task.run_id}
    rows = [
        common
        | {
            "kind": "input",
            "position": n,
            "artifact_digest": i.artifact.digest,
            "argument": i.argument,
            "item": i.item,
        }
        for n, i in enumerate(task.inputs)
    ]
    if task.output is not None:
        rows.append(
            common
            | {
                "kind": "output",
                "position": 0,
                "artifact_digest": task.output.digest,
                "argument": None,
                "item": None,
            }
        )
    return rows


__all__ = ["Repository"]
