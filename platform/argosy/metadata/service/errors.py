"""One place that turns domain errors into HTTP answers; the repository never speaks HTTP.

NotFound 404, Conflict 409, AuthError 401/403, MetadataUnavailable 503, any other Argosy error
400, a malformed payload 422 naming the field (FastAPI's own validation). Each body is
``{"detail": "..."}`` like FastAPI's.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from argosy.errors import ArgosyError, AuthError, Conflict, MetadataUnavailable, NotFound

_STATUS: tuple[tuple[type[ArgosyError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (MetadataUnavailable, 503),
)


def status_of(error: ArgosyError) -> int:
    if isinstance(error, AuthError):
        return error.status_code
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


async def _argosy_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ArgosyError)
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": str(error)}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handler on ``app``."""
    app.add_exception_handler(ArgosyError, _argosy_error)


__all__ = ["install", "status_of"]
