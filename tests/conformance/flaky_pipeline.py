"""A pipeline whose join fails until a marker file exists: what a resume test needs."""

from __future__ import annotations

import os

from argosy import pipeline, step


@step
def numbers(width: int) -> list[int]:
    return list(range(width))


@step
def square(x: int) -> int:
    return x * x


@step
def total(squares: list[int], marker: str) -> int:
    if not os.path.exists(marker):
        raise RuntimeError(f"{marker} does not exist yet")
    return sum(squares)


@pipeline
def flaky(width: int = 4, marker: str = "/nonexistent"):
    return total(square.map(x=numbers(width)), marker)
