"""A store's requests made several at once against S3 (a fan-in's reads, a resume's records),
in order, and one at a time against a local store."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from argosy.backends.argo.submit import WorkflowHandle
from argosy.backends.local import resume_run, run_pipeline
from argosy.config import Settings
from argosy.metadata.schemas import RunStatus
from argosy.runtime.inputs import resolve_inputs
from argosy.store import ArtifactStore, LocalStore, S3Store
from argosy.store.addresses import output_key
from argosy.store.concurrency import concurrently
from tests.servers.s3 import S3Server
from tests.store import fan_in_flows
from tests.store.conftest import s3_store

WIDTH = 24


class _Concurrency:
    """Only what `concurrently` asks of a store: how many requests to make at once."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency


def test_calls_run_at_once_up_to_the_store_s_concurrency_and_come_back_in_order() -> None:
    together = threading.Barrier(4, timeout=10)  # broken unless 4 reads wait at once

    def read(item: int) -> int:
        if item < 4:
            together.wait()
        return item * 10

    store: Any = _Concurrency(4)
    assert concurrently(store, read, range(12)) == [item * 10 for item in range(12)]


def test_a_concurrency_of_one_calls_in_this_thread_one_after_the_other() -> None:
    threads: list[threading.Thread] = []
    store: Any = _Concurrency(1)
    concurrently(store, lambda item: threads.append(threading.current_thread()), range(3))
    assert threads == [threading.current_thread()] * 3


def test_the_first_failure_in_order_is_raised_and_later_calls_never_start() -> None:
    second_failed = threading.Event()
    started: list[int] = []

    def read(item: int) -> int:
        started.append(item)
        if item == 1:
            second_failed.set()
            raise ValueError("item 1")
        if item == 0:
            second_failed.wait(10)
            raise ValueError("item 0")
        time.sleep(0.1)  # the rest take long enough that a second of them would all start
        return item

    store: Any = _Concurrency(2)
    with pytest.raises(ValueError, match="item 0"):
        concurrently(store, read, range(50))
    assert len(started) < 20


