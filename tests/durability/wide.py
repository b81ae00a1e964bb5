"""The pipeline the durability tests run and break: a wide fan-out of small tasks, then a fan-in.

Each ``work`` task leaves a mark in ``marks`` (a directory) when it is done, so a test can see
from outside how far a run has got before it kills something.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from argosy import pipeline, step


@step
def items(n: int) -> list[int]:
    return list(range(n))


@step(retries=3, backoff=0.2)
def work(x: int, pause: float, marks: str) -> int:
    time.sleep(pause)
    if marks:
        Path(marks).mkdir(parents=True, exist_ok=True)
        Path(marks, f"{x}.{os.getpid()}").touch()
    return x * x


@step
def total(values: list[int]) -> int:
    return sum(values)


@pipeline
def wide(n: int = 2000, pause: float = 0.0, marks: str = ""):
    return total(work.map(x=items(n), pause=pause, marks=marks, over="x"))
