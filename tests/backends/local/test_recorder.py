"""The run recorder's writer: batches, and records sent early when the scheduler asks."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from argosy.backends.local.recorder import RunRecorder
from argosy.metadata.embedded import EmbeddedSink
from argosy.metadata.embedded_reader import EmbeddedReader
from argosy.metadata.schemas import RunStatus, RunUpdate, TaskRecord
from argosy.metadata.spool import Spool
from tests.metadata.factories import run, task


class _CountingSink(EmbeddedSink):
    """An embedded sink that keeps the size of each batch it was sent."""

    batches: list[int]

    def record_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        self.batches.append(len(tasks))
        super().record_tasks(tasks)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[_CountingSink]:
    counting = _CountingSink(f"sqlite:///{tmp_path / 'metadata.db'}")
    counting.batches = []
    counting.create_run(run("r1", steps=("wide",)))
    yield counting
    counting.close()


def _recorder(sink: _CountingSink, tmp_path: Path) -> RunRecorder:
    spool = Spool(tmp_path / "spool", "r1")
    return RunRecorder(sink, spool, "r1", heartbeat_seconds=60, batch=500, max_age=60)


def _written(sink: _CountingSink, records: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while sum(sink.batches) < records and time.monotonic() < deadline:
        time.sleep(0.01)
    return sum(sink.batches) >= records


def test_a_flush_sends_what_waits_at_once_and_only_when_enough_waits(
    sink: _CountingSink, tmp_path: Path
) -> None:
    recorder = _recorder(sink, tmp_path)
    for index in range(3):
        recorder.add(task("r1", "wide", index))
    recorder.flush(least=4)  # too few: they wait for a full batch, or the run's end
    assert not _written(sink, 1, within=0.3)
    recorder.flush(least=3)
    assert _written(sink, 3)
    assert sink.batches == [3]
    recorder.add(task("r1", "wide", 3))
    recorder.close(RunUpdate(status=RunStatus.SUCCEEDED))
    assert sink.batches == [3, 1]
    reader = EmbeddedReader(sink.url)
    assert [t.index for t in reader.list_tasks("r1")] == [0, 1, 2, 3]
    reader.close()
