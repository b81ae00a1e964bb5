"""The spool: a run's metadata writes, kept in local files until the metadata store has them.

A local run spools into ``<ARGOSY_HOME>/spool/<store>/``. Each worker appends the record of a
task it finished to ``<run_id>.d/<pid>.jsonl`` before it hands the record to the runner (a
record in the pipe when the runner dies is not lost); the runner appends the records it makes
itself (failures of dead workers, skips, reused tasks) and at the end the run's final status to
``<run_id>.jsonl``, and moves an acknowledged offset (``<run_id>.sent``) past each write the
store took. A runner killed with SIGKILL, or a metadata service that stays away, leaves the
files behind; the next `argosy run` or `argosy resume` against the same metadata store sends
them (`replay_spools`): the workers' records, the runner's unacknowledged ones, then the end.
Writes are idempotent, so a record sent twice is recorded once. A run that ends cleanly
removes its files.

A live runner holds an exclusive lock on its file; replay passes over locked files, so it never
races a run in progress. A file that ends without a final status belongs to a runner that died:
replay records the run as failed, resumable. A line cut short by its writer's death is ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from argosy.config import Settings
from argosy.errors import Conflict, NotFound
from argosy.metadata.schemas import RunStatus, RunUpdate, TaskRecord
from argosy.metadata.sink import MetadataSink

_BATCH = 500
"""Task records sent per call on replay."""


def spool_dir(settings: Settings) -> Path:
    """Where runs writing to this settings' metadata store spool (one folder per store)."""
    target = settings.metadata_url or settings.embedded_database_url
    return settings.home / "spool" / hashlib.sha256(target.encode()).hexdigest()[:16]


def _write_all(file: io.RawIOBase, data: bytes) -> None:
    """Write all of ``data`` unbuffered: in the kernel's hands, it outlives a SIGKILL."""
    view = memoryview(data)
    while view:
        view = view[file.write(view) or 0 :]


def _task_line(record: TaskRecord | bytes) -> bytes:
    """The spool line of a task record (given as its JSON when that is at hand)."""
    data = record if isinstance(record, bytes) else record.model_dump_json().encode()
    return b'{"task":' + data + b"}\n"


class TaskSpool:
    """A worker's spool of the task records it finishes for one run."""

    def __init__(self, directory: Path, run_id: str) -> None:
        folder = directory / f"{run_id}.d"
        folder.mkdir(parents=True, exist_ok=True)
        self._file = (folder / f"{os.getpid()}.jsonl").open("ab", buffering=0)
        if self._file.tell():  # a dead worker's file, whose pid this one got: end its last line
            _write_all(self._file, b"\n")

    def add_task(self, record: TaskRecord | bytes) -> None:
        """Append a task record, or its JSON (``record.model_dump_json().encode()``)."""
        _write_all(self._file, _task_line(record))

    def close(self) -> None:
        self._file.close()


class Spool:
    """The runner's spool file of one run, locked while it writes it."""

    def __init__(self, directory: Path, run_id: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{run_id}.jsonl"
        self._sent = self.path.with_suffix(".sent")
        fresh = self.path.with_name(f"{self.path.name}.{os.getpid()}.new")
        self._file = fresh.open("ab", buffering=0)
        fcntl.flock(self._file, fcntl.LOCK_EX)
        fresh.rename(self.path)  # locked before a replay can find it under its name

    @property
    def end(self) -> int:
        """The offset after the last entry appended."""
        return self._file.tell()

    def add_task(self, record: TaskRecord) -> int:
        """Append a task record; return the offset after it (`acknowledge` that once sent)."""
        return self._append(_task_line(record))

    def add_update(self, update: RunUpdate) -> int:
        """Append the run's final status; return the offset after it."""
        return self._append(b'{"update":' + update.model_dump_json().encode() + b"}\n")

    def _append(self, line: bytes) -> int:
        _write_all(self._file, line)
        return self._file.tell()

    def acknowledge(self, offset: int) -> None:
        """Everything before ``offset`` is in the metadata store."""
        staged = self._sent.with_suffix(".sent.tmp")
        staged.write_text(str(offset))
        os.replace(staged, self._sent)

    def close(self, *, sent: bool) -> None:
        """Release the file; remove the run's files when everything in them was ``sent``."""
        if sent:
            _remove(self.path)
        self._file.close()


def _remove(path: Path) -> None:
    """A run's spool: its file, acknowledged offset and workers' files."""
    shutil.rmtree(path.with_suffix(".d"), ignore_errors=True)
    path.with_suffix(".sent").unlink(missing_ok=True)
    path.unlink(missing_ok=True)


def replay_spools(directory: Path, sink: MetadataSink) -> list[str]:
    """Send what dead runners left in ``directory``; return the runs it was for."""
    replayed = []
    for path in sorted(directory.glob("*.jsonl")) if directory.is_dir() else []:
        try:
            file = path.open("rb")
        except FileNotFoundError:
            continue  # its run ended in the meantime
        with file:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its runner is alive
            if not _still_named(path, file.fileno()):
                continue  # its run ended, and removed it, before the lock was ours
            written = file.read()
            for worker in sorted(path.with_suffix(".d").glob("*.jsonl")):
                _replay(path.stem, worker.read_bytes(), sink)
            _replay(path.stem, written[_sent_offset(path) :], sink)
            if not any("update" in entry for entry in _entries(written)):  # its runner died
                _end(sink, path.stem, _died(path.stem))
            _remove(path)
        replayed.append(path.stem)
    return replayed


def _still_named(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _sent_offset(path: Path) -> int:
    try:
        return int(path.with_suffix(".sent").read_text())
    except (FileNotFoundError, ValueError):
        return 0


def _replay(run_id: str, unsent: bytes, sink: MetadataSink) -> None:
    tasks: list[TaskRecord] = []
    for entry in _entries(unsent):
        if "update" in entry:
            _send(sink, tasks)
            tasks = []
            with contextlib.suppress(ValidationError):
                _end(sink, run_id, RunUpdate.model_validate(entry["update"]))
            continue
        with contextlib.suppress(ValidationError):  # written by another version of Argosy
            tasks.append(TaskRecord.model_validate(entry["task"]))
        if len(tasks) >= _BATCH:
            _send(sink, tasks)
            tasks = []
    _send(sink, tasks)


def _send(sink: MetadataSink, tasks: list[TaskRecord]) -> None:
    """Record ``tasks``; one the store refuses (an attempt it has with another outcome: the
    runner recorded a worker killed after it spooled its record) is left out, not the rest."""
    try:
        sink.record_tasks(tasks)
    except (Conflict, NotFound):
        for task in tasks:
            with contextlib.suppress(Conflict, NotFound):
                sink.record_tasks([task])


def _died(run_id: str) -> RunUpdate:
    return RunUpdate(
        status=RunStatus.FAILED,
        error=(
            "the runner stopped before the run ended (it was killed, or its machine went "
            f"down); finished tasks are kept: continue with `argosy resume {run_id}`"
        ),
    )


def _entries(written: bytes) -> Iterator[dict[str, Any]]:
    """The entries of a spool file; a line cut short when its writer died is passed over."""
    for line in written.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and ("task" in entry or "update" in entry):
            yield entry


def _end(sink: MetadataSink, run_id: str, update: RunUpdate) -> None:
    with contextlib.suppress(Conflict, NotFound):  # it ended already, or was never recorded
        sink.update_run(run_id, update)


__all__ = ["Spool", "TaskSpool", "replay_spools", "spool_dir"]
