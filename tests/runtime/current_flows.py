"""Pipelines whose steps return what `argosy.current` says, for `test_current`.

``stubborn`` fails until its attempt number reaches ``tries``; ``flaky`` fails the first time
(leaving a marker file), so the sub-pipeline ``part`` around it fails its first run and
succeeds when run again as a whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from argosy import current, pipeline, run_status, step


def seen() -> dict[str, Any]:
    """What `argosy.current` says in the running step, as JSON data."""
    scheduled = current.scheduled_time
    return {
        "is_running": current.is_running,
        "run_id": current.run_id,
        "pipeline": current.pipeline,
        "step": current.step,
        "index": current.index,
        "attempt": current.attempt,
        "run_status": current.run_status,
        "scheduled_time": None if scheduled is None else scheduled.isoformat(),
    }


@step
def numbers(n: int) -> list[int]:
    return list(range(n))


@step
def look(x: int) -> dict[str, Any]:
    return seen() | {"x": x}


@step(retries=2, backoff=0)
def stubborn(tries: int) -> dict[str, Any]:
    if current.attempt < tries:
        raise RuntimeError(f"attempt {current.attempt} fails on purpose")
    return seen()


@step
def finale(status: str) -> dict[str, Any]:
    return seen() | {"argument": status}


@pipeline
def observed(n: int = 3, tries: int = 2):
    """A fan-out, a step that succeeds on its third try, and an exit handler."""
    stubborn(tries)
    finale(run_status()).on_exit()
    return look.map(numbers(n))


@step
def flaky(marker: str) -> dict[str, Any]:
    path = Path(marker)
    if not path.exists():
        path.write_text("")
        raise RuntimeError("the first run of the sub-pipeline fails on purpose")
    return seen()


@pipeline(retries=1, backoff=0.05)
def part(marker: str):
    return flaky(marker)


@pipeline
def regrouped(marker: str):
    return part(marker)


@step
def stamp() -> dict[str, Any]:
    return seen()


@pipeline
def stamped():
    return stamp()


@step
def write_note(text: str) -> Path:
    """A file written in the task's own directory, returned as a path output."""
    folder = current.tempdir
    assert folder == current.tempdir and folder.is_dir()  # one directory per task
    (folder / "note.txt").write_text(text)
    return folder / "note.txt"


@step
def read_note(note: Path) -> dict[str, Any]:
    return {"text": note.read_text(), "name": note.name}


@pipeline(project="seen")
def noted(text: str = "hello"):
    return read_note(write_note(text))


@step
def whose() -> dict[str, Any]:
    return {"project": current.project, "owner": current.owner, "tags": current.tags}


@pipeline(project="seen")
def owned():
    whose()
