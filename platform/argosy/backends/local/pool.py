"""A warm pool of worker processes, started once, replaced when one dies or is killed.

The pool sends a `TaskSpec` to an idle worker and reports what comes back: a finished task's
`TaskRecord`, or the death of the worker that ran it (a segfault, SIGKILL, ``os._exit``, or an
out-of-memory kill by the pool: `argosy.backends.local.memory_limit`). A worker that overran
its task's timeout is killed and replaced. Contained as a pod is: a worker killed here goes
with every process its task started (`argosy.backends.local.process_tree`), one that died
takes its process group along, workers die with this process and a guardian kills what their
tasks left (`argosy.backends.local.guardian`), and the log of a task that never returned is
capped like any other.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import selectors
import shutil
import signal
import tempfile
import time
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from argosy import ir
from argosy.backends.local.guardian import guardian
from argosy.backends.local.memory_limit import (
    INTERVAL,
    MemoryLimit,
    TreeMemory,
    memory_limit,
    oom_reason,
)
from argosy.backends.local.process_tree import kill_tree
from argosy.backends.local.start_method import FORK, start_method
from argosy.backends.local.worker import STOP, Environment, Order, serve
from argosy.config import Settings
from argosy.dsl import PipelineDefinition
from argosy.metadata.schemas import TaskRecord
from argosy.runtime import TaskSpec
from argosy.runtime.capture import cap_log


@dataclass(eq=False)
class Worker:
    """One worker process and the scheduler's end of its pipe."""

    process: BaseProcess
    connection: Connection
    log: Path
    """The file its tasks' output is captured in; readable when the worker dies mid-task."""
    memory: TreeMemory
    sent: deque[MemoryLimit | None] = field(default_factory=deque)
    """The memory limit of each task sent and not yet finished: the first one runs, the others
    wait in its pipe."""
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
        self._guardian = guardian()
        self._measured = 0.0
        """When the memory of tasks with a limit was last measured."""
        self.workers: list[Worker] = []
        for _ in range(size):
            self.workers.append(self._start())

    def _start(self) -> Worker:
        ours, theirs = self._context.Pipe(duplex=True)
        log = self._logs / f"worker-{next(self._started)}.log"
        if self.start_method == FORK:  # the child inherits every pipe end and the pipeline
            inherited = [worker.connection for worker in self.workers] + [ours, self._guardian.pipe]
            args = (theirs, inherited, self._settings, self._definition, log)
        else:  # a fork server's child inherits nothing: it loads the pipeline by reference
            args = (theirs, [], self._settings, self._definition.ref, log)
        process = self._context.Process(target=serve, args=args, name="argosy-worker")
        process.start()
        theirs.close()  # now only the worker holds that end: its exit reads as end-of-file here
        assert process.pid is not None
        self._guardian.watch(process.pid)
        worker = Worker(process=process, connection=ours, log=log, memory=TreeMemory(process.pid))
        self._selector.register(ours, selectors.EVENT_READ, worker)
        return worker

    def idle(self, cuda: str | None = None) -> Worker | None:
        """An idle worker; for a GPU task (``cuda``), one that has not used other GPUs."""
        free = [w for w in self.workers if not w.sent]
        if cuda is None or not free:
            return free[0] if free else None
        for worker in free:
            if worker.cuda in (None, cuda):
                return worker
        return self.replace(free[0])

    def send(
        self,
        worker: Worker,
        spec: TaskSpec,
        environment: Environment,
        resources: ir.Resources | None = None,
    ) -> None:
        """Send a task; ``resources`` when the task's own differ from its step's (decided at
        run time) set its memory limit."""
        resources = resources or self._definition.ir.step(spec.step).resources
        worker.sent.append(memory_limit(resources))
        order = Order(spec=spec, environment=dict(environment))
        worker.connection.send_bytes(order.model_dump_json().encode())

    def wait(self, timeout: float | None) -> list[Event]:
        """What happened within ``timeout`` seconds: finished tasks and dead workers (every
        record a worker has sent, in the order it ran them)."""
        if self._limited():
            timeout = INTERVAL if timeout is None else min(timeout, INTERVAL)
        events: list[Event] = []
        for key, _ in self._selector.select(timeout):
            worker: Worker = key.data
            while True:
                try:
                    record = TaskRecord.model_validate_json(worker.connection.recv_bytes())
                except (EOFError, OSError):
                    if worker.sent:
                        events.append(Died(worker, _exit_reason(self._end(worker))))
                    else:
                        self.replace(worker)
                    break
                worker.sent.popleft()
                events.append(Finished(worker, record))
                if not worker.connection.poll(0):
                    break
        return events + self._over_memory()

    def _limited(self) -> list[tuple[Worker, MemoryLimit]]:
        """The busy workers whose running task has a memory limit, with the limit."""
        return [(w, w.sent[0]) for w in self.workers if w.sent and w.sent[0] is not None]

    def _over_memory(self) -> list[Died]:
        """The workers whose task's tree held more than its memory limit, killed."""
        now = time.monotonic()
        if now < self._measured + INTERVAL:
            return []
        self._measured = now
        killed = []
        for worker, limit in self._limited():
            held = worker.memory.over(limit.bytes)
            if held is not None:
                self._end(worker)
                killed.append(Died(worker, oom_reason(limit, held)))
        return killed

    def kill(self, worker: Worker) -> Worker:
        """Stop ``worker`` and everything its task started; return its replacement."""
        self._end(worker)
        return self.replace(worker)

    def replace(self, worker: Worker) -> Worker:
        """Put a fresh worker in the place of ``worker`` (killed first if it still runs)."""
        self._stop(worker)
        self._selector.unregister(worker.connection)
        worker.connection.close()
        fresh = self._start()
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        """Stop every worker: idle ones are asked to exit, busy ones are killed."""
        for worker in self.workers:
            if worker.sent:
                self._stop(worker)
            else:
                with suppress(OSError):
                    worker.connection.send_bytes(STOP)
        for worker in self.workers:
            worker.process.join(timeout=5)
            self._stop(worker)
            self._selector.unregister(worker.connection)
            worker.connection.close()
        self.workers = []
        self._selector.close()
        shutil.rmtree(self._logs, ignore_errors=True)

    def _end(self, worker: Worker) -> int | None:
        """Stop the worker of tasks that will not return, cap its log; its exit code."""
        self._stop(worker)
        worker.sent.clear()
        with suppress(FileNotFoundError):  # it died before its task's output was captured
            cap_log(worker.log, self._settings.max_log_bytes)
        return worker.process.exitcode

    def _stop(self, worker: Worker) -> None:
        """Make sure ``worker`` and all its tasks started are gone (it may have stopped)."""
        pid = worker.process.pid
        assert pid is not None
        if worker.process.exitcode is None:
            kill_tree(pid)
        with suppress(ProcessLookupError):  # what a worker that died left in its group
            os.killpg(pid, signal.SIGKILL)
        worker.process.join()
        self._guardian.forget(pid)


__all__ = ["Died", "Event", "Finished", "Worker", "WorkerPool"]
