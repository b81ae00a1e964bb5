"""`create_app(settings)`: the metadata service's FastAPI app, ready to serve.

It opens the database named by ``settings.database_url`` (else the embedded SQLite under
``ARGOSY_HOME``), migrates it when asked, otherwise refuses a database behind the code's schema,
and adds ``ARGOSY_ADMIN_TOKEN`` as the first write token.
"""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from argosy.config import Settings
from argosy.metadata import database
from argosy.metadata.repository import Repository
from argosy.metadata.service import errors
from argosy.metadata.service.deps import ServiceState
from argosy.metadata.service.middleware import BodyLimit, RequestMetrics
from argosy.metadata.service.routes import artifacts, health, pipelines, runs, tasks

MAX_BODY_BYTES = 32 * 2**20
"""The largest request body accepted (a full `TaskBatch` of 10,000 records fits)."""
API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None,
    *,
    repository: Repository | None = None,
    migrate: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The service app; ``repository`` defaults to one on the settings' database."""
    settings = settings or Settings()
    if repository is None:
        repository = Repository(settings.embedded_database_url, migrate=False)
        if migrate or settings.database_url is None:
            database.migrate(repository.engine)
    repository.check()
    if settings.admin_token is not None:
        repository.add_token(settings.admin_token.get_secret_value(), "write", "admin")

    app = FastAPI(
        title="Argosy metadata",
        version="1",
        description="Runs, tasks, artifacts and lineage of Argosy pipelines.",
    )
    app.state.argosy = ServiceState(settings=settings, repository=repository)
    app.state.prometheus = CollectorRegistry()
    errors.install(app)
    app.include_router(health.router)
    for resource in (pipelines, runs, tasks, artifacts):
        app.include_router(resource.router, prefix=API_PREFIX)
    app.add_middleware(RequestMetrics, registry=app.state.prometheus)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


__all__ = ["API_PREFIX", "MAX_BODY_BYTES", "create_app"]
