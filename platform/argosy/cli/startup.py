"""The garbage collector while a command starts and when it ends: out of the way of imports.

Starting a command imports hundreds of modules; every object they make lives until the process
ends. The cyclic collector, left alone, walks them all again each time the heap has grown by a
quarter (about a tenth of a second over ``argosy run``'s imports, for nothing), and the
interpreter's shutdown walks them in several more full collections (another quarter of a
second). So `starting` turns the collector off until the command's module is imported;
`started` then sets what exists aside (`gc.freeze`: later collections skip it, and forked
workers leave its memory shared) and turns the collector back on for the command itself, which
may run for hours. At exit, one collection finalizes what is garbage then (closing the
database connections it holds, as before) and the rest is set aside, so the shutdown does not
walk it again; objects alive until the very end are freed as modules are cleared, as before,
except that cycles among them are left to the operating system (Python does not promise to
finalize objects that live until exit; a local worker ends without any of this).

When the command is the process's own (``argosy ...``, ``python -m argosy ...``: the process
ends with it), what was set aside at start stays aside, so that the collection at exit walks
only what the command made (walking the imported modules' objects again took 0.02 s of every
command). Code that calls `argosy.cli.main` with arguments in a longer process (tests) gets
its collector back as it was, nothing set aside.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def starting(*, process_ends: bool = False) -> Iterator[None]:
    """The collector off until `started`; on when the block ends, with nothing set aside
    unless the process ends with the block (``process_ends``)."""
    atexit.unregister(_end_quickly)  # once, however often a process runs commands
    atexit.register(_end_quickly)
    gc.disable()
    try:
        yield
    finally:
        if not process_ends:
            gc.unfreeze()
        gc.enable()


def started() -> None:
    """The command's modules are imported: set what exists aside, turn the collector on."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _end_quickly() -> None:
    gc.collect()
    gc.freeze()


__all__ = ["started", "starting"]
