"""Where the web UI's pages read from: the service's repository, its settings, the artifact
store (for previews and logs) and the pipeline versions runs were made from.

The store is opened on the first page that needs it, from the service's settings (S3 when
``ARGOSY_S3_*`` is set, else the local store under ``ARGOSY_HOME``); a store the service cannot
reach shows as "not readable here" on those pages, never as an error page. Pipeline versions
are immutable, so the few recently drawn are kept parsed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from argosy import ir
from argosy.config import Settings
from argosy.errors import ArgosyError
from argosy.metadata.repository import Repository
from argosy.store import open_store
from argosy.store.base import ArtifactStore

PIPELINES_KEPT = 32


@dataclass
class Sources:
    settings: Settings
    repository: Repository
    _store: ArtifactStore | None = None
    _pipelines: OrderedDict[str, ir.Pipeline | None] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def store(self) -> ArtifactStore:
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    def pipeline(self, version: str) -> ir.Pipeline | None:
        """The pipeline recorded under ``version``; None if it was not recorded (or no longer
        validates), so that a page draws the steps without their edges."""
        with self._lock:
            if version in self._pipelines:
                self._pipelines.move_to_end(version)
                return self._pipelines[version]
        try:
            found: ir.Pipeline | None = ir.Pipeline.model_validate(
                self.repository.get_pipeline_version(version)
            )
        except (ArgosyError, ValueError):
            found = None
        with self._lock:
            self._pipelines[version] = found
            while len(self._pipelines) > PIPELINES_KEPT:
                self._pipelines.popitem(last=False)
        return found


def sources(request: Request) -> Sources:
    """The `Sources` of the app (`argosy.web.site.install` made them)."""
    return request.app.state.argosy_web


Data = Annotated[Sources, Depends(sources)]

__all__ = ["Data", "Sources", "sources"]
