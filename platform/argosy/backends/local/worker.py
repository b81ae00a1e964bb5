"""The loop a warm worker process runs: receive a `TaskSpec`, run it, send the `TaskRecord` back.

Workers import the pipeline once (forked from the scheduler, they have it already; started by a
fork server, they load it by reference) and run many tasks. They never write metadata:
`run_task` records into a `_DeferredSink` that keeps nothing, and the scheduler records the
returned `TaskRecord`s in batches, so only one process writes to the embedded database.
Cache look-ups read the database directly.

A worker dies with the process that started it, and keeps what its tasks start in its own
process tree, which it empties after each task (`argosy.backends.local.process_tree`): a
process a task left behind never writes into the next task's log.
"""

from __future__ import annotations

import faulthandler
import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

from pydantic import BaseModel, Field

from argosy.backends.local.process_tree import adopt_orphans, die_with_parent, end_task
from argosy.config import Settings
from argosy.dsl import PipelineDefinition, load_pipeline
from argosy.metadata import MetadataSink, open_sink
from argosy.metadata.schemas import RunCreate, RunUpdate, TaskRecord
from argosy.metadata.spool import TaskSpool, spool_dir
from argosy.runtime import TaskSpec, run_task
from argosy.runtime.capture import limit_logs
from argosy.store import open_store

Environment = Mapping[str, str | None]
"""Variables set (or, with None, unset) in the worker for the duration of one task."""

STOP = b""
"""The message that tells a worker to exit."""


class Order(BaseModel):
    """What the scheduler sends a worker: a task, and the environment to run it in.

    Orders and the `TaskRecord`s that answer them cross the pipe as JSON, which pydantic reads
    and writes several times faster than pickle does.
    """

    spec: TaskSpec
    environment: dict[str, str | None] = Field(default_factory=dict)


class _DeferredSink:
    """A sink for a worker: writes are left to the scheduler, cache look-ups go to the database."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._reader: MetadataSink | None = None

    def check(self) -> None:
        return None

    def create_run(self, run: RunCreate) -> None:
        return None

    def update_run(self, run_id: str, update: RunUpdate) -> None:
        return None

    def heartbeat(self, run_id: str) -> None:
        return None

    def record_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        return None

    def find_cached(self, cache_key: str) -> TaskRecord | None:
        if self._reader is None:
            self._reader = open_sink(self._settings)
        return self._reader.find_cached(cache_key)


@contextmanager
def _environment(changes: Environment) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in changes}
    _apply(changes)
    try:
        yield
    finally:
        _apply(saved)


def _apply(values: Environment) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def serve(
    connection: Connection,
    inherited: Sequence[Connection | IO[bytes]],
    settings: Settings,
    definition: PipelineDefinition | str,
    log: Path,
) -> None:
    """Run the `Order`s sent over ``connection`` until it closes or sends `STOP`.

    Task output is captured in ``log``, where the scheduler finds it if the worker dies.
    """
    die_with_parent()
    os.setpgrp()  # out of reach of the terminal's Ctrl-C; the guardian kills this group
    adopt_orphans()
    faulthandler.enable(file=2)  # a crash writes its Python stack into the captured output
    limit_logs(settings.max_log_bytes)
    for other in inherited:
        other.close()  # the pool's ends of pipes: EOF must reach their readers when it exits
    if isinstance(definition, str):
        definition = load_pipeline(definition)
    store = open_store(settings)
    sink = _DeferredSink(settings)
    definitions = {definition.ref: definition}
    spool = functools.cache(functools.partial(TaskSpool, spool_dir(settings)))
    while True:
        try:
            message = connection.recv_bytes()
        except (EOFError, OSError):
            return
        if message == STOP:
            return
        order = Order.model_validate_json(message)
        spec = order.spec
        if spec.pipeline not in definitions:
            definitions[spec.pipeline] = load_pipeline(spec.pipeline)
        with _environment(order.environment):
            record = run_task(
                spec, store=store, sink=sink, definition=definitions[spec.pipeline], capture_to=log
            )
        end_task()
        data = record.model_dump_json().encode()
        spool(spec.run_id).add_task(data)  # kept, should the runner die before it reads it
        connection.send_bytes(data)


__all__ = ["STOP", "Environment", "Order", "serve"]
