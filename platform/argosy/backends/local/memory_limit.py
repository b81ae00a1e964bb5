"""Memory limits of local tasks, enforced the way Kubernetes enforces a pod's.

A step's ``Resources(memory=...)`` is both the request and the limit of its pod on the cluster
(`argosy.backends.argo.pod_settings`); here it is the limit too. The pool measures a limited
task's whole process tree (the worker and all its task started) from outside, every `INTERVAL`
seconds, so a task stuck in native code is measured all the same, and kills the tree once it
holds more than the limit: the attempt fails as OOMKilled and is retried like a pod would be.
Tasks without a limit are not measured at all. As a pod's interpreter holds its imports, a
warm worker holds what it imported for earlier tasks; a retry runs on a fresh worker.

Resident sizes of the tree's processes are read every time; only when together they exceed
the limit are proportional sizes read (``/proc/PID/smaps_rollup``, Linux 4.14 or later), which
count a page shared by several processes (a forked child's, its parent's) once in all.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from argosy import ir
from argosy.backends.local.process_tree import descendants, stat
from argosy.quantities import memory_bytes

INTERVAL = 0.05
"""Seconds between two measurements of a limited task."""
RESCAN = 0.5
"""Seconds between two looks for the processes in a task's tree (each reads all of /proc)."""


@dataclass(frozen=True)
class MemoryLimit:
    quantity: str
    """As the step wrote it (``"256Mi"``)."""
    bytes: int


def memory_limit(resources: ir.Resources) -> MemoryLimit | None:
    """The limit ``resources`` set; None without a memory request."""
    if resources.memory is None:
        return None
    return MemoryLimit(resources.memory, memory_bytes(resources.memory))


class TreeMemory:
    """The memory held by the process tree below (and with) one worker."""

    def __init__(self, root: int) -> None:
        self._root = root
        self._members = [root]
        self._scanned = -math.inf

    def over(self, limit: int) -> int | None:
        """Bytes the tree holds when that is more than ``limit``, else None."""
        now = time.monotonic()
        if now - self._scanned >= RESCAN:
            self._members = [self._root] + [p.pid for p in descendants(self._root)]
            self._scanned = now
        live = [p for p in map(stat, self._members) if p is not None]
        if sum(p.resident for p in live) <= limit:
            return None
        held = sum(_proportional(p.pid) for p in live)
        return held if held > limit else None


def _proportional(pid: int) -> int:
    """The proportional set size of ``pid`` in bytes; 0 once it has exited."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as file:
            for line in file:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def oom_reason(limit: MemoryLimit, held: int) -> str:
    """What an attempt that was killed for holding ``held`` bytes records."""
    return (
        f"OOMKilled: the task used more than its memory limit of {limit.quantity} "
        f"({_size(held)} when it was stopped); raise Resources(memory=...)"
    )


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.0f} MiB"


__all__ = ["INTERVAL", "MemoryLimit", "TreeMemory", "memory_limit", "oom_reason"]
