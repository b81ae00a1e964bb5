"""The local run's task queue: which queued task goes to which worker, and when.

Active steps' tasks queue by the time they may start (retries wait out their backoff) and go to
idle workers while the machine has worker slots, memory and GPUs for them
(`argosy.backends.local.slots`), and while their map runs fewer than its ``max_parallel``.
Tasks of a step whose tasks have been short (a wide fan-out of small tasks) are also queued
behind a worker's running task, about 20 ms' worth (`StepRun.behind`), so that workers
never wait for the scheduler between them; while every worker has such a backlog the scheduler
pauses through half of it (`Dispatcher.pause`), and then wakes once for several records.

`Dispatcher` keeps each busy worker's tasks (the running one first), frees their resources as
they end, finds those past their step's timeout, and says when the next of them is due. The
scheduler (`argosy.backends.local.scheduler`) decides what is queued and what an ended task
means.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from argosy import ir
from argosy.backends.local.outcomes import StepRun
from argosy.backends.local.pool import Worker, WorkerPool
from argosy.backends.local.slots import Capacity, Claim
from argosy.runtime import TaskSpec

_LIGHT = Claim(slots=1)
"""Tasks that take one slot and nothing else are queued behind a worker's running task of the
same kind when their step's tasks are short (`StepRun.behind`)."""
_LONGEST_SLEEP = 0.1
"""The scheduler wakes at least this often (seconds): to redraw progress, to see a stop."""
_SHORTEST_PAUSE = 0.0005
"""Shorter pauses are not worth a sleep (seconds): the wake-up costs as much."""
_LONGEST_PAUSE = 0.005
"""The longest pause (seconds): timeouts and dead workers are noticed within it."""


@dataclass(order=True)
class QueuedTask:
    """One attempt of one task, waiting for a worker from ``not_before`` on."""

    not_before: float
    sequence: int
    step: str = field(compare=False)
    index: int = field(compare=False)
    attempt: int = field(compare=False)


@dataclass
class SentTask:
    """A task sent to a worker: running, or queued behind the worker's running task."""

    task: QueuedTask
    claim: Claim
    gpus: list[str]
    """The device ids granted."""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    deadline: float | None = None


