"""Alembic environment: migrates the connection the caller hands over, or the configured URL.

`argosy.metadata.migrate` passes an open connection in ``config.attributes["connection"]``;
the ``alembic`` command line (``-c .../migrations/alembic.ini -x url=...``) connects itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from argosy.metadata import database
from argosy.metadata.models import Base


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    engine = database.connect(url)  # the driver Argosy uses (psycopg 3 for postgresql://)
    try:
        with engine.begin() as connection:
            _migrate(connection)
    finally:
        engine.dispose()


_run()
