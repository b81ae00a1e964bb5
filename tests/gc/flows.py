"""Pipelines the gc tests run; workers load them by reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from argosy import importer, pipeline, step, when


@step
def numbers(n: int) -> list[int]:
    return list(range(n))


@step
def square(x: int) -> int:
    print(f"squaring {x}")  # a log per task
    return x * x


@step
def payload(n: int) -> np.ndarray:
    return np.full(4096, n, dtype=np.int64)  # 32 KiB that only this run's n makes


@step
def total(values: list[int], data: np.ndarray) -> int:
    return sum(values) + int(data[0])


@pipeline
def sums(n: int = 3):
    """Squares shared by runs with overlapping n, and a payload of each run's own."""
    return total(square.map(x=numbers(n)), payload(n))


@step
def gated(x: int, gate: str) -> int:
    print(f"gate {x}")
    if x == 1 and Path(gate).exists():
        raise RuntimeError(f"the gate {gate} is closed")
    return x + 100


@pipeline
def flaky(gate: str, n: int = 3):
    """Fails while the file ``gate`` exists: a run to resume."""
    return gated.map(x=numbers(n), gate=gate)


@step
def size_of(data: Path) -> int:
    return data.stat().st_size


@pipeline
def unread(read: str = "no"):
    """Imports a file that no step reads unless ``read`` is ``yes``."""
    data = importer("table.csv")
    with when(read == "yes"):
        size_of(data)
