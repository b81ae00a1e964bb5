"""Fewer bytes per task and indexed run-id prefixes: drop the attempts' (run, step, index,
attempt) unique constraint (the key, task id and attempt, already implies it) and the events'
run id index (a run's events are found through its tasks); on Postgres, collate run ids "C" so
their index orders them by bytes and an id prefix is a range of it.

On SQLite, dropping the constraint copies the attempts table once (about a second per million
attempts).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_UNIQUE_ATTEMPT = "uq_attempts_run_id_step_index_attempt"


def upgrade() -> None:
    with op.batch_alter_table("attempts") as table:
        table.drop_constraint(_UNIQUE_ATTEMPT, type_="unique")
    op.drop_index("ix_events_run_id", table_name="events")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("runs", "id", type_=sa.Text(collation="C"), existing_type=sa.Text())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("runs", "id", type_=sa.Text(), existing_type=sa.Text(collation="C"))
    op.create_index("ix_events_run_id", "events", ["run_id"])
    with op.batch_alter_table("attempts") as table:
        table.create_unique_constraint(_UNIQUE_ATTEMPT, ["run_id", "step", "index", "attempt"])
