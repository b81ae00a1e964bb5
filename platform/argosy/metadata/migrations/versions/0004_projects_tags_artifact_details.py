"""Runs belong to a project and an owner (a user's or the production namespace) and carry tags;
an output edge keeps what its task said of the artifact (file name, metadata).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as table:
        table.add_column(sa.Column("project", sa.Text(), nullable=True))
        table.add_column(sa.Column("owner", sa.Text(), nullable=True))
        table.create_index("ix_runs_project_created_at_id", ["project", "created_at", "id"])
        table.create_index("ix_runs_owner_created_at_id", ["owner", "created_at", "id"])
    op.create_table(
        "run_tags",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_tags_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "tag", name="pk_run_tags"),
    )
    op.create_index("ix_run_tags_tag_run_id", "run_tags", ["tag", "run_id"])
    with op.batch_alter_table("events") as table:
        table.add_column(sa.Column("artifact_name", sa.Text(), nullable=True))
        table.add_column(sa.Column("artifact_metadata", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as table:
        table.drop_column("artifact_metadata")
        table.drop_column("artifact_name")
    op.drop_index("ix_run_tags_tag_run_id", table_name="run_tags")
    op.drop_table("run_tags")
    with op.batch_alter_table("runs") as table:
        table.drop_index("ix_runs_owner_created_at_id")
        table.drop_index("ix_runs_project_created_at_id")
        table.drop_column("owner")
        table.drop_column("project")
