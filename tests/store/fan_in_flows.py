"""A fan-out whose fan-in gathers small values and arrays, for the tests of parallel reads."""

from __future__ import annotations

import numpy as np

from argosy import pipeline, step


@step
def numbers(n: int) -> list[int]:
    return list(range(n))


@step
def square(x: int) -> dict[str, float]:
    return {"x": x, "square": float(x * x)}


@step
def row(x: int) -> np.ndarray:
    return np.full(3, x, dtype=np.float64)


@step
def gather(squares: list[dict[str, float]], rows: list[np.ndarray]) -> float:
    return sum(s["square"] for s in squares) + float(np.sum(rows))


@pipeline
def gathered(n: int = 24):
    xs = numbers(n)
    return gather(square.map(x=xs), row.map(x=xs))
