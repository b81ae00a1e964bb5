"""`run_task` against a real LocalStore and the embedded SQLite metadata, one task at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.config import Settings
from argosy.errors import PipelineError, StoreUnavailable
from argosy.metadata import open_reader, open_sink
from argosy.metadata.schemas import RunCreate, TaskStatus
from argosy.metadata.sink import MetadataSink
from argosy.runtime import TaskSpec, find_output, log_metric, map_width, read_output, run_task
from argosy.store import LocalStore, load, open_store
from argosy.store.addresses import log_key
from argosy.store.base import ArtifactStore
from tests.runtime import tiny


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path)


@pytest.fixture
def store(settings: Settings) -> ArtifactStore:
    return open_store(settings)


@pytest.fixture
def sink(settings: Settings) -> MetadataSink:
    return open_sink(settings)


def _start(sink: MetadataSink, run_id: str, definition=tiny.tiny) -> None:
    pipeline = definition.ir
    sink.create_run(
        RunCreate(id=run_id, pipeline=pipeline.name, pipeline_version=pipeline.digest())
    )


def _spec(step: str, run_id: str = "r1", **fields) -> TaskSpec:
    return TaskSpec(pipeline="tests.runtime.tiny:tiny", step=step, run_id=run_id, **fields)


def _run(spec: TaskSpec, store: ArtifactStore, sink: MetadataSink, definition=tiny.tiny):
    return run_task(spec, store=store, sink=sink, definition=definition)


def test_a_fan_out_and_fan_in_run_task_by_task(
    settings: Settings, store: ArtifactStore, sink: MetadataSink
) -> None:
    _start(sink, "r1")
    params = {"n": 3}
    first = _run(_spec("produce", params=params), store, sink)
    width = map_width(tiny.tiny.ir, "shout", run_id="r1", params={"n": 3}, store=store)
    shouts = [_run(_spec("shout", index=i, params=params), store, sink) for i in range(width)]
    last = _run(_spec("gather", params=params), store, sink)

    assert first.status is TaskStatus.SUCCEEDED
    assert first.output is not None and first.output.length == 3
    assert width == 3
    assert [s.metrics for s in shouts] == [{"loudness": 0.0}, {"loudness": 1.5}, {"loudness": 3.0}]
    assert shouts[2].inputs[0].artifact == first.output and shouts[2].inputs[0].item == 2
    assert last.output is not None
    assert load(store, last.output) == "HI 0, HI 1, HI 2"
    assert [i.artifact for i in last.inputs] == [s.output for s in shouts]
    assert read_output(store, "r1", "gather", 0).artifact == last.output
    recorded = {(t.step, t.index): t for t in open_reader(settings).list_tasks("r1")}
    assert recorded["shout", 1].metrics == {"loudness": 1.5}


def test_the_log_holds_python_libc_subprocess_and_stderr_output(
    store: ArtifactStore, sink: MetadataSink
) -> None:
    _start(sink, "r1")
    _run(_spec("produce"), store, sink)
    record = _run(_spec("shout", index=1, attempt=0), store, sink)

    assert record.log_key == log_key("r1", "shout", 1, 0)
    log = (store.get_record(record.log_key) or b"").decode()
    assert log.splitlines() == [
        "python says hi 1",
        "libc says 1",
        "a subprocess says 1",
        "stderr says bye",
    ]


def test_a_raising_step_is_recorded_failed_with_its_traceback_in_the_log(
    settings: Settings, store: ArtifactStore, sink: MetadataSink
) -> None:
    _start(sink, "r2", tiny.broken)
    record = _run(_spec("explode", run_id="r2", params={"n": 7}), store, sink, tiny.broken)

    assert record.status is TaskStatus.FAILED
    assert "ValueError: cannot handle n=7" in (record.error or "")
    log = (store.get_record(record.log_key or "") or b"").decode()
    assert log.startswith("about to fail\n") and "Traceback" in log
    assert find_output(store, "r2", "explode", 0) is None
    task = open_reader(settings).list_tasks("r2")[0]
    assert task.status is TaskStatus.FAILED


@pytest.mark.parametrize("code", [0, None])
def test_a_step_that_exits_with_success_succeeds_with_no_value(
    code: int | None, store: ArtifactStore, sink: MetadataSink
) -> None:
    _start(sink, "r6", tiny.exits)
    record = _run(_spec("leave", run_id="r6", params={"code": code}), store, sink, tiny.exits)

    assert record.status is TaskStatus.SUCCEEDED, record.error
    assert record.output is not None and load(store, record.output) is None
    assert find_output(store, "r6", "leave", 0) is not None


def test_a_step_that_exits_with_an_error_code_fails(
    store: ArtifactStore, sink: MetadataSink
) -> None:
    _start(sink, "r7", tiny.exits)
    record = _run(_spec("leave", run_id="r7", params={"code": 3}), store, sink, tiny.exits)

    assert record.status is TaskStatus.FAILED
    assert "SystemExit: 3" in (record.error or "")


def test_a_log_that_cannot_be_stored_does_not_hide_the_task_error(
    settings: Settings, sink: MetadataSink
) -> None:
    class LogsRefused(LocalStore):
        def put_record(self, key: str, data: bytes) -> None:
            if key.startswith("runs/") and "/logs/" in key:
                raise StoreUnavailable("the store went away")
            super().put_record(key, data)

    store = LogsRefused(settings.store_root)
    _start(sink, "r5", tiny.broken)
    failed = _run(_spec("explode", run_id="r5", params={"n": 7}), store, sink, tiny.broken)
    assert failed.status is TaskStatus.FAILED
    assert "ValueError: cannot handle n=7" in (failed.error or "")
    assert failed.log_key is None

    _start(sink, "r6")
    produced = _run(_spec("produce", run_id="r6", params={"n": 2}), store, sink)
    assert produced.status is TaskStatus.SUCCEEDED  # it printed nothing, so no log was written
    lost_log = _run(_spec("shout", run_id="r6", index=0, params={"n": 2}), store, sink)
    assert lost_log.status is TaskStatus.FAILED
    assert "StoreUnavailable: the store went away" in (lost_log.error or "")


def test_a_task_whose_upstream_has_not_run_fails_and_says_which(
    store: ArtifactStore, sink: MetadataSink
) -> None:
    _start(sink, "r3")
    record = _run(_spec("shout", run_id="r3"), store, sink)

    assert record.status is TaskStatus.FAILED
    assert "has no output of step 'produce'" in (record.error or "")


def test_mapping_over_a_value_without_length_is_a_pipeline_error(
    store: ArtifactStore, sink: MetadataSink
) -> None:
    _start(sink, "r4", tiny.broken)
    _run(_spec("scalar", run_id="r4", params={"n": 2}), store, sink, tiny.broken)

    with pytest.raises(PipelineError, match="no length"):
        map_width(tiny.broken.ir, "after", run_id="r4", params={"n": 2}, store=store)


def test_with_caching_the_second_identical_task_reuses_the_output(
    settings: Settings, store: ArtifactStore, sink: MetadataSink
) -> None:
    for run_id in ("c1", "c2"):
        _start(sink, run_id)
        _run(_spec("produce", run_id=run_id, cache=True), store, sink)
    again = open_reader(settings).list_tasks("c2")[0]
    first = open_reader(settings).list_tasks("c1")[0]

    assert again.cache_hit and not first.cache_hit
    assert again.output == first.output
    assert read_output(store, "c2", "produce", 0).artifact == first.output


def test_log_metric_outside_a_task_says_so() -> None:
    with pytest.raises(PipelineError, match="outside a running task"):
        log_metric("accuracy", 0.9)


def test_a_step_runs_its_native_thread_pools_with_the_cpus_it_asked_for(
    store: ArtifactStore, sink: MetadataSink
) -> None:
    """As in a pod with a CPU limit: float results then agree between here and the cluster."""
    from threadpoolctl import threadpool_info

    _start(sink, "r1", tiny.threads)
    spec = TaskSpec(pipeline="tests.runtime.tiny:threads", step="one_core", run_id="r1")
    record = _run(spec, store, sink, tiny.threads)
    assert record.status is TaskStatus.SUCCEEDED
    assert load(store, read_output(store, "r1", "one_core", 0).artifact) == [1]
    assert all(pool["num_threads"] >= 1 for pool in threadpool_info())  # restored afterwards
