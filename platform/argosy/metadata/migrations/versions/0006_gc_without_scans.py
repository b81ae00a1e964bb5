"""`argosy gc` deletes rows without scanning a table for each: the foreign keys from tasks' and
attempts' output digests to artifacts go (deleting an artifact row made the database look for
it in every task and attempt, since those columns have no index, and an index on each would
cost bytes per task), and cache entries get an index on their task (deleting a task looks for
the entries that point at it).

Nothing is lost: the artifact row of a task's output is written with the task, in the same
transaction (`argosy.metadata.attempts`), and gc deletes an artifact row only when no task,
attempt or event points at it (`argosy.metadata.deletion`). On SQLite, dropping the keys copies
the tasks and attempts tables once (about a second per million rows).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = ("tasks", "attempts")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_output_digest_artifacts", type_="foreignkey")
    op.create_index("ix_cache_entries_task_id", "cache_entries", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_cache_entries_task_id", table_name="cache_entries")
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(
                f"fk_{table}_output_digest_artifacts", "artifacts", ["output_digest"], ["digest"]
            )
