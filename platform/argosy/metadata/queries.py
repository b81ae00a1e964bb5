"""Read queries of the metadata database: runs, tasks, attempts, artifacts, pipelines, metrics.

Functions over an open `Connection`, used by `Repository` (which owns connections, transactions
and error mapping) and returning the read shapes of `argosy.metadata.schemas`. Lineage lives in
`argosy.metadata.lineage`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from argosy.errors import MetadataError, NotFound
from argosy.metadata import liveness
from argosy.metadata.models import (
    ArtifactRow,
    AttemptRow,
    EventRow,
    MetricRow,
    PipelineRow,
    PipelineVersionRow,
    RunRow,
    RunTagRow,
    TaskRow,
)
from argosy.metadata.schemas import (
    ArtifactPublic,
    MetricPublic,
    PipelinePublic,
    PipelineVersionPublic,
    RunPublic,
    RunsPublic,
    RunStatus,
    TaskInput,
    TaskPublic,
    TaskRecord,
    ValueChange,
)
from argosy.store.base import ArtifactInfo

MAX_PAGE = 1000
"""The most runs one `list_runs` page returns."""
_MAX_CURSOR = 512
"""Characters in a cursor; the ones `list_runs` makes have about 100."""
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
_ARTIFACT_COLUMNS = (
    ArtifactRow.digest,
    ArtifactRow.format,
    ArtifactRow.type,
    ArtifactRow.size,
    ArtifactRow.length,
)
_DESCRIBED = (EventRow.artifact_name, EventRow.artifact_metadata)
"""What an edge says of its artifact (a path artifact's name, the writer's metadata)."""


def _output_event(task_id: Any, digest: Any) -> Any:
    """The join condition of a task's output event, for the output the task row names."""
    return and_(
        EventRow.task_id == task_id, EventRow.kind == "output", EventRow.artifact_digest == digest
    )


def get_artifact(connection: Connection, digest: str) -> ArtifactPublic:
    row = connection.execute(select(ArtifactRow).where(ArtifactRow.digest == digest)).one_or_none()
    if row is None:
        raise NotFound(f"no artifact {digest}; list a run's outputs with `argosy show`")
    events = connection.execute(
        select(EventRow.kind, EventRow.task_id)
        .where(EventRow.artifact_digest == digest)
        .distinct()
        .order_by(EventRow.task_id)
    ).all()
    described = connection.execute(  # the first producer that said something of it, else
        select(*_DESCRIBED)  # the first reader (imported data has no producer)
        .where(EventRow.artifact_digest == digest)
        .where(or_(EventRow.artifact_name.is_not(None), EventRow.artifact_metadata.is_not(None)))
        .order_by(EventRow.kind.desc(), EventRow.task_id)
        .limit(1)
    ).one_or_none()
    return ArtifactPublic(
        **_artifact(row, described).model_dump(),
        uri=row.uri,
        produced_by=[e.task_id for e in events if e.kind == "output"],
        consumed_by=[e.task_id for e in events if e.kind == "input"],
    )


def list_pipelines(connection: Connection) -> list[PipelinePublic]:
    pipelines = connection.execute(select(PipelineRow).order_by(PipelineRow.name)).all()
    versions = connection.execute(
        select(PipelineVersionRow.pipeline, PipelineVersionRow.digest).order_by(
            PipelineVersionRow.created_at
        )
    ).all()
    digests: dict[str, list[str]] = {}
    for version in versions:
        digests.setdefault(version.pipeline, []).append(version.digest)
    return [
        PipelinePublic(
            name=p.name,
            created_at=p.created_at,
            versions=len(digests.get(p.name, [])),
            latest_version=(digests.get(p.name) or [None])[-1],
        )
        for p in pipelines
    ]


