"""`argosy gc` on real local runs: which runs go, what goes with them, and what stays usable."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from argosy.backends.local import resume_run
from argosy.client import Client
from argosy.code_package import pack
from argosy.config import Settings
from argosy.errors import StoreError
from argosy.gc import GcOptions, apply, open_repository, plan
from argosy.metadata import open_sink
from argosy.metadata.pruning import RunSelection
from argosy.metadata.schemas import RunCreate, RunStatus, task_id
from argosy.metadata.writes import utcnow
from argosy.outputs import OutputRecord, write_output
from argosy.ownership import Ownership
from argosy.store import load, open_store, save
from tests.gc import flows
from tests.gc.conftest import age, age_blobs, blobs, collect, outputs, run, run_ids


def test_old_runs_go_with_their_records_and_blobs_and_what_stays_loads_and_resumes(
    home: Settings,
) -> None:
    old, older, new = (run(home, flows.sums, n=n) for n in (3, 4, 5))
    age(home, old, days=8)
    age(home, older, days=30)
    store = open_store(home)
    payloads = {r: Client(home).run(r).output("payload").digest for r in (old, older, new)}
    before = blobs(home)

    would = collect(home, dry_run=True, created_before=utcnow() - timedelta(days=7))
    assert run_ids(home) == {old, older, new} and blobs(home) == before  # nothing deleted
    done = collect(home, created_before=utcnow() - timedelta(days=7))

    assert [r.id for r in done.runs] == [older, old] == [r.id for r in would.runs]  # oldest first
    planned, applied = would.to_json(dry_run=True), done.to_json(dry_run=True)
    assert planned.pop("cutoff") <= applied.pop("cutoff")
    assert applied == planned  # the dry run told what the real one did
    assert run_ids(home) == {new}
    for gone in (old, older):
        assert store.list_records(f"runs/{gone}/") == []
        assert payloads[gone] not in blobs(home)
    assert {blob.digest for blob in done.blobs} == before - blobs(home)
    assert done.blob_bytes > 2 * 32 * 1024  # their payloads and what else only they used
    assert done.records == sum(2 * n + 3 for n in (3, 4))  # n + 3 outputs, n logs each
    assert done.freed == done.blob_bytes + done.record_bytes
    # what the runs that stay use is all there: outputs (the squares shared with the deleted
    # runs too), logs, and a resume that takes every task over
    assert outputs(home, new)["total[0]"] == sum(x * x for x in range(5)) + 5
    assert Client(home).run(new).logs("square", 4) == "squaring 4\n"
    resumed = resume_run(new, home, max_workers=2, progress=False)
    assert resumed.succeeded and resumed.steps["square"].cloned == 5


def test_runs_go_by_status_pipeline_owner_and_keep_last(home: Settings, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    failed = run(home, flows.flaky, gate=str(gate))
    sums = [run(home, flows.sums, n=n) for n in (2, 3, 4)]
    other = _run_as(home, "someone", flows.sums, n=6)

    assert [r.id for r in collect(home, statuses=frozenset({RunStatus.FAILED})).runs] == [failed]
    done = collect(home, pipeline="sums", keep_last=2, owner="user:tester")
    assert [r.id for r in done.runs] == sums[:1]  # the newest two of the owner's stay
    assert [(r.id, r.reason) for r in done.kept] == sorted(
        (kept, "it is among the 2 newest runs of sums") for kept in sums[1:]
    )
    assert run_ids(home) == {*sums[1:], other}
    everyone = collect(home, pipeline="sums", keep_last=1)  # every owner's: the newest stays
    assert run_ids(home) == {other} and {r.id for r in everyone.runs} == set(sums[1:])


def _run_as(settings: Settings, user: str, definition, **params) -> str:
    from argosy.backends.local import run_pipeline

    ownership = Ownership(owner=f"user:{user}")
    return run_pipeline(
        definition, params, settings, max_workers=2, progress=False, ownership=ownership
    ).run_id


def test_a_live_run_and_the_blobs_stored_since_it_started_stay(home: Settings) -> None:
    finished = run(home, flows.sums, n=3)
    stray = open_store(home).put_bytes(b"stored before the live run started")
    age_blobs(home, days=2)
    sink = open_sink(home)
    live = RunCreate(id="live-run", pipeline="sums", pipeline_version="v" * 64)
    sink.create_run(live)
    sink.heartbeat(live.id)
    fresh = open_store(home).put_bytes(b"written by the live run, not recorded yet")

    done = collect(home, run_ids=(live.id, finished), grace=0)
    assert [r.id for r in done.runs] == [finished]
    assert [(r.id, r.reason) for r in done.kept] == [(live.id, "it is running")]
    assert done.held_by == live.id
    assert fresh in blobs(home) and stray not in blobs(home)

    # a runner that stops sending heartbeats leaves a lost run: failed, and it may go
    lost = home.model_copy(update={"lost_after_seconds": 0.001})
    assert [r.id for r in collect(lost, statuses=frozenset({RunStatus.FAILED})).runs] == [live.id]


def test_the_origin_of_a_resumed_run_stays_while_that_run_reads_it(
    home: Settings, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    failed = run(home, flows.flaky, gate=str(gate))
    gate.unlink()
    resumed = resume_run(failed, home, max_workers=2, progress=False)
    assert resumed.succeeded and resumed.steps["gated"].cloned == 2

    done = collect(home, statuses=frozenset({RunStatus.FAILED}))
    assert done.runs == () and [r.id for r in done.kept] == [failed]
    assert f"run {resumed.run_id} resumed it" in done.kept[0].reason
    cloned = Client(home).run(resumed.run_id)
    assert cloned.logs("gated", 2) == "gate 2\n"  # a cloned task's log is its origin's

    both = collect(home, run_ids=(failed, resumed.run_id))
    assert {r.id for r in both.runs} == {failed, resumed.run_id} and run_ids(home) == set()


def test_what_only_the_store_knows_of_the_runs_that_stay_is_kept(
    home: Settings, work: Path, tmp_path: Path
) -> None:
    imported = run(home, flows.unread)  # captured table.csv; no step read it
    gate = tmp_path / "gate"
    gate.touch()
    failed = run(home, flows.flaky, gate=str(gate))
    store = open_store(home)
    # the runner of `failed` wrote this output, then died before recording it
    unrecorded = save(store, "an output the metadata never heard of")
    record = OutputRecord(artifact=unrecorded, task=task_id(failed, "gated", 1))
    write_output(store, failed, "gated", 1, record)
    package = pack(flows.sums, store)  # a code package, as `argosy submit` leaves one
    age_blobs(home, days=2)

    kept = collect(home)  # no selection: unused blobs go, nothing else
    assert kept.runs == () and kept.blobs == ()
    table = hashlib.sha256((work / "table.csv").read_bytes()).hexdigest()
    assert {table, unrecorded.digest, package} <= blobs(home)
    assert load(store, unrecorded) == "an output the metadata never heard of"
    assert Client(home).run(imported).status == "succeeded"

    done = collect(home, run_ids=(failed, imported))
    assert {unrecorded.digest, table} <= {blob.digest for blob in done.blobs}
    assert package in blobs(home)


def test_with_no_selection_only_unused_blobs_older_than_the_grace_go(home: Settings) -> None:
    kept = run(home, flows.sums, n=2)
    store = open_store(home)
    old = store.put_bytes(b"old and unused")
    age_blobs(home, days=2)
    young = store.put_bytes(b"young and unused")

    done = collect(home, grace=3600)
    assert [blob.digest for blob in done.blobs] == [old] and done.records == 0
    assert young in blobs(home) and old not in blobs(home)
    assert run_ids(home) == {kept}
    assert [blob.digest for blob in collect(home, grace=0).blobs] == [young]
    assert outputs(home, kept)["total[0]"] == 1 + 2
    assert Client(home).run(kept).logs("square", 1) == "squaring 1\n"


def test_a_run_resumed_after_the_plan_keeps_its_origins(home: Settings, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    first = run(home, flows.flaky, gate=str(gate))
    second = resume_run(first, home, max_workers=2, progress=False).run_id  # fails again
    options = GcOptions(RunSelection(statuses=frozenset({RunStatus.FAILED})))
    store = open_store(home)
    with open_repository(home) as repository:
        planned = plan(repository, store, options)
        assert [r.id for r in planned.runs] == [first, second]
        sink = open_sink(home)  # meanwhile, someone resumes the second run
        sink.create_run(
            RunCreate(id="third", pipeline="flaky", pipeline_version="v" * 64, resumed_from=second)
        )
        sink.heartbeat("third")
        done = apply(repository, store, planned, options)
    assert done.runs == ()
    assert {r.id for r in done.kept} == {first, second}
    assert run_ids(home) == {first, second, "third"}
    assert Client(home).run(second).logs("gated", 0) == "gate 0\n"  # via first: still there


def test_a_record_that_cannot_be_read_stops_the_sweep(home: Settings, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    failed = run(home, flows.flaky, gate=str(gate))
    store = open_store(home)
    store.put_record(f"runs/{failed}/outputs/gated/1.json", b"{not json")
    stray = store.put_bytes(b"unused")
    age_blobs(home, days=2)
    with pytest.raises(StoreError, match=f"runs/{failed}/outputs/gated/1.json cannot be read"):
        collect(home)
    assert stray in blobs(home)
