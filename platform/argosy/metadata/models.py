"""The metadata tables (SQLAlchemy 2), the same on SQLite and Postgres.

Strings are unbounded ``TEXT`` (as fast as ``VARCHAR(n)`` on Postgres) except for enumerated
values, so no request can fail on a length limit. Keys are the natural ones Argosy derives
(run id, task id ``run.step.index``, artifact digest), so a batch of task records is written
without reading generated ids back, and every write can be an insert that ignores what already
exists. Events are the lineage: an ``input`` event links
an artifact to the task that read it, an ``output`` event a task to the artifact it wrote;
their two indexes make both directions of a lineage walk index lookups.

Every index costs bytes per task (a 100,000-task run writes 100,000 entries into each index of
tasks, attempts and events), so there is none that no query uses: a run's events are found
through its tasks, and an attempt by its task id. Run ids are collated ``"C"`` on Postgres, so
the id index orders them by their bytes and an id prefix is a range of it (see
`argosy.metadata.queries`).

Change a table only together with a new Alembic revision in ``migrations/versions``, and bump
`argosy.metadata.revision.SCHEMA_REVISION` to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from argosy.metadata.writes import as_utc, utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(none_as_null=True)}


class PipelineRow(Base):
    """A pipeline, by name; its versions are IR digests."""

    __tablename__ = "pipelines"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PipelineVersionRow(Base):
    """One version of a pipeline: the IR as JSON under its digest."""

    __tablename__ = "pipeline_versions"

    digest: Mapped[str] = mapped_column(Text, primary_key=True)
    pipeline: Mapped[str] = mapped_column(ForeignKey("pipelines.name"), index=True)
    ir: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunRow(Base):
    """One run of a pipeline version."""

    __tablename__ = "runs"
    __table_args__ = (
        Index(None, "created_at", "id"),
        Index(None, "pipeline", "created_at", "id"),
        Index(None, "status", "created_at", "id"),
        Index(None, "project", "created_at", "id"),
        Index(None, "owner", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(
        Text().with_variant(Text(collation="C"), "postgresql"), primary_key=True
    )
    """Collated ``"C"`` on Postgres: in byte order, so an id prefix is a range of the index.
    Columns referring to it are plain ``Text`` (not this type), so that a lookup by run id
    compares in the collation of their own indexes."""
    pipeline: Mapped[str] = mapped_column(ForeignKey("pipelines.name"))
    pipeline_version: Mapped[str] = mapped_column(ForeignKey("pipeline_versions.digest"))
    pipeline_ref: Mapped[str | None] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    backend: Mapped[str] = mapped_column(Text)
    resumed_from: Mapped[str | None] = mapped_column(Text)
    workflow_name: Mapped[str | None] = mapped_column(Text)
    namespace: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    """When the runner last said it was alive; a running run whose heartbeat is old is dead."""
    nonce: Mapped[str | None] = mapped_column(Text)
    """Drawn once by the process that started the run: tells a retried create_run from another
    run whose id collided with this one."""
    project: Mapped[str | None] = mapped_column(Text)
    """The project the run belongs to (``@pipeline(project=...)`` or ``--project``)."""
    owner: Mapped[str | None] = mapped_column(Text)
    """Whose run it is, Metaflow's namespace: ``user:<name>`` or ``production``."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunTagRow(Base):
    """A tag on a run, given when it started or added afterwards."""

    __tablename__ = "run_tags"
    __table_args__ = (Index(None, "tag", "run_id"),)

    run_id: Mapped[str] = mapped_column(Text, ForeignKey("runs.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArtifactRow(Base):
    """A stored value, by content digest: the same bytes are one artifact across all runs."""

    __tablename__ = "artifacts"

    digest: Mapped[str] = mapped_column(Text, primary_key=True)
    format: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    length: Mapped[int | None] = mapped_column(BigInteger)
    uri: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class _AttemptFields:
    """What one attempt of a task recorded; a task row repeats its latest attempt's."""

    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    output_digest: Mapped[str | None] = mapped_column(Text)
    """The artifact row is written with the attempt (`argosy.metadata.attempts`); no foreign
    key, so that deleting artifact rows (`argosy gc`) looks for none in every task."""
    cache_key: Mapped[str | None] = mapped_column(Text)
    cache_hit: Mapped[bool] = mapped_column(Boolean, default=False)
    cloned_from: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    log_key: Mapped[str | None] = mapped_column(Text)
    gpu_fallback: Mapped[bool] = mapped_column(Boolean, default=False)


class TaskRow(_AttemptFields, Base):
    """One task (run, step, index), as its latest attempt left it."""

    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("run_id", "step", "index"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    run_id: Mapped[str] = mapped_column(Text, ForeignKey("runs.id"))
    step: Mapped[str] = mapped_column(Text)
    index: Mapped[int] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer)
    """Attempts recorded so far."""


class AttemptRow(_AttemptFields, Base):
    """One attempt of one task: the unit a `TaskRecord` describes, written once. The task id
    derives from (run, step, index), so the key (task id, attempt) is unique on those too."""

    __tablename__ = "attempts"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(Text)
    step: Mapped[str] = mapped_column(Text)
    index: Mapped[int] = mapped_column(Integer)


class EventRow(Base):
    """A task read (``input``) or wrote (``output``) an artifact: one edge of the lineage graph."""

    __tablename__ = "events"
    __table_args__ = (Index(None, "artifact_digest", "kind", "task_id"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    """Order among the task's inputs (0 for its output)."""
    artifact_digest: Mapped[str] = mapped_column(ForeignKey("artifacts.digest"))
    run_id: Mapped[str] = mapped_column(Text)
    argument: Mapped[str | None] = mapped_column(Text)
    item: Mapped[int | None] = mapped_column(Integer)
    artifact_name: Mapped[str | None] = mapped_column(Text)
    """The file or folder name of a path artifact, as its writer named it."""
    artifact_metadata: Mapped[dict[str, Any] | None]
    """What the writing task said of the artifact (`argosy.Artifact` metadata)."""


class MetricRow(Base):
    """A number one attempt of a task reported."""

    __tablename__ = "metrics"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    run_id: Mapped[str] = mapped_column(Text, index=True)
    value: Mapped[float] = mapped_column(Float)


class CacheEntryRow(Base):
    """The newest succeeded attempt under a cache key (step code, inputs, parameters, image)."""

    __tablename__ = "cache_entries"

    cache_key: Mapped[str] = mapped_column(Text, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    """Indexed: deleting a run's tasks (`argosy gc`) finds the entries pointing at them."""
    attempt: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiTokenRow(Base):
    """A bearer token of the metadata service, stored as its sha256 only."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = [
    "ApiTokenRow",
    "ArtifactRow",
    "AttemptRow",
    "Base",
    "CacheEntryRow",
    "EventRow",
    "MetricRow",
    "PipelineRow",
    "PipelineVersionRow",
    "RunRow",
    "RunTagRow",
    "TaskRow",
    "UTCDateTime",
]