def list_pipeline_versions(connection: Connection, pipeline: str) -> list[PipelineVersionPublic]:
    if (
        connection.execute(select(PipelineRow.name).where(PipelineRow.name == pipeline)).first()
        is None
    ):
        raise NotFound(f"no pipeline {pipeline}; `argosy runs` lists the recorded ones")
    rows = connection.execute(
        select(PipelineVersionRow)
        .where(PipelineVersionRow.pipeline == pipeline)
        .order_by(PipelineVersionRow.created_at)
    ).all()
    return [PipelineVersionPublic.model_validate(row) for row in rows]


def get_pipeline_version(connection: Connection, digest: str) -> dict:
    ir = connection.execute(
        select(PipelineVersionRow.ir).where(PipelineVersionRow.digest == digest)
    ).scalar()
    if ir is None:
        raise NotFound(f"no pipeline version {digest} with a recorded IR")
    return ir


# --- runs and tasks -----------------------------------------------------------------


def get_run(connection: Connection, run_id: str, lost_before: datetime) -> RunPublic:
    """The run; one recorded as running reads as failed if its last heartbeat is too old."""
    row = connection.execute(select(RunRow).where(RunRow.id == run_id)).one_or_none()
    if row is None:
        raise NotFound(f"no run {run_id}; `argosy runs` lists the recorded runs")
    return _runs_public(connection, [row], lost_before)[0]


def list_runs(
    connection: Connection,
    lost_before: datetime,
    pipeline: str | None = None,
    status: RunStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
    *,
    project: str | None = None,
    owner: str | None = None,
    tags: Sequence[str] = (),
) -> RunsPublic:
    """Runs, newest first, of ``pipeline``, in ``status``, of ``project``, of ``owner`` and
    holding every one of ``tags``, when given."""
    limit = min(max(limit, 1), MAX_PAGE)
    filters = []
    if pipeline is not None:
        filters.append(RunRow.pipeline == pipeline)
    if status is not None:
        filters.append(liveness.status_column(lost_before) == status)
    if project is not None:
        filters.append(RunRow.project == project)
    if owner is not None:
        filters.append(RunRow.owner == owner)
    for tag in dict.fromkeys(tags):
        tagged = select(RunTagRow.run_id).where(RunTagRow.tag == tag, RunTagRow.run_id == RunRow.id)
        filters.append(tagged.exists())
    query = select(RunRow).where(*filters)
    if cursor:  # an empty cursor (``?cursor=``) means the first page
        created_at, run_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                RunRow.created_at < created_at,
                and_(RunRow.created_at == created_at, RunRow.id < run_id),
            )
        )
    query = query.order_by(RunRow.created_at.desc(), RunRow.id.desc()).limit(limit + 1)
    rows = connection.execute(query).all()
    count = connection.execute(select(func.count()).select_from(RunRow).where(*filters)).scalar()
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1]) if len(rows) > limit else None
    return RunsPublic(
        data=_runs_public(connection, page, lost_before), next_cursor=next_cursor, count=count
    )


def _runs_public(
    connection: Connection, rows: Sequence[Any], lost_before: datetime
) -> list[RunPublic]:
    """``rows`` (of `RunRow`) as readers see them, each with its tags."""
    tags: dict[str, list[str]] = {}
    if rows:
        found = connection.execute(
            select(RunTagRow.run_id, RunTagRow.tag).where(
                RunTagRow.run_id.in_([row.id for row in rows])
            )
        )
        for run_id, tag in found:
            tags.setdefault(run_id, []).append(tag)
    return [  # sorted here: databases' collations order text differently
        liveness.run_public(row, lost_before).model_copy(
            update={"tags": sorted(tags.get(row.id, []))}
        )
        for row in rows
    ]


