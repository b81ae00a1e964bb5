"""The metadata service: a FastAPI app over `argosy.metadata.repository.Repository`.

Start it with ``argosy server`` or ``uvicorn --factory argosy.metadata.service:create_app``
(settings from the ``ARGOSY_`` environment). ``uvicorn argosy.metadata.service:app`` works too:
``app`` is built from the environment on first access, never when `argosy.metadata` is imported.
"""

from __future__ import annotations

from typing import Any

from argosy.metadata.service.app import create_app


def __getattr__(name: str) -> Any:
    if name == "app":
        from argosy.config import Settings

        return create_app(Settings())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["create_app"]
