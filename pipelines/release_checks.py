"""Checks that gate a release: ordering without passing data, and a name for each call.

``summarize`` describes a generated data set. The one ``check`` step is called twice, and
``check.named(...)`` gives each call its own name (``check_count``, ``check_mean``) instead of
``check`` and ``check_2``. ``publish`` reads only the summary, not what the checks return, yet
must not run before both pass: ``.after(...)`` orders it, and a failed check skips it as it
would skip a step reading the check. ``>>`` orders ``announce`` after ``publish`` the same way.

    argosy run pipelines/release_checks.py
    argosy run pipelines/release_checks.py --param n=0   # both checks fail: the rest is skipped
"""

from __future__ import annotations

import random

from argosy import pipeline, step


@step
def make_data(n: int, seed: int) -> list[float]:
    """``n`` numbers drawn uniformly from [0, 1)."""
    draw = random.Random(seed)
    return [draw.random() for _ in range(n)]


@step
def summarize(values: list[float]) -> dict[str, float]:
    """How many values there are, and their mean (0 for none)."""
    return {"count": len(values), "mean": sum(values) / len(values) if values else 0.0}


@step
def check(summary: dict[str, float], key: str, low: float, high: float) -> bool:
    """Raise unless ``low <= summary[key] <= high``."""
    if not low <= summary[key] <= high:
        raise ValueError(f"{key} is {summary[key]}, outside [{low}, {high}]")
    print(f"{key} = {summary[key]:g} is within [{low}, {high}]")
    return True


@step
def publish(summary: dict[str, float]) -> dict[str, float]:
    """The summary, released once every check has passed."""
    print(f"publishing {summary}")
    return summary


@step
def announce(message: str) -> str:
    print(message)
    return message


@pipeline
def release_checks(n: int = 1000, seed: int = 0):
    summary = summarize(make_data(n, seed))
    count = check.named("check_count")(summary, "count", 1, 1_000_000)
    mean = check.named("check_mean")(summary, "mean", 0.4, 0.6)
    released = publish(summary).after(count, mean)
    released >> announce("the summary is published")
    return released
