"""`create_app(settings)`: the metadata service's FastAPI app, ready to serve.

This module is also an ASGI app itself, so ``uvicorn argosy.metadata.service:app`` (which names
this module: it is the package's ``app`` attribute) serves an app built from the environment
when uvicorn starts it, never at import.

It refuses an ``ARGOSY_ADMIN_TOKEN`` too short to resist guessing, opens the database named by
``settings.database_url`` (else the embedded SQLite under ``ARGOSY_HOME``), migrates it when
asked, otherwise refuses a database behind the code's schema, and makes ``ARGOSY_ADMIN_TOKEN``
the admin write token (the admin token of the previous start stops working; without one, the
recorded admin token stays).
"""

from __future__ import annotations

import sys
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter
from starlette.types import Receive, Scope, Send

from argosy.config import Settings
from argosy.metadata.repository import Repository
from argosy.metadata.service import docs, errors
from argosy.metadata.service.deps import ServiceState
from argosy.metadata.service.middleware import BodyLimit, RequestMetrics
from argosy.metadata.service.routes import artifacts, health, pipelines, runs, tasks, tokens
from argosy.metadata.tokens import check_admin_token

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
    """The service app; ``repository`` defaults to one on the settings' database, which the app
    then closes when it shuts down (a repository given is the caller's to close)."""
    settings = settings or Settings()
    admin_token = settings.admin_token.get_secret_value() if settings.admin_token else None
    if admin_token is not None:
        check_admin_token(admin_token)
    owned = repository is None
    if repository is None:
        repository = Repository(
            settings.embedded_database_url,
            migrate=migrate or settings.database_url is None,
            lost_after=settings.lost_after_seconds,
        )
    repository.check()
    if admin_token is not None:
        repository.set_admin_token(admin_token)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            repository.close()

    app = FastAPI(
        title="Argosy metadata",
        version="1",
        description="Runs, tasks, artifacts and lineage of Argosy pipelines.",
        lifespan=lifespan,
        docs_url=None,  # docs.install serves /docs without a CDN
        redoc_url=None,
    )
    app.state.prometheus = CollectorRegistry()
    recorded = Counter(
        "argosy_task_records", "Task records received", registry=app.state.prometheus
    )
    app.state.argosy = ServiceState(
        settings=settings, repository=repository, tasks_recorded=recorded
    )
    errors.install(app)
    docs.install(app)
    from argosy.web.site import install as install_ui  # the UI imports this package's modules

    install_ui(app)
    app.include_router(health.router)
    for resource in (pipelines, runs, tasks, artifacts, tokens):
        app.include_router(resource.router, prefix=API_PREFIX)
    app.add_middleware(RequestMetrics, registry=app.state.prometheus)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


class _ServedModule(types.ModuleType):
    """This module's type: calling it serves `create_app(Settings())`, built on first call."""

    _served: FastAPI | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._served is None:
            self._served = create_app(Settings())
        await self._served(scope, receive, send)


sys.modules[__name__].__class__ = _ServedModule

__all__ = ["API_PREFIX", "MAX_BODY_BYTES", "create_app"]