def list_tasks(connection: Connection, run_id: str) -> list[TaskPublic]:
    ir = connection.execute(
        select(PipelineVersionRow.ir)
        .join(RunRow, RunRow.pipeline_version == PipelineVersionRow.digest)
        .where(RunRow.id == run_id)
    ).one_or_none()
    if ir is None:
        raise NotFound(f"no run {run_id}; `argosy runs` lists the recorded runs")
    rows = connection.execute(
        select(TaskRow, *_ARTIFACT_COLUMNS, *_DESCRIBED)
        .outerjoin(ArtifactRow, ArtifactRow.digest == TaskRow.output_digest)
        .outerjoin(EventRow, _output_event(TaskRow.id, TaskRow.output_digest))
        .where(TaskRow.run_id == run_id)
    ).all()
    inputs = _inputs(connection, EventRow.run_id == run_id)
    named = _named_outputs(connection, EventRow.run_id == run_id)
    metrics = _metrics(connection, MetricRow.run_id == run_id, latest_only=True)
    order = {step["name"]: n for n, step in enumerate((ir[0] or {}).get("steps", []))}
    rows.sort(key=lambda r: (order.get(r.step, len(order)), r.step, r.index))
    return [
        TaskPublic(
            id=row.id,
            run_id=row.run_id,
            step=row.step,
            index=row.index,
            attempt=row.attempt,
            attempts=row.attempts,
            output=_artifact(row, row),
            named_outputs=named.get(row.id, {}),
            inputs=inputs.get(row.id, []),
            metrics={m.name: m.value for m in metrics.get(row.id, [])},
            **_attempt_fields(row),
        )
        for row in rows
    ]


def metrics(connection: Connection, run_id: str) -> list[MetricPublic]:
    require_run(connection, run_id)
    rows = connection.execute(
        select(MetricRow.task_id, MetricRow.name, MetricRow.value, TaskRow.step, TaskRow.index)
        .join(
            TaskRow,
            and_(TaskRow.id == MetricRow.task_id, TaskRow.attempt == MetricRow.attempt),
        )
        .where(MetricRow.run_id == run_id)
        .order_by(TaskRow.step, TaskRow.index, MetricRow.name)
    ).all()
    return [
        MetricPublic(
            task_id=r.task_id,
            run_id=run_id,
            step=r.step,
            index=r.index,
            name=r.name,
            value=r.value,
        )
        for r in rows
    ]


def attempt_records(connection: Connection, where: Any) -> list[TaskRecord]:
    rows = connection.execute(
        select(AttemptRow, *_ARTIFACT_COLUMNS, *_DESCRIBED)
        .outerjoin(ArtifactRow, ArtifactRow.digest == AttemptRow.output_digest)
        .outerjoin(EventRow, _output_event(AttemptRow.task_id, AttemptRow.output_digest))
        .where(where)
        .order_by(AttemptRow.attempt)
    ).all()
    if not rows:
        return []
    task_ids = {row.task_id for row in rows}
    inputs = _inputs(connection, EventRow.task_id.in_(task_ids))
    metrics = _metrics(connection, MetricRow.task_id.in_(task_ids), latest_only=False)
    records = []
    for row in rows:
        records.append(
            TaskRecord(
                run_id=row.run_id,
                step=row.step,
                index=row.index,
                attempt=row.attempt,
                inputs=inputs.get(row.task_id, []),
                output=_artifact(row, row),
                metrics={
                    m.name: m.value
                    for m in metrics.get(row.task_id, [])
                    if m.attempt == row.attempt
                },
                **_attempt_fields(row),
            )
        )
    return records


def _inputs(connection: Connection, where: Any) -> dict[str, list[TaskInput]]:
    rows = connection.execute(
        select(EventRow.task_id, EventRow.argument, EventRow.item, *_ARTIFACT_COLUMNS, *_DESCRIBED)
        .join(ArtifactRow, ArtifactRow.digest == EventRow.artifact_digest)
        .where(where, EventRow.kind == "input")
        .order_by(EventRow.task_id, EventRow.position)
    )
    inputs: dict[str, list[TaskInput]] = {}
    for row in rows:
        inputs.setdefault(row.task_id, []).append(
            TaskInput(argument=row.argument or "", artifact=_artifact(row, row), item=row.item)
        )
    return inputs


