"""What this machine has left for tasks: worker slots, memory and GPUs, and what a task takes.

A task takes ``ceil(cpu)`` worker slots, its memory request, and its GPUs by device id. A
request larger than the whole machine is capped to the whole machine (the task then runs
alone), and the run says so in a note.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from argosy import ir


def machine_memory() -> int:
    """Bytes of physical memory."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


@dataclass(frozen=True)
class Claim:
    """What one task of a step holds while it runs."""

    slots: int
    memory: int = 0
    gpus: int = 0


@dataclass
class Capacity:
    """The run's worker slots, memory and GPU device ids, and how much of each is free."""

    slots: int
    memory: int
    gpus: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._free_slots = self.slots
        self._free_memory = self.memory
        self._free_gpus = list(self.gpus)

    def claim(self, step: ir.Step, *, gpu_fallback: bool = False) -> Claim:
        """What a task of ``step`` takes (capped to the whole machine); no GPUs on fallback."""
        return Claim(
            slots=min(math.ceil(step.resources.cpu), self.slots),
            memory=min(step.resources.memory_bytes or 0, self.memory),
            gpus=0 if gpu_fallback else step.resources.gpu,
        )

    def fits(self, claim: Claim) -> bool:
        return (
            claim.slots <= self._free_slots
            and claim.memory <= self._free_memory
            and claim.gpus <= len(self._free_gpus)
        )

    def next_gpus(self, claim: Claim) -> list[str]:
        """The device ids `take` would grant."""
        return self._free_gpus[: claim.gpus]

    def take(self, claim: Claim) -> list[str]:
        """Hold ``claim``; the GPU device ids granted."""
        granted, self._free_gpus = self._free_gpus[: claim.gpus], self._free_gpus[claim.gpus :]
        self._free_slots -= claim.slots
        self._free_memory -= claim.memory
        return granted

    def give(self, claim: Claim, gpus: list[str]) -> None:
        """Release ``claim`` and the GPU device ids it was granted."""
        self._free_slots += claim.slots
        self._free_memory += claim.memory
        self._free_gpus.extend(gpus)

    def notes(self, pipeline: ir.Pipeline) -> list[str]:
        """What was capped: steps asking for more than this run has."""
        notes = []
        for step in pipeline.steps:
            if step.resources.cpu > self.slots:
                notes.append(
                    f"step {step.name!r} asks for {step.resources.cpu:g} CPUs; this run has "
                    f"{self.slots} worker slots, so each of its tasks took all of them"
                )
            if (step.resources.memory_bytes or 0) > self.memory:
                notes.append(
                    f"step {step.name!r} asks for {step.resources.memory} of memory; this "
                    f"machine has {self.memory / 2**30:.1f} GiB, so its tasks ran alone"
                )
        return notes


__all__ = ["Capacity", "Claim", "machine_memory"]
