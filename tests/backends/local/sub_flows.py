"""Pipelines calling other pipelines as steps, for `test_sub_pipelines`.

``flaky`` fails until a marker file exists (it leaves the marker on its first try), so a
sub-pipeline around it fails its first run and succeeds when run again as a whole.
"""

from __future__ import annotations

from pathlib import Path

from argosy import pipeline, step


@step
def add_one(x: int) -> int:
    return x + 1


@step
def flaky(marker: str) -> int:
    """Fails on its first try (leaving the marker), succeeds once the marker exists."""
    path = Path(marker)
    if not path.exists():
        path.write_text("")
        raise RuntimeError("the first run of the sub-pipeline fails on purpose")
    return 1


@step
def double(x: int) -> int:
    return 2 * x


@pipeline(retries=1, backoff=0.05)
def prepare(start: int, marker: str):
    first = add_one(start)
    flaky(marker)
    return add_one.named("combine")(first)


@pipeline
def prepare_once(start: int, marker: str):
    first = add_one(start)
    flaky(marker)
    return add_one.named("combine")(first)


@pipeline
def retried(marker: str, start: int = 1):
    return double(prepare(start, marker))


@pipeline
def not_retried(marker: str, start: int = 1):
    return double(prepare_once(start, marker))


@pipeline
def twice(start: int = 1):
    """The same sub-pipeline called twice, the second call reading the first's result."""
    marker = "/nonexistent/never"  # flaky is not called: only add_one chains
    first = chain(start, marker)
    return chain(first, marker)


@pipeline
def chain(start: int, marker: str):
    return add_one.named("again")(add_one(start))