def _named_outputs(connection: Connection, where: Any) -> dict[str, dict[str, ArtifactInfo]]:
    """The named outputs of each task (its output edges after the first), by task id."""
    rows = connection.execute(
        select(EventRow.task_id, EventRow.argument, *_ARTIFACT_COLUMNS, *_DESCRIBED)
        .join(ArtifactRow, ArtifactRow.digest == EventRow.artifact_digest)
        .where(where, EventRow.kind == "output", EventRow.position > 0)
        .order_by(EventRow.task_id, EventRow.position)
    )
    named: dict[str, dict[str, ArtifactInfo]] = {}
    for row in rows:
        artifact = _artifact(row, row)
        if artifact is not None and row.argument is not None:
            named.setdefault(row.task_id, {})[row.argument] = artifact
    return named


def _metrics(connection: Connection, where: Any, *, latest_only: bool) -> dict:
    query = select(MetricRow).where(where)
    if latest_only:
        query = query.join(
            TaskRow, and_(TaskRow.id == MetricRow.task_id, TaskRow.attempt == MetricRow.attempt)
        )
    grouped: dict[str, list[Any]] = {}
    for metric in connection.execute(query.order_by(MetricRow.name)):
        grouped.setdefault(metric.task_id, []).append(metric)
    return grouped


def require_run(connection: Connection, run_id: str) -> None:
    """NotFound unless the run is recorded."""
    if connection.execute(select(RunRow.id).where(RunRow.id == run_id)).first() is None:
        raise NotFound(f"no run {run_id}; `argosy runs` lists the recorded runs")


def changes(a: dict[str, Any], b: dict[str, Any]) -> list[ValueChange]:
    """The keys whose values differ between ``a`` and ``b``, sorted."""
    return [
        ValueChange(key=key, a=a.get(key), b=b.get(key))
        for key in sorted(a.keys() | b.keys())
        if a.get(key) != b.get(key)
    ]


def _attempt_fields(row: Any) -> dict[str, Any]:
    """The TaskRecord / TaskPublic fields of an attempts or tasks row, but the output."""
    return {column: getattr(row, column) for column in ATTEMPT_COLUMNS if column != "output_digest"}


def _artifact(row: Any, described: Any) -> ArtifactInfo | None:
    """The artifact of a row of `_ARTIFACT_COLUMNS`, with the name and metadata of
    ``described``, a row of `_DESCRIBED` columns (often the same row; None: nothing said)."""
    if row.digest is None:
        return None
    said = described is not None
    return ArtifactInfo(
        digest=row.digest,
        format=row.format,
        type=row.type,
        size=row.size,
        length=row.length,
        name=described.artifact_name if said else None,
        metadata=(described.artifact_metadata if said else None) or {},
    )


def _encode_cursor(row: Any) -> str:
    payload = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor of `_encode_cursor` holds; MetadataError for anything else."""
    try:
        if len(cursor) > _MAX_CURSOR:
            raise ValueError(f"longer than {_MAX_CURSOR} characters")
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        match decoded:
            case [str(stamp), str(run_id)]:
                created_at = datetime.fromisoformat(stamp)
                if created_at.tzinfo is None:
                    raise ValueError(f"{stamp} has no UTC offset")
                return created_at.astimezone(UTC), run_id
        raise ValueError("not a [created_at, id] pair")
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise MetadataError(
            f"the cursor parameter is not a cursor of this service ({error}); pass the "
            "next_cursor of the previous page, or no cursor for the first page"
        ) from error


__all__ = [
    "ATTEMPT_COLUMNS",
    "MAX_PAGE",
    "attempt_records",
    "changes",
    "get_artifact",
    "get_pipeline_version",
    "get_run",
    "list_pipeline_versions",
    "list_pipelines",
    "list_runs",
    "list_tasks",
    "metrics",
    "require_run",
]
