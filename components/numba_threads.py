"""numba's threading layer for the components' ``prange`` kernels: one that survives a fork.

Argosy's local workers are forked from the scheduler's process. GNU OpenMP, numba's default
threading layer on Linux, aborts a forked child once the parent has used it (a notebook or a
test that ran a parallel kernel before ``.run()``); numba's ``forksafe`` choice avoids that.
"""

from __future__ import annotations

import numba


def prefer_fork_safe_threads() -> None:
    """Ask numba for a fork-safe threading layer, unless the user chose one.

    A user's ``NUMBA_THREADING_LAYER`` wins. numba reads the setting at its first parallel
    launch in the process, so modules with parallel kernels call this when imported.
    """
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER = "forksafe"


__all__ = ["prefer_fork_safe_threads"]
