"""The guardian of worker pools: it kills what the workers' tasks started if the runner dies.

Workers die with the runner (`process_tree.die_with_parent`), but the processes their tasks
started would live on under init. The guardian, a small process of its own session started
with the runner's first pool, is told each worker's process group (the worker's id: workers
call ``setpgrp``) and when it is gone; when its standard input reaches end-of-file, because
the runner exited or died, it SIGKILLs the groups still listed. It runs this file as a script,
so it imports the standard library only. A process that left its worker's group (``setsid``)
is out of its reach: the pool kills those through the worker's tree while the worker lives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress
from functools import cache
from typing import IO


class Guardian:
    """The runner's side: start the guardian, tell it the groups."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__],
            stdin=subprocess.PIPE,
            bufsize=0,
            start_new_session=True,  # no Ctrl-C, and no signal sent to the runner's group
        )
        assert self._process.stdin is not None
        self.pipe: IO[bytes] = self._process.stdin
        """The end of the pipe written here: a forked worker must close its copy at once."""

    def watch(self, group: int) -> None:
        self._tell(b"+%d\n" % group)

    def forget(self, group: int) -> None:
        """``group`` has no process left: its id may be reused."""
        self._tell(b"-%d\n" % group)

    def _tell(self, line: bytes) -> None:
        with suppress(BrokenPipeError):  # it was killed: nothing to be done
            self.pipe.write(line)


@cache
def guardian() -> Guardian:
    """This process's guardian, started on first use; it ends when this process does."""
    return Guardian()


def _guard() -> None:
    """The guardian process: read ``+GROUP`` and ``-GROUP`` lines, kill the groups at the end."""
    groups: set[int] = set()
    for line in sys.stdin.buffer:
        group = int(line[1:])
        if line.startswith(b"+"):
            groups.add(group)
        else:
            groups.discard(group)
    for group in groups:
        with suppress(OSError):
            os.killpg(group, signal.SIGKILL)


if __name__ == "__main__":
    _guard()


__all__ = ["Guardian", "guardian"]
