"""Initial schema: pipelines, versions, runs, tasks, attempts, artifacts, events, metrics,
cache entries and API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def _created_at() -> sa.Column:
    return sa.Column("created_at", _TIME, nullable=False)


def _attempt_columns(table: str) -> list[sa.SchemaItem]:
    """What one attempt records; `tasks` repeats its latest attempt's."""
    return [
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", _TIME, nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("output_digest", sa.Text(), nullable=True),
        sa.Column("cache_key", sa.Text(), nullable=True),
        sa.Column("cache_hit", sa.Boolean(), nullable=False),
        sa.Column("cloned_from", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("log_key", sa.Text(), nullable=True),
        sa.Column("gpu_fallback", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["output_digest"], ["artifacts.digest"], name=f"fk_{table}_output_digest_artifacts"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("token_hash", name="pk_api_tokens"),
    )
    op.create_table(
        "artifacts",
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=True),
        sa.Column("uri", sa.Text(), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("digest", name="pk_artifacts"),
    )
    op.create_table(
        "pipelines",
        sa.Column("name", sa.Text(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("name", name="pk_pipelines"),
    )
    op.create_table(
        "pipeline_versions",
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("pipeline", sa.Text(), nullable=False),
        sa.Column("ir", sa.JSON(), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["pipeline"], ["pipelines.name"], name="fk_pipeline_versions_pipeline_pipelines"
        ),
        sa.PrimaryKeyConstraint("digest", name="pk_pipeline_versions"),
    )
    op.create_index("ix_pipeline_versions_pipeline", "pipeline_versions", ["pipeline"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("pipeline", sa.Text(), nullable=False),
        sa.Column("pipeline_version", sa.Text(), nullable=False),
        sa.Column("pipeline_ref", sa.Text(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("backend", sa.Text(), nullable=False),
        sa.Column("resumed_from", sa.Text(), nullable=True),
        sa.Column("workflow_name", sa.Text(), nullable=True),
        sa.Column("namespace", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", _TIME, nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["pipeline"], ["pipelines.name"], name="fk_runs_pipeline_pipelines"
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_version"],
            ["pipeline_versions.digest"],
            name="fk_runs_pipeline_version_pipeline_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_created_at_id", "runs", ["created_at", "id"])
    op.create_index("ix_runs_pipeline_created_at_id", "runs", ["pipeline", "created_at", "id"])
    op.create_index("ix_runs_status_created_at_id", "runs", ["status", "created_at", "id"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        *_attempt_columns("tasks"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_tasks_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.UniqueConstraint("run_id", "step", "index", name="uq_tasks_run_id_step_index"),
    )
    op.create_table(
        "attempts",
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        *_attempt_columns("attempts"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_attempts_task_id_tasks"),
        sa.PrimaryKeyConstraint("task_id", "attempt", name="pk_attempts"),
        sa.UniqueConstraint(
            "run_id", "step", "index", "attempt", name="uq_attempts_run_id_step_index_attempt"
        ),
    )
    op.create_table(
        "cache_entries",
        sa.Column("cache_key", sa.Text(), nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_cache_entries_task_id_tasks"),
        sa.PrimaryKeyConstraint("cache_key", name="pk_cache_entries"),
    )
    op.create_table(
        "events",
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("artifact_digest", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("argument", sa.Text(), nullable=True),
        sa.Column("item", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["artifact_digest"], ["artifacts.digest"], name="fk_events_artifact_digest_artifacts"
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_events_task_id_tasks"),
        sa.PrimaryKeyConstraint("task_id", "kind", "position", name="pk_events"),
    )
    op.create_index(
        "ix_events_artifact_digest_kind_task_id", "events", ["artifact_digest", "kind", "task_id"]
    )
    op.create_index("ix_events_run_id", "events", ["run_id"])
    op.create_table(
        "metrics",
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_metrics_task_id_tasks"),
        sa.PrimaryKeyConstraint("task_id", "attempt", "name", name="pk_metrics"),
    )
    op.create_index("ix_metrics_run_id", "metrics", ["run_id"])


def downgrade() -> None:
    for table in (
        "metrics",
        "events",
        "cache_entries",
        "attempts",
        "tasks",
        "runs",
        "pipeline_versions",
        "pipelines",
        "artifacts",
        "api_tokens",
    ):
        op.drop_table(table)
