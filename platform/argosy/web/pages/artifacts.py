"""``/ui/artifacts/{digest}``: one artifact: its metadata, a preview of its value, the tasks
that produced and read it, and its lineage upstream or downstream, drawn and listed.

A unique prefix of a digest (12 characters, as pages print them) leads to the artifact's page.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from argosy.errors import NotFound
from argosy.metadata.reader import Direction
from argosy.previews import look
from argosy.web import urls
from argosy.web.auth import PageViewer
from argosy.web.lineage import Links, drawing
from argosy.web.render import page
from argosy.web.sources import Data
from argosy.web.urls import UI_PREFIX

router = APIRouter(include_in_schema=False)
DIGEST_LENGTH = 64
MAX_DEPTH = 10
LISTED = 200
"""Rows of the lineage table (the drawing groups what is beyond its size)."""
SHOWN_TASKS = 20
"""Producing and reading tasks listed by id (the rest are counted)."""


@router.get(f"{UI_PREFIX}/artifacts/{{digest}}")
def artifact_page(
    request: Request,
    data: Data,
    _viewer: PageViewer,
    digest: str,
    direction: Direction = "upstream",
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 2,
) -> Response:
    root = request.scope.get("root_path", "")
    try:
        artifact = data.repository.get_artifact(digest)
    except NotFound:
        if len(digest) >= DIGEST_LENGTH:
            raise
        found = data.repository.find_artifacts(digest, limit=2)
        if len(found) != 1:
            raise NotFound(
                f"no artifact has a digest starting with {digest!r}"
                if not found
                else f"several artifacts have a digest starting with {digest!r}; give more of it"
            ) from None
        query = urlencode({"direction": direction, "depth": depth})
        return RedirectResponse(f"{urls.artifact_url(root, found[0])}?{query}", 303)
    graph = data.repository.lineage(digest, direction, depth)
    links = Links(
        artifact=lambda d: urls.artifact_url(root, d),
        task=lambda run_id, step, index: urls.task_url(root, run_id, step, index),
        step=lambda run_id, step: f"{urls.run_url(root, run_id)}?{urlencode({'step': step})}",
    )
    drawn, grouped = drawing(graph, links)
    return page(
        request,
        "artifact.html",
        artifact=artifact,
        look=look(data.store, artifact),
        graph=graph,
        listed=graph.nodes[:LISTED],
        drawing=drawn,
        grouped=grouped,
        direction=direction,
        depth=depth,
        max_depth=MAX_DEPTH,
        shown_tasks=SHOWN_TASKS,
    )


__all__ = ["router"]
