"""One place that turns domain errors into HTTP answers; the repository never speaks HTTP.

NotFound 404, Conflict 409, AuthError 401/403, MetadataUnavailable 503, any other Argosy error
400, a malformed payload 422 naming the field (FastAPI's validation errors), text the database
cannot store because it is not valid Unicode 400 (pydantic lets lone surrogates through a plain
``str`` field; the database driver refuses them). Each body is
``{"detail": ...}`` like FastAPI's, in ASCII JSON: an error that quotes the request's text
renders even when that text is not valid Unicode (a lone surrogate such as ``\\ud800``).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from argosy.errors import ArgosyError, AuthError, Conflict, MetadataUnavailable, NotFound

_STATUS: tuple[tuple[type[ArgosyError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (MetadataUnavailable, 503),
)


class _AsciiJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode()


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
    return _AsciiJSON({"detail": str(error)}, status_code=status, headers=headers)


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return _AsciiJSON({"detail": [_sendable(e) for e in error.errors()]}, status_code=422)


def _sendable(error: dict[str, Any]) -> Any:
    """A validation error as JSON; without the input it echoes when that is not JSON (a
    non-finite number such as Infinity, which Python's parser reads)."""
    encoded = jsonable_encoder(error)
    try:
        json.dumps(encoded, allow_nan=False)
    except ValueError:
        encoded = jsonable_encoder({k: v for k, v in error.items() if k not in ("input", "ctx")})
    return encoded


async def _not_unicode(_request: Request, _error: Exception) -> JSONResponse:
    detail = (
        "the request holds text that is not valid Unicode (a lone surrogate such as \\ud800 in "
        "a JSON string); send UTF-8 text"
    )
    return _AsciiJSON({"detail": detail}, status_code=400)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ArgosyError, _argosy_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(UnicodeEncodeError, _not_unicode)


__all__ = ["install", "status_of"]
