"""Indexes on the columns that point at artifacts and tasks without one, so `argosy gc` deletes
artifact rows and tasks without scanning every task for each (a foreign key check looks up
the rows that point at a deleted one).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_tasks_output_digest", "tasks", "output_digest"),
    ("ix_attempts_output_digest", "attempts", "output_digest"),
    ("ix_cache_entries_task_id", "cache_entries", "task_id"),
)


def upgrade() -> None:
    for name, table, column in _INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
