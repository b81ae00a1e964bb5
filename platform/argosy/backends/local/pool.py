"""A warm pool of worker processes, started once, replaced when one dies or is killed.

The pool sends a `TaskSpec` to an idle worker and reports what comes back: a finished task's
`TaskRecord`, or the death of the worker that ran it (a segfault, SIGKILL, ``os._exit``). A
worker that overran its task's timeout is killed with its whole process group and replaced.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import selectors
import shutil
import signal
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from argosy.backends.local.start_method import FORK, start_method
from argosy.backends.local.worker import STOP, Environment, Order, serve
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
    """``size`` worker processes that run tasks of ``definition``.

    Forked from this process when that is safe, else started by a fork server (see
    `start_method`); `start_method` says which.
    """

    def __init__(self, size: int, settings: Settings, definition: PipelineDefinition) -> None:
        self.start_method = start_method(definition.ref)
        self._context: Any = multiprocessing.get_context(self.start_method)
        if self.start_method != FORK:
            self._context.set_forkserver_preload(["argosy.backends.local.worker"])
        self._settings = settings
        self._definition = definition
        self._logs = Path(tempfile.mkdtemp(prefix="argosy-workers-"))
        self._started = itertools.count()
        self._selector = selectors.PollSelector()  # no kernel state shared with forked workers
        self.workers: list[Worker] = []
        for _ in range(size):
            self.workers.append(self._start())

    def _start(self) -> Worker:
        ours, theirs = self._context.Pipe(duplex=True)
        log = self._logs / f"worker-{next(self._started)}.log"
        if self.start_method == FORK:  # the child inherits every pipe end and the pipeline
            inherited = [worker.connection for worker in self.workers] + [ours]
            args = (theirs, inherited, self._settings, self._definition, log)
        else:  # a fork server's child inherits nothing: it loads the pipeline by reference
            args = (theirs, [], self._settings, self._definition.ref, log)
        process = self._context.Process(target=serve, args=args, name="argosy-worker")
        process.start()
        theirs.close()  # now only the worker holds that end: its exit reads as end-of-file here
        worker = Worker(process=process, connection=ours, log=log)
        self._selector.register(ours, selectors.EVENT_READ, worker)
        return worker

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
        order = Order(spec=spec, environment=dict(environment))
        worker.connection.send_bytes(order.model_dump_json().encode())

    def wait(self, timeout: float | None) -> list[Event]:
        """What happened within ``timeout`` seconds: finished tasks and dead workers.

        One record per worker and call: a worker with more waits for the next call.
        """
        events: list[Event] = []
        for key, _ in self._selector.select(timeout):
            worker: Worker = key.data
            try:
                record = TaskRecord.model_validate_json(worker.connection.recv_bytes())
            except (EOFError, OSError):
                worker.process.join()
                if worker.assigned:
                    events.append(Died(worker, _exit_reason(worker.process.exitcode)))
                else:
                    self.replace(worker)
                continue
            worker.assigned -= 1
            events.append(Finished(worker, record))
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
        self._selector.unregister(worker.connection)
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
                    worker.connection.send_bytes(STOP)
            except (OSError, ProcessLookupError):
                pass
        for worker in self.workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            self._selector.unregister(worker.connection)
            worker.connection.close()
        self.workers = []
        self._selector.close()
        shutil.rmtree(self._logs, ignore_errors=True)


__all__ = ["Died", "Event", "Finished", "Worker", "WorkerPool"]
