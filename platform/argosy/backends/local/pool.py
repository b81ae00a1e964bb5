"""A warm pool of worker processes, forked once, replaced when one dies or is killed.

The pool sends a `TaskSpec` to an idle worker and reports what comes back: a finished task's
`TaskRecord`, or the death of the worker that ran it (a segfault, SIGKILL, ``os._exit``). A
worker that overran its task's timeout is killed with its whole process group and replaced.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from argosy.backends.local.worker import Environment, serve
from argosy.config import Settings
from argosy.dsl import PipelineDefinition
from argosy.metadata.schemas import TaskRecord
from argosy.runtime import TaskSpec


@dataclass(eq=False)
class Worker:
    """One worker process and the scheduler's end of its pipe."""

    process: BaseProcess
    connection: Connection
    log: Path
    """The file its tasks' output is captured in; readable when the worker dies mid-task."""
    assigned: int = 0
    """Tasks sent and not yet finished: the first one runs, the others wait in its pipe."""
    cuda: str | None = None
    """CUDA_VISIBLE_DEVICES of the GPU tasks it ran: CUDA keeps the first one it saw."""


@dataclass(frozen=True)
class Finished:
    worker: Worker
    record: TaskRecord


@dataclass(frozen=True)
class Died:
    worker: Worker
    reason: str


Event = Finished | Died


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"the worker process was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"the worker process was killed by signal {-exitcode}"
    return f"the worker process exited with code {exitcode} in the middle of the task"


class WorkerPool:
    """``size`` forked worker processes that run tasks of ``definition``."""

    def __init__(self, size: int, settings: Settings, definition: PipelineDefinition) -> None:
        self._context: Any = multiprocessing.get_context("fork")
        self._settings = settings
        self._definition = definition
        self._logs = Path(tempfile.mkdtemp(prefix="argosy-workers-"))
        self._started = itertools.count()
        self.workers: list[Worker] = []
        for _ in range(size):
            self.workers.append(self._start())

    def _start(self) -> Worker:
        ours, theirs = self._context.Pipe(duplex=True)
        inherited = [worker.connection for worker in self.workers] + [ours]
        log = self._logs / f"worker-{next(self._started)}.log"
        process = self._context.Process(
            target=serve,
            args=(theirs, inherited, self._settings, self._definition, log),
            name="argosy-worker",
        )
        process.start()
        theirs.close()
        return Worker(process=process, connection=ours, log=log)

    def idle(self, cuda: str | None = None) -> Worker | None:
        """An idle worker; for a GPU task (``cuda``), one that has not used other GPUs."""
        free = [w for w in self.workers if not w.assigned]
        if cuda is None or not free:
            return free[0] if free else None
        for worker in free:
            if worker.cuda in (None, cuda):
                return worker
        return self.replace(free[0])

    def send(self, worker: Worker, spec: TaskSpec, environment: Environment) -> None:
        worker.assigned += 1
        worker.connection.send((spec, dict(environment)))

    def wait(self, timeout: float | None) -> list[Event]:
        """What happened within ``timeout`` seconds: finished tasks and dead workers."""
        busy = [w for w in self.workers if w.assigned]
        handles: dict[Any, Worker] = {}
        for worker in busy:
            handles[worker.connection] = worker
            handles[worker.process.sentinel] = worker
        events: list[Event] = []
        seen: set[int] = set()
        for handle in wait(list(handles), timeout):
            worker = handles[handle]
            if id(worker) not in seen:
                seen.add(id(worker))
                events += self._collect(worker)
        return events

    def _collect(self, worker: Worker) -> list[Event]:
        """Every record waiting in the worker's pipe, then its death if it died."""
        events: list[Event] = []
        try:
            while worker.assigned and worker.connection.poll():
                events.append(Finished(worker, worker.connection.recv()))
                worker.assigned -= 1
        except (EOFError, OSError):
            worker.process.join()
        if worker.assigned and not worker.process.is_alive():
            worker.process.join()
            events.append(Died(worker, _exit_reason(worker.process.exitcode)))
        return events

    def kill(self, worker: Worker) -> Worker:
        """Stop ``worker`` and everything its task started; return its replacement."""
        try:
            os.killpg(worker.process.pid, signal.SIGKILL)  # type: ignore[arg-type]
        except (ProcessLookupError, PermissionError):
            worker.process.kill()
        worker.process.join()
        return self.replace(worker)

    def replace(self, worker: Worker) -> Worker:
        """Put a fresh worker in the place of ``worker`` (which must have stopped or be idle)."""
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()
        fresh = self._start()
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        """Stop every worker: idle ones are asked to exit, busy ones are killed."""
        for worker in self.workers:
            try:
                if worker.assigned:
                    os.killpg(worker.process.pid, signal.SIGKILL)  # type: ignore[arg-type]
                else:
                    worker.connection.send(None)
            except (OSError, ProcessLookupError):
                pass
        for worker in self.workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
        self.workers = []
        shutil.rmtree(self._logs, ignore_errors=True)


__all__ = ["Died", "Event", "Finished", "Worker", "WorkerPool"]
