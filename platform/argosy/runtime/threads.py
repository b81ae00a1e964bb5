"""How many threads a step's native libraries use: as many as the CPUs the step asked for.

A step with ``Resources(cpu=1)`` runs its BLAS and OpenMP code (numpy, scipy, scikit-learn) on
one thread wherever it runs. In a pod the CPU limit already makes scikit-learn pick one, but a
local worker would see every core of the machine: then sums are taken in another order, float
results differ in their last bits from the cluster's, and two workers oversubscribe the cores.

A `threadpoolctl.ThreadpoolController` finds the loaded libraries; it is made again only when
modules were imported since (a warm worker's later tasks reuse it), so limiting and restoring
them around a task is a few calls into them. Libraries a step first imports inside its own body
are loaded after the limit is set, and keep their defaults for that task.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_found: tuple[int, ThreadpoolController] | None = None
"""The controller, and how many modules were imported when it looked."""


def _controller() -> ThreadpoolController:
    global _found
    imported = len(sys.modules)
    if _found is None or _found[0] != imported:
        _found = (imported, ThreadpoolController())
    return _found[1]


@contextmanager
def limited_threads(cpu: float) -> Iterator[int]:
    """Limit the loaded thread pools to ``ceil(cpu)`` threads for the duration; yield that."""
    threads = max(1, math.ceil(cpu))
    with _controller().limit(limits=threads):
        yield threads


__all__ = ["limited_threads"]
