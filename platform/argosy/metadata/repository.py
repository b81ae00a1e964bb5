"""The embedded metadata store: every query Argosy makes, on SQLite or Postgres.

`Repository` implements `MetadataSink` (what the runtime writes) and `MetadataReader` (what the
CLI, the SDK and the service read); the FastAPI service is a thin layer over it. Writes are
idempotent: creating a run twice, recording the same task attempt twice or registering the
same artifact twice changes nothing; a write that contradicts what is recorded raises
`Conflict`. `record_tasks` writes a whole batch in one transaction (see `attempts`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Set
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, and_, delete, select, update

from argosy.errors import NotFound
from argosy.metadata import (
    attempts,
    database,
    deletion,
    lineage,
    pruning,
    queries,
    references,
    task_queries,
    token_queries,
    writes,
)
from argosy.metadata.models import (
    ArtifactRow,
    AttemptRow,
    CacheEntryRow,
    PipelineRow,
    PipelineVersionRow,
    RunRow,
    RunTagRow,
)
from argosy.metadata.reader import Direction
from argosy.metadata.revision import require_revision
from argosy.metadata.run_listing import lost_before
from argosy.metadata.run_views import StepSummary, TasksPage
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
    RunTagsChange,
    RunUpdate,
    TaskPublic,
    TaskRecord,
    TaskStatus,
    TokenPublic,
    task_id,
)
from argosy.metadata.tokens import Scope
from argosy.metadata.writes import utcnow
from argosy.store.base import ArtifactInfo


class Repository:
    """Metadata on one database: a `MetadataSink` and a `MetadataReader`."""

    def __init__(
        self, database_url: str | Engine, *, migrate: bool = True, lost_after: float = 60.0
    ) -> None:
        self.engine = (
            database.connect(database_url) if isinstance(database_url, str) else database_url
        )
        self.lost_after = lost_after
        """Seconds without a heartbeat after which a running run reads as failed."""
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
            database.errors(self.engine),
            self.engine.connect().execution_options(**database.WRITE) as connection,
            connection.begin(),
        ):
            yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with database.errors(self.engine), self.engine.connect() as connection:
            yield connection

    # --- sink ----------------------------------------------------------------------------

    def check(self) -> None:
        with self._read() as connection:
            require_revision(database.current_revision(connection))

    def create_run(self, run: RunCreate) -> None:
        """Record ``run``; the same run again changes nothing, its tags, project and owner
        included (tags added or removed since stay so), and another run under its id is a
        `Conflict`."""
        checked = select(*(getattr(RunRow, column) for column in writes.RUN_CHECKED))
        checked = checked.where(RunRow.id == run.id)
        with self._read() as connection:  # every pod of a run records it: most find it there
            recorded = connection.execute(checked).one_or_none()
        if recorded is None:
            rows = writes.new_run(run, utcnow())
            with self._write() as connection:
                database.insert_ignore(connection, PipelineRow, [rows.pipeline])
                database.insert_ignore(connection, PipelineVersionRow, [rows.version])
                if run.pipeline_ir is not None:
                    connection.execute(
                        update(PipelineVersionRow)
                        .where(PipelineVersionRow.digest == run.pipeline_version)
                        .where(PipelineVersionRow.ir.is_(None))
                        .values(ir=run.pipeline_ir)
                    )
                created = connection.execute(
                    database.insert(connection, RunRow)
                    .values(rows.run)
                    .on_conflict_do_nothing()
                    .returning(RunRow.id)
                ).first()
                if created is not None:  # only with the run: a later pod's tags would undo removals
                    database.insert_ignore(connection, RunTagRow, rows.tags)
                recorded = connection.execute(checked).one()
        writes.check_recorded_run(run, recorded._mapping)

    def update_run(self, run_id: str, update_: RunUpdate) -> None:
        with self._write() as connection:
            before = connection.execute(
                select(RunRow.status, RunRow.finished_at, RunRow.error).where(RunRow.id == run_id)
            ).one_or_none()
            values = writes.run_end(run_id, None if before is None else before._mapping, update_)
            connection.execute(update(RunRow).where(RunRow.id == run_id).values(values))

    def update_tags(self, run_id: str, change: RunTagsChange) -> RunPublic:
        """Add and remove tags of run ``run_id`` (adding a tag it has, or removing one it has
        not, changes nothing); the run as it is now. NotFound for an unknown run."""
        with self._write() as connection:
            queries.require_run(connection, run_id)
            if change.remove:
                connection.execute(
                    delete(RunTagRow).where(
                        RunTagRow.run_id == run_id, RunTagRow.tag.in_(change.remove)
                    )
                )
            rows = [{"run_id": run_id, "tag": tag} for tag in change.add]
            database.insert_ignore(connection, RunTagRow, rows)
        return self.get_run(run_id)

    def heartbeat(self, run_id: str) -> None:
        with self._write() as connection:
            touched = connection.execute(
                update(RunRow).where(RunRow.id == run_id).values(heartbeat_at=utcnow())
            ).rowcount
        if not touched:
            raise NotFound(f"no run {run_id}; create it first")

    def record_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        if tasks:
            with self._write() as connection:
                attempts.record(connection, tasks)

    def find_cached(self, cache_key: str) -> TaskRecord | None:
        with self._read() as connection:
            entry = connection.execute(
                select(CacheEntryRow.task_id, CacheEntryRow.attempt).where(
                    CacheEntryRow.cache_key == cache_key
                )
            ).one_or_none()
            if entry is None:
                return None
            records = task_queries.attempt_records(
                connection,
                and_(AttemptRow.task_id == entry.task_id, AttemptRow.attempt == entry.attempt),
            )
        return records[0] if records else None

    def list_attempts(self, run_id: str, step: str, index: int = 0) -> list[TaskRecord]:
        """Every recorded attempt of one task, first to last; NotFound if there is none."""
        with self._read() as connection:
            records = task_queries.attempt_records(
                connection, AttemptRow.task_id == task_id(run_id, step, index)
            )
        if not records:
            raise NotFound(f"no task {step}[{index}] in run {run_id}")
        return records

    # --- artifacts, pipelines -----------------------------------------------------------

    def put_artifacts(self, artifacts: Sequence[ArtifactInfo], uri: str | None = None) -> None:
        """Register artifacts' bytes (not their name or metadata, which describe a task's
        output); registering a known digest again is a no-op."""
        rows = [writes.artifact_row(info, utcnow()) | {"uri": uri} for info in artifacts]
        with self._write() as connection:
            database.insert_ignore(connection, ArtifactRow, rows)

    # --- reader -------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunPublic:
        with self._read() as connection:
            return queries.get_run(connection, run_id, lost_before(self.lost_after))

    def list_runs(
        self,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
        *,
        project: str | None = None,
        owner: str | None = None,
        tags: Sequence[str] = (),
        id_prefix: str | None = None,
    ) -> RunsPublic:
        with self._read() as connection:
            cutoff = lost_before(self.lost_after)
            return queries.list_runs(
                connection,
                cutoff,
                pipeline,
                status,
                limit,
                cursor,
                project=project,
                owner=owner,
                tags=tags,
                id_prefix=id_prefix,
            )

    def find_runs(self, prefix: str, limit: int = 10) -> list[RunPublic]:
        return self.list_runs(id_prefix=prefix, limit=limit).data

    def find_artifacts(self, prefix: str, limit: int = 10) -> list[str]:
        with self._read() as connection:
            return queries.find_artifacts(connection, prefix, limit)

    def run_steps(self, run_id: str) -> list[StepSummary]:
        with self._read() as connection:
            return task_queries.run_steps(connection, run_id)

    def list_tasks(
        self,
        run_id: str,
        *,
        step: str | None = None,
        statuses: Sequence[TaskStatus] = (),
        limit: int | None = None,
        offset: int = 0,
        inputs: bool = True,
    ) -> list[TaskPublic]:
        page = {"limit": limit, "offset": offset, "inputs": inputs}
        return self.task_page(run_id, step=step, statuses=statuses, **page).data

    def task_page(
        self,
        run_id: str,
        *,
        step: str | None = None,
        statuses: Sequence[TaskStatus] = (),
        limit: int | None = None,
        offset: int = 0,
        inputs: bool = True,
    ) -> TasksPage:
        """`list_tasks` with the number of tasks matching, over all pages."""
        page = {"limit": limit, "offset": offset, "inputs": inputs}
        with self._read() as connection:
            return task_queries.task_page(connection, run_id, step=step, statuses=statuses, **page)

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

    # --- pruning (`argosy gc`) ------------------------------------------------------------

    def choose_runs(self, selection: pruning.RunSelection) -> pruning.RunChoice:
        """The runs ``selection`` deletes, and those it selects but must keep (`pruning`)."""
        with self._read() as connection:
            return pruning.choose_runs(connection, selection, lost_before(self.lost_after))

    def references(self, leaving: frozenset[str] = frozenset()) -> references.References:
        """What stays referenced once the runs ``leaving`` are gone (`references`)."""
        with self._read() as connection:
            return references.references(connection, lost_before(self.lost_after), leaving)

    def delete_run(self, run_id: str, leaving: Set[str]) -> deletion.DeletedRun | None:
        """Delete a run and its rows unless it must stay (`deletion.delete_run`)."""
        with self._write() as connection:
            return deletion.delete_run(connection, run_id, leaving, lost_before(self.lost_after))

    def delete_artifacts(self, digests: Sequence[str]) -> int:
        """Delete the rows of those of ``digests`` nothing points at; how many went."""
        with self._write() as connection:
            return deletion.delete_artifacts(connection, digests)

    # --- tokens (`token_queries`) -----------------------------------------------------------

    def add_token(self, token: str, scope: Scope, name: str) -> None:
        """Accept ``token`` with ``scope`` from now on (adding it again changes nothing)."""
        with self._write() as connection:
            token_queries.add_token(connection, token, scope, name)

    def set_admin_token(self, token: str) -> None:
        """Make ``token`` the admin token (write scope); the admin token before it stops working."""
        with self._write() as connection:
            token_queries.set_admin_token(connection, token)

    def list_tokens(self) -> list[TokenPublic]:
        """Every accepted token, oldest first (ids and names, never the tokens)."""
        with self._read() as connection:
            return token_queries.list_tokens(connection)

    def revoke_token(self, id_or_name: str) -> TokenPublic:
        """Stop accepting the one token with this id (`TokenPublic.id`) or name; return it."""
        with self._write() as connection:
            return token_queries.revoke_token(connection, id_or_name)

    def token_scope(self, token: str) -> str | None:
        """The scope of ``token``, or None if it was never added."""
        with self._read() as connection:
            return token_queries.token_scope(connection, token)


__all__ = ["Repository"]