class Dispatcher:
    """Sends the run's queued tasks to ``pool``'s workers as ``capacity`` allows.

    ``steps`` is the scheduler's view of every step (its tasks' resources, whether they are
    short); ``spec`` makes the spec a worker is sent for a task.
    """

    def __init__(
        self,
        pool: WorkerPool,
        capacity: Capacity,
        steps: dict[str, StepRun],
        *,
        gpu_fallback: frozenset[str],
        spec: Callable[[QueuedTask], TaskSpec],
    ) -> None:
        self._pool = pool
        self._capacity = capacity
        self._steps = steps
        self._gpu_fallback = gpu_fallback
        self._spec = spec
        self._queue: list[QueuedTask] = []
        self._sequence = itertools.count()
        self._sent: dict[Worker, deque[SentTask]] = {}
        """Per busy worker its tasks, the running one first."""
        self._active: Counter[str] = Counter()
        """Tasks of each step sent to workers and not yet back."""

    @property
    def queued(self) -> bool:
        """Whether a task waits for a worker (or for its backoff to end)."""
        return bool(self._queue)

    @property
    def busy(self) -> bool:
        """Whether a worker runs a task."""
        return bool(self._sent)

    def task(self, step: str, index: int, attempt: int, delay: float = 0.0) -> QueuedTask:
        """The attempt of task ``index`` of ``step``, to start in ``delay`` seconds (not
        queued)."""
        return QueuedTask(time.monotonic() + delay, next(self._sequence), step, index, attempt)

    def push(self, step: str, index: int, attempt: int, delay: float = 0.0) -> None:
        """Queue that attempt, to start in ``delay`` seconds or later."""
        heapq.heappush(self._queue, self.task(step, index, attempt, delay))

    def dispatch(self) -> None:
        """Send the due tasks to workers while there are workers and resources for them."""
        now = time.monotonic()
        held: list[QueuedTask] = []
        """Due tasks of maps running as many tasks as their ``max_parallel`` allows."""
        while self._queue and self._queue[0].not_before <= now:
            queued = self._queue[0]
            step = self._task_step(queued)
            if step.max_parallel is not None and self._active[step.name] >= step.max_parallel:
                held.append(heapq.heappop(self._queue))
                continue
            claim = self._capacity.claim(step, gpu_fallback=step.name in self._gpu_fallback)
            cuda = ",".join(self._capacity.next_gpus(claim)) if claim.gpus else None
            worker = self._pool.idle(cuda) if self._capacity.fits(claim) else None
            if worker is not None:
                sent = SentTask(queued, claim, self._capacity.take(claim))
                self._start(sent, step)
                self._sent[worker] = deque([sent])
            elif claim == _LIGHT and self._steps[queued.step].behind:
                worker = self._behind(self._steps[queued.step].behind)
                if worker is None:
                    break
                self._sent[worker].append(SentTask(queued, claim, []))
            else:
                break
            heapq.heappop(self._queue)
            self._active[step.name] += 1
            environment: dict[str, str | None] = {}
            if cuda is not None:
                environment["CUDA_VISIBLE_DEVICES"] = worker.cuda = cuda
            elif step.resources.gpu:
                environment["CUDA_VISIBLE_DEVICES"] = ""
            self._pool.send(worker, self._spec(queued), environment, step.resources)
        for queued in held:
            heapq.heappush(self._queue, queued)

    def finished(self, worker: Worker) -> SentTask:
        """The worker's running task finished: start the one queued behind it, if any."""
        tasks = self._sent[worker]
        done = tasks.popleft()
        self._active[done.task.step] -= 1
        if tasks:
            self._start(tasks[0], self._steps[tasks[0].task.step].step)  # takes over the slot
        else:
            del self._sent[worker]
            self._capacity.give(done.claim, done.gpus)
        return done

    def abandon(self, worker: Worker) -> SentTask:
        """The worker is gone: free its resources, queue again what waited behind its task."""
        running, *waiting = self._sent.pop(worker)
        self._capacity.give(running.claim, running.gpus)
        self._active[running.task.step] -= 1
        for behind in waiting:
            self._active[behind.task.step] -= 1
            self.push(behind.task.step, behind.task.index, behind.task.attempt)
        return running

    def overdue(self) -> list[tuple[Worker, SentTask]]:
        """Kill the workers whose running task is past its step's timeout, and abandon them
        (`abandon`); each with the task it ran."""
        now = time.monotonic()
        killed = []
        for worker, tasks in list(self._sent.items()):
            if tasks[0].deadline is not None and now >= tasks[0].deadline:
                killed.append((worker, self.abandon(worker)))
                self._pool.kill(worker)
        return killed

    def pause(self) -> None:
        """Sleep through half the work queued behind the running tasks (`backlog`), when it is
        long enough to be worth a sleep: records then pile up in the pipes, and the scheduler
        wakes once for several, where it would wake (and take a core from a worker) for each."""
        nap = self.backlog() / 2
        if nap >= _SHORTEST_PAUSE:
            time.sleep(min(nap, _LONGEST_PAUSE))

    def backlog(self) -> float:
        """Seconds of work queued behind the running tasks, on the worker with the least (each
        task its step's mean so far); 0 unless every worker has some."""
        if len(self._sent) < len(self._pool.workers):
            return 0.0
        return min(self._queued_seconds(tasks) for tasks in self._sent.values())

    def _queued_seconds(self, tasks: deque[SentTask]) -> float:
        """The seconds of work queued behind the first of ``tasks`` (its step's mean each)."""
        return sum(self._steps[sent.task.step].mean_seconds for sent in list(tasks)[1:])

    def wake_in(self, also: Iterable[float] = ()) -> float:
        """Seconds until something is due: a retry, a timeout, one of the ``also`` times (of
        `time.monotonic`), a redraw."""
        now = time.monotonic()
        due = [_LONGEST_SLEEP]
        if self._queue and self._queue[0].not_before > now:  # else it waits for a worker
            due.append(self._queue[0].not_before - now)
        due += [t[0].deadline - now for t in self._sent.values() if t[0].deadline is not None]
        due += [at - now for at in also]
        return max(0.0, min(due))

    def _task_step(self, queued: QueuedTask) -> ir.Step:
        """The step of a queued task, with the task's own resources when decided at run time."""
        run = self._steps[queued.step]
        if run.resources is None:
            return run.step
        return run.step.model_copy(update={"resources": run.resources[queued.index]})

    def _behind(self, most: int) -> Worker | None:
        """The worker running a short single-slot CPU task with the fewest tasks queued behind
        it, fewer than ``most``."""
        queues = [
            (len(tasks), worker)
            for worker, tasks in self._sent.items()
            if len(tasks) <= most
            and tasks[0].claim == _LIGHT
            and self._steps[tasks[0].task.step].behind
        ]
        return min(queues, key=lambda queue: queue[0])[1] if queues else None

    @staticmethod
    def _start(sent: SentTask, step: ir.Step) -> None:
        sent.started = datetime.now(UTC)
        if step.timeout_seconds is not None:
            sent.deadline = time.monotonic() + step.timeout_seconds


__all__ = ["Dispatcher", "QueuedTask", "SentTask"]
