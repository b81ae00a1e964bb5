"""The local scheduler against real worker processes, a real SQLite database and a LocalStore."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from argosy.backends.local import run_pipeline
from argosy.config import Settings
from argosy.dsl import PipelineDefinition
from argosy.metadata.schemas import RunStatus, TaskStatus
from tests.backends.local import flows
from tests.backends.local.conftest import logs, output, runs_of, tasks


def test_fan_out_width_comes_from_an_upstream_output_and_fan_in_keeps_map_order(
    settings: Settings,
) -> None:
    result = run_pipeline(flows.fan, {"n": 7}, settings, max_workers=2, progress=False)

    assert result.status is RunStatus.SUCCEEDED
    assert result.steps["square"].tasks == 7
    assert output(settings, result, "collect") == [x * x for x in range(7)]
    recorded = tasks(settings, result.run_id)
    assert len(recorded) == 9
    assert all(t.status is TaskStatus.SUCCEEDED for t in recorded.values())
    assert recorded["square", 3].metrics == {"x": 3.0}
    assert recorded["square", 3].inputs[0].item == 3  # took item 3 of the upstream list


def test_an_empty_fan_out_has_no_tasks_and_its_fan_in_gets_an_empty_list(
    settings: Settings,
) -> None:
    result = run_pipeline(flows.fan, {"n": 0}, settings, progress=False)

    assert result.succeeded
    assert result.steps["square"].tasks == 0
    assert output(settings, result, "collect") == []


def test_two_workers_run_two_tasks_at_once(settings: Settings) -> None:
    params = {"seconds": [0.5, 0.5]}
    result = run_pipeline(flows.naps, params, settings, max_workers=2, progress=False)

    assert result.succeeded
    naps = tasks(settings, result.run_id).values()
    span = max(t.finished_at for t in naps) - min(t.started_at for t in naps)
    assert span.total_seconds() < 0.9, f"two 0.5 s sleeps on two workers took {span}"


@pytest.mark.parametrize(
    "definition",
    [flows.big_naps, flows.hungry_naps],
    ids=["two-cpu tasks on two slots", "tasks asking 60% of the memory"],
)
def test_tasks_that_do_not_fit_side_by_side_run_one_after_the_other(
    settings: Settings, definition: PipelineDefinition
) -> None:
    started = time.monotonic()
    result = run_pipeline(definition, {}, settings, max_workers=2, progress=False)
    took = time.monotonic() - started

    assert result.succeeded
    assert took >= 0.8, f"two 0.4 s tasks ran side by side ({took:.2f} s)"


def test_a_step_asking_more_cpus_than_slots_gets_all_of_them_with_a_note(
    settings: Settings,
) -> None:
    result = run_pipeline(
        flows.big_naps, {"seconds": [0.0]}, settings, max_workers=1, progress=False
    )

    assert result.succeeded
    assert any("big_nap" in note and "all of them" in note for note in result.notes)


def test_a_step_asking_more_memory_than_the_machine_has_runs_alone_with_a_note(
    settings: Settings,
) -> None:
    result = run_pipeline(flows.greedy_one, {}, settings, progress=False)

    assert output(settings, result, "greedy") == "fed"
    assert any("greedy" in note and "ran alone" in note for note in result.notes)


def test_a_failing_task_is_retried_with_backoff_until_it_succeeds(
    settings: Settings, marks: Path
) -> None:
    result = run_pipeline(
        flows.retrying, {"marks": str(marks), "failures": 2}, settings, progress=False
    )

    assert result.succeeded
    assert output(settings, result, "flaky") == 2
    task = tasks(settings, result.run_id)["flaky", 0]
    assert (task.attempt, task.attempts) == (2, 3)


def test_a_task_failing_more_often_than_its_retries_fails_the_run(
    settings: Settings, marks: Path
) -> None:
    result = run_pipeline(
        flows.retrying, {"marks": str(marks), "failures": 5}, settings, progress=False
    )

    assert result.status is RunStatus.FAILED
    assert runs_of(marks, "flaky") == 3
    assert "failing on purpose (attempt 2)" in result.steps["flaky"].errors[0]


def test_killed_segfaulting_and_exiting_tasks_fail_alone_and_the_pool_recovers(
    settings: Settings,
) -> None:
    result = run_pipeline(flows.crashes, {}, settings, max_workers=2, progress=False)

    assert result.status is RunStatus.FAILED
    recorded = tasks(settings, result.run_id)
    statuses = [recorded["die", i].status for i in range(7)]
    ok, failed = TaskStatus.SUCCEEDED, TaskStatus.FAILED
    assert statuses == [ok, failed, ok, failed, ok, failed, ok], result.to_json()
    assert "SIGKILL" in (recorded["die", 1].error or "")
    assert "SIGSEGV" in (recorded["die", 3].error or "")
    assert "code 3" in (recorded["die", 5].error or "")
    crash_log = logs(settings, recorded["die", 3].log_key)
    assert "Segmentation fault" in crash_log and "in die" in crash_log  # the stack, by faulthandler


def test_tasks_queued_behind_a_task_that_crashes_run_elsewhere(settings: Settings) -> None:
    hows = ["ok"] * 12 + ["sigkill"] + ["ok"] * 12  # short tasks: queued behind one another
    result = run_pipeline(flows.crashes, {"hows": hows}, settings, max_workers=2, progress=False)

    recorded = tasks(settings, result.run_id)
    failed = [i for i in range(len(hows)) if recorded["die", i].status is not TaskStatus.SUCCEEDED]
    assert failed == [12]
    assert result.steps["die"].outputs[-1] == result.steps["die"].outputs[0]  # all "ok"


def test_a_killed_task_is_retried_on_a_fresh_worker(settings: Settings, marks: Path) -> None:
    result = run_pipeline(flows.crash_once, {"marks": str(marks)}, settings, progress=False)

    assert result.succeeded
    assert output(settings, result, "die_once") == "survived"
    assert tasks(settings, result.run_id)["die_once", 0].attempts == 2


def test_a_timeout_stops_the_task_and_its_subprocesses_while_other_branches_finish(
    settings: Settings, marks: Path
) -> None:
    started = time.monotonic()
    result = run_pipeline(
        flows.hanging, {"marks": str(marks)}, settings, max_workers=2, progress=False
    )
    took = time.monotonic() - started

    assert took < 10
    assert result.steps["hang"].state == "failed"
    assert "timed out after 1 s" in result.steps["hang"].errors[0]
    assert result.steps["quick"].state == "succeeded"
    child = int((marks / "child.pid").read_text())
    assert not _alive(child), "the task's subprocess outlived the timeout"
    hang = tasks(settings, result.run_id)["hang", 0]
    assert f"waiting for {child}" in logs(settings, hang.log_key)  # what it wrote is kept


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, killed but not yet reaped by init, does not)."""
    status = Path(f"/proc/{pid}/status")
    for _ in range(20):
        try:
            state = next(ln for ln in status.read_text().splitlines() if ln.startswith("State:"))
        except FileNotFoundError:
            return False
        if "Z" in state.split()[1]:
            return False
        time.sleep(0.05)
    return True
