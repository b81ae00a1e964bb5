"""``/ui/diff/{a}/{b}``: what differs between two runs: pipeline and version, status and
timing side by side, every parameter (changed ones marked), the outputs that changed and the
metrics that changed, with their difference. Long lists are cut at `SHOWN` rows."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from argosy.web.auth import PageViewer
from argosy.web.render import page
from argosy.web.sources import Data
from argosy.web.urls import UI_PREFIX

router = APIRouter(include_in_schema=False)
SHOWN = 200


@router.get(f"{UI_PREFIX}/diff/{{a}}/{{b}}")
def diff_page(request: Request, data: Data, _viewer: PageViewer, a: str, b: str) -> Response:
    runs = data.repository.get_run(a), data.repository.get_run(b)
    diff = data.repository.diff_runs(a, b)
    changed = {change.key for change in diff.parameters}
    names = list(dict.fromkeys([*runs[0].parameters, *runs[1].parameters]))
    parameters = [
        (name, runs[0].parameters.get(name), runs[1].parameters.get(name), name in changed)
        for name in names
    ]
    metrics = [(change, _delta(change.a, change.b)) for change in diff.metrics[:SHOWN]]
    return page(
        request,
        "diff.html",
        a=runs[0],
        b=runs[1],
        diff=diff,
        parameters=parameters,
        outputs=diff.outputs[:SHOWN],
        metrics=metrics,
        shown=SHOWN,
    )


def _delta(a: object, b: object) -> float | None:
    """``b - a`` for two numbers; None otherwise (a metric one run lacks)."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return b - a
    return None


__all__ = ["router"]