@pytest.fixture
def gathered_run(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> tuple[Settings, str]:
    """A finished run of `fan_in_flows.gathered`, every artifact in S3."""
    settings = s3_server.settings(s3_bucket, tmp_path / "home")
    result = run_pipeline(
        fan_in_flows.gathered, {"n": WIDTH}, settings, max_workers=2, progress=False
    )
    assert result.status is RunStatus.SUCCEEDED
    return settings, result.run_id


class _InFlight:
    """Counts the GETs and PUTs a store's client has under way, and the most of each at once;
    each waits 10 ms, as a request to a server across a network would."""

    def __init__(self, store: S3Store) -> None:
        self.now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self._lock = threading.Lock()
        for name in ("get_object", "put_object"):
            setattr(store._client, name, self._counted(name, getattr(store._client, name)))

    def _counted(self, name: str, request: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.now[name] += 1
                self.most[name] = max(self.most[name], self.now[name])
            try:
                time.sleep(0.01)
                return request(*args, **kwargs)
            finally:
                with self._lock:
                    self.now[name] -= 1

        return counted


def _counting_s3_stores(monkeypatch: pytest.MonkeyPatch) -> list[_InFlight]:
    """The counts of the S3 stores this process opens from its settings from now on."""
    in_flight: list[_InFlight] = []
    opened = S3Store.from_settings

    def counted(*args: Any, **kwargs: Any) -> S3Store:
        store = opened(*args, **kwargs)
        in_flight.append(_InFlight(store))
        return store

    monkeypatch.setattr(S3Store, "from_settings", counted)
    return in_flight


def _resolve_gather(store: ArtifactStore, run_id: str) -> dict[str, Any]:
    pipeline = fan_in_flows.gathered.ir
    resolved = resolve_inputs(
        pipeline, pipeline.step("gather"), run_id=run_id, index=0, params={"n": WIDTH}, store=store
    )
    return {"values": resolved.values, "artifacts": resolved.artifacts}


@pytest.mark.parametrize("concurrency", [1, 8])
def test_an_s3_fan_in_reads_its_children_several_at_a_time_in_map_order(
    s3_server: S3Server, s3_bucket: str, gathered_run: tuple[Settings, str], tmp_path: Path,
    concurrency: int,
) -> None:  # fmt: skip
    _, run_id = gathered_run
    cache = tmp_path / f"cache-{concurrency}"
    store = s3_store(s3_server, s3_bucket, cache, concurrency=concurrency)
    in_flight = _InFlight(store)
    resolved = _resolve_gather(store, run_id)

    squares, rows = resolved["values"]["squares"], resolved["values"]["rows"]
    assert squares == [{"x": x, "square": float(x * x)} for x in range(WIDTH)]
    assert [list(r) for r in rows] == [[float(x)] * 3 for x in range(WIDTH)]
    artifacts = resolved["artifacts"]
    assert [a.argument for a in artifacts] == ["squares"] * WIDTH + ["rows"] * WIDTH
    assert len({a.artifact.digest for a in artifacts}) == 2 * WIDTH
    most = in_flight.most["get_object"]
    assert most == 1 if concurrency == 1 else 1 < most <= concurrency


def test_a_local_store_reads_a_fan_in_as_an_s3_store_does(
    s3_server: S3Server, s3_bucket: str, gathered_run: tuple[Settings, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    for name in ("ARGOSY_S3_ENDPOINT", "ARGOSY_S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    _, run_id = gathered_run
    s3 = _resolve_gather(s3_store(s3_server, s3_bucket, tmp_path / "cache"), run_id)
    local_settings = Settings(home=tmp_path / "local-home")
    local = run_pipeline(
        fan_in_flows.gathered, {"n": WIDTH}, local_settings, max_workers=2, progress=False
    )
    assert LocalStore.concurrency == 1
    from_disk = _resolve_gather(LocalStore(local_settings.store_root), local.run_id)
    assert from_disk["values"]["squares"] == s3["values"]["squares"]
    assert [a.artifact.digest for a in from_disk["artifacts"]] == [
        a.artifact.digest for a in s3["artifacts"]
    ]


def test_resuming_an_s3_run_reads_and_writes_its_records_several_at_a_time(
    s3_server: S3Server, gathered_run: tuple[Settings, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, run_id = gathered_run
    in_flight = _counting_s3_stores(monkeypatch)
    again = resume_run(run_id, settings, max_workers=2, progress=False)

    assert again.succeeded
    assert {name: step.cloned for name, step in again.steps.items()} == {
        "numbers": 1, "square": WIDTH, "row": WIDTH, "gather": 1
    }  # fmt: skip
    assert max(store.most["get_object"] for store in in_flight) > 1  # the origin's records
    assert max(store.most["put_object"] for store in in_flight) > 1  # the clones'
    client = s3_server.client()
    for step in ("square", "row"):
        prefix = f"records/{output_key(again.run_id, step, 0).rpartition('/')[0]}/"
        bucket = settings.s3_bucket
        assert len(list(client.list_objects(bucket, prefix, recursive=True))) == WIDTH


def test_a_submitted_run_reads_a_mapped_step_s_values_several_at_a_time(
    gathered_run: tuple[Settings, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, run_id = gathered_run
    in_flight = _counting_s3_stores(monkeypatch)
    pipeline = fan_in_flows.gathered.ir
    handle = WorkflowHandle(run_id, "argosy", None, pipeline, {"n": WIDTH}, settings)  # type: ignore[arg-type]

    assert handle.output("square") == [{"x": x, "square": float(x * x)} for x in range(WIDTH)]
    assert handle.output() == sum(x * x for x in range(WIDTH)) + 3 * sum(range(WIDTH))
    assert max(store.most["get_object"] for store in in_flight) > 1
