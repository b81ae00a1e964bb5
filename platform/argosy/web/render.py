"""HTML responses of the web UI: Jinja2 templates (autoescaped), their filters, safe headers.

Everything a template prints is escaped unless it is marked safe, and nothing is: run
parameters, step names, logs and metadata are user data. The pages allow no inline script or
style and nothing from elsewhere (`SECURITY_HEADERS`), so an escape missed still runs nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from argosy.previews import human_bytes
from argosy.web import urls

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def duration(seconds: float | None) -> str:
    """``0.35 s``, ``42 s``, ``3 min 5 s``, ``2 h 10 min``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.2f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def between(start: datetime | None, end: datetime | None) -> float | None:
    """Seconds from ``start`` to ``end`` (to now while ``end`` is None); None without a start."""
    if start is None:
        return None
    return ((end or datetime.now(UTC)) - start).total_seconds()


def when(moment: datetime | None) -> str:
    """``2026-12-03 14:05:09`` in UTC; ``-`` when unknown."""
    if moment is None:
        return "-"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def as_json(value: Any) -> str:
    """A JSON value on one line, as people write it (``[2, 4]``, ``"text"``)."""
    return json.dumps(value, ensure_ascii=False)


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("argosy.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        duration=duration, when=when, bytes=human_bytes, json=as_json, short=lambda d: d[:12]
    )
    environment.globals.update(between=between)
    return environment


def page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """``template`` rendered with ``context``, the request, and URL helpers that know where the
    service is mounted (``run_url(id)``, ``artifact_url(digest)``, ...)."""
    root = request.scope.get("root_path", "")
    helpers = {
        "root": root,
        "runs_url": lambda **filters: urls.runs_url(root, **filters),
        "run_url": lambda run_id: urls.run_url(root, run_id),
        "task_url": lambda run_id, step, index=0: urls.task_url(root, run_id, step, index),
        "task_id_url": lambda task_id: urls.task_id_url(root, task_id),
        "artifact_url": lambda digest: urls.artifact_url(root, digest),
        "diff_url": lambda a, b: urls.diff_url(root, a, b),
        "static_url": lambda name: f"{root}{urls.UI_PREFIX}/static/{name}",
    }
    body = _environment().get_template(template).render(request=request, **helpers, **context)
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


__all__ = ["SECURITY_HEADERS", "between", "duration", "page", "when"]
