"""Read queries of the metadata database: runs, artifacts, pipelines, metrics.

Functions over an open `Connection`, used by `Repository` (which owns connections, transactions
and error mapping) and returning the read shapes of `argosy.metadata.schemas`. A run's tasks
are read in `argosy.metadata.task_queries`, lineage in `argosy.metadata.lineage`.

Id prefixes (`find_artifacts`, ``list_runs(id_prefix=...)``) are ranges of the id's index,
``prefix <= id < successor``, never scans. That needs ids ordered by their bytes: SQLite's
default; on Postgres the run id column is collated ``"C"`` for it (a language collation such as
``en_US`` ignores punctuation, so ``ab-c`` would not sort beside ``ab-cd``), and digests are
lowercase hex, which every collation orders alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, false, func, or_, select

from argosy.errors import NotFound
from argosy.metadata import liveness
from argosy.metadata.models import (
    ArtifactRow,
    EventRow,
    MetricRow,
    PipelineRow,
    PipelineVersionRow,
    RunRow,
    RunTagRow,
    TaskRow,
)
from argosy.metadata.run_listing import (
    decode_cursor,
    encode_cursor,
    id_range,
    no_run,
    page_size,
    tags_by_run,
)
from argosy.metadata.schemas import (
    ArtifactPublic,
    MetricPublic,
    PipelinePublic,
    PipelineVersionPublic,
    RunPublic,
    RunsPublic,
    RunStatus,
    ValueChange,
)
from argosy.metadata.writes import ATTEMPT_COLUMNS
from argosy.store.base import ArtifactInfo

_HEX = "0123456789abcdef"
ARTIFACT_COLUMNS = (
    ArtifactRow.digest,
    ArtifactRow.format,
    ArtifactRow.type,
    ArtifactRow.size,
    ArtifactRow.length,
)
DESCRIBED = (EventRow.artifact_name, EventRow.artifact_metadata)
"""What an edge says of its artifact (a path artifact's name, the writer's metadata)."""


def output_event(task_id: Any, digest: Any) -> Any:
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
        select(*DESCRIBED)  # the first reader (imported data has no producer)
        .where(EventRow.artifact_digest == digest)
        .where(or_(EventRow.artifact_name.is_not(None), EventRow.artifact_metadata.is_not(None)))
        .order_by(EventRow.kind.desc(), EventRow.task_id)
        .limit(1)
    ).one_or_none()
    return ArtifactPublic(
        **artifact_info(row, described).model_dump(),
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
        raise no_run(run_id)
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
    id_prefix: str | None = None,
) -> RunsPublic:
    """Runs, newest first, of ``pipeline``, in ``status``, of ``project``, of ``owner``,
    holding every one of ``tags`` and whose id starts with ``id_prefix``, when given."""
    limit = page_size(limit)
    filters = [] if id_prefix is None else [_id_prefix(id_prefix)]
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
        created_at, run_id = decode_cursor(cursor)
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
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None
    return RunsPublic(
        data=_runs_public(connection, page, lost_before), next_cursor=next_cursor, count=count
    )


def _id_prefix(prefix: str) -> ColumnElement[bool]:
    """Runs whose id starts with ``prefix``: a range of the id index (none if ``prefix`` cannot
    start a run id)."""
    found = id_range(prefix)
    if found is None:
        return false()
    low, high = found
    return and_(RunRow.id >= low, RunRow.id < high)


def find_artifacts(connection: Connection, prefix: str, limit: int = 10) -> list[str]:
    """Digests of recorded artifacts that start with ``prefix``, in order, at most ``limit``
    (1 to `run_listing.MAX_PAGE`); a prefix that is not lowercase hex matches none."""
    if re.fullmatch("[0-9a-f]{1,64}", prefix) is None:
        return []
    query = select(ArtifactRow.digest).where(ArtifactRow.digest >= prefix)
    above = prefix.rstrip("f")  # the least hex string after every one starting with prefix
    if above:
        successor = above[:-1] + _HEX[_HEX.index(above[-1]) + 1]
        query = query.where(ArtifactRow.digest < successor)
    query = query.order_by(ArtifactRow.digest).limit(page_size(limit))
    return list(connection.execute(query).scalars())


def _runs_public(
    connection: Connection, rows: Sequence[Any], lost_before: datetime
) -> list[RunPublic]:
    """``rows`` (of `RunRow`) as readers see them, each with its tags."""
    tags: dict[str, list[str]] = {}
    if rows:
        tags = tags_by_run(
            connection.execute(
                select(RunTagRow.run_id, RunTagRow.tag).where(
                    RunTagRow.run_id.in_([row.id for row in rows])
                )
            )
        )
    return [
        liveness.run_public(row, lost_before).model_copy(update={"tags": tags.get(row.id, [])})
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


def require_run(connection: Connection, run_id: str) -> None:
    """NotFound unless the run is recorded."""
    if connection.execute(select(RunRow.id).where(RunRow.id == run_id)).first() is None:
        raise no_run(run_id)


def changes(a: dict[str, Any], b: dict[str, Any]) -> list[ValueChange]:
    """The keys whose values differ between ``a`` and ``b``, sorted."""
    return [
        ValueChange(key=key, a=a.get(key), b=b.get(key))
        for key in sorted(a.keys() | b.keys())
        if a.get(key) != b.get(key)
    ]


def attempt_fields(row: Any) -> dict[str, Any]:
    """The TaskRecord / TaskPublic fields of an attempts or tasks row, but the output."""
    return {column: getattr(row, column) for column in ATTEMPT_COLUMNS if column != "output_digest"}


def artifact_info(row: Any, described: Any) -> ArtifactInfo | None:
    """The artifact of a row of `ARTIFACT_COLUMNS`, with the name and metadata of
    ``described``, a row of `DESCRIBED` columns (often the same row; None: nothing said)."""
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


__all__ = [
    "ARTIFACT_COLUMNS",
    "DESCRIBED",
    "artifact_info",
    "attempt_fields",
    "changes",
    "find_artifacts",
    "get_artifact",
    "get_pipeline_version",
    "get_run",
    "list_pipeline_versions",
    "list_pipelines",
    "list_runs",
    "metrics",
    "output_event",
    "require_run",
]
