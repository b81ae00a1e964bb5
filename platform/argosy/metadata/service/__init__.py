"""The metadata service: a FastAPI app over `argosy.metadata.repository.Repository`.

Start it with ``argosy server``, ``uvicorn --factory argosy.metadata.service:create_app`` or
``uvicorn argosy.metadata.service:app``; the last two read their settings from the ``ARGOSY_``
environment, and nothing is built when `argosy.metadata` is imported.
"""

from __future__ import annotations

from argosy.metadata.service.app import create_app

__all__ = ["create_app"]
