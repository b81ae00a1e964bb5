"""A pipeline for the S3 outage test: its middle step waits at a gate while the test stops S3.

``gate`` is a directory: ``wait_at_gate`` creates ``gate/arrived`` once its input has been read
from the store, then waits for ``gate/open`` before it returns a value to store.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from argosy import pipeline, step


@step
def produce(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64)


@step
def wait_at_gate(x: np.ndarray, gate: str) -> np.ndarray:
    (Path(gate) / "arrived").touch()
    while not (Path(gate) / "open").exists():
        time.sleep(0.05)
    return x * 2


@step
def total(y: np.ndarray) -> float:
    return float(y.sum())


@pipeline
def outage(gate: str, n: int = 1_000_000):
    return total(wait_at_gate(produce(n), gate))
