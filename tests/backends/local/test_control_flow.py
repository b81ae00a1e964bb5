"""Control flow in real local runs: conditions and joins, ``catch``, failure handlers and the
run status they leave, outcomes of a partly failing map, exit handlers, zipped, crossed and
limited maps, and resources decided at run time (pipelines in `control_flows`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from argosy import ir
from argosy.backends.local import RunResult, run_pipeline
from argosy.config import Settings
from argosy.dsl import PipelineDefinition
from argosy.metadata import open_reader
from argosy.metadata.schemas import RunStatus, TaskPublic, TaskStatus
from tests.backends.local import control_flows as flows
from tests.backends.local.conftest import output, tasks


def _run(
    definition: PipelineDefinition, settings: Settings, *, max_workers: int = 2, **params: Any
) -> RunResult:
    return run_pipeline(definition, params, settings, max_workers=max_workers, progress=False)


def _ends(settings: Settings, run_id: str) -> dict[str, str]:
    """How each step of the run ended: the status of each of its tasks (joined by commas, in
    index order), or for a skipped step why it was skipped."""
    ends: dict[str, list[str]] = {}
    for (step, _), task in sorted(tasks(settings, run_id).items()):
        skipped = task.status is TaskStatus.SKIPPED
        ends.setdefault(step, []).append(str(task.error) if skipped else task.status.value)
    return {step: ",".join(each) for step, each in ends.items()}


def _run_error(settings: Settings, run_id: str) -> str | None:
    return open_reader(settings).get_run(run_id).error


def _span(task: TaskPublic) -> tuple[datetime, datetime]:
    """When the task started and finished."""
    assert task.started_at is not None and task.finished_at is not None, task
    return task.started_at, task.finished_at


def _most_at_once(recorded: list[TaskPublic]) -> int:
    """The most of ``recorded`` that were running at the same moment."""
    spans = [_span(task) for task in recorded]
    return max(sum(s <= start < e for s, e in spans) for start, _ in spans)


SUCCEEDED = "succeeded"


@pytest.mark.parametrize(
    ("seed", "big", "expected", "joined"),
    [
        (
            0,
            10,
            {
                "heads": SUCCEEDED,
                "heads_and_big": SUCCEEDED,
                "tails": "skipped: condition flip == 'tails' is false",
                "loud_heads": SUCCEEDED,
                "joined": SUCCEEDED,
            },
            "H",
        ),
        (
            0,
            9,
            {
                "heads": SUCCEEDED,
                "heads_and_big": "skipped: condition big >= 10 is false",
                "tails": "skipped: condition flip == 'tails' is false",
                "loud_heads": SUCCEEDED,
                "joined": SUCCEEDED,
            },
            "H",
        ),
        (
            1,
            10,
            {
                "heads": "skipped: condition flip == 'heads' is false",
                "heads_and_big": "skipped: condition flip == 'heads' is false",
                "tails": SUCCEEDED,
                "loud_heads": "skipped: step 'heads' skipped",
                "joined": SUCCEEDED,
            },
            "T",
        ),
        (
            2,
            10,
            {
                "heads": "skipped: condition flip == 'heads' is false",
                "heads_and_big": "skipped: condition flip == 'heads' is false",
                "tails": "skipped: condition flip == 'tails' is false",
                "loud_heads": "skipped: step 'heads' skipped",
                "joined": "skipped: none of steps heads, tails ran",
            },
            None,
        ),
    ],
    ids=["heads and big", "heads and small", "tails", "neither side"],
)
def test_only_branches_whose_conditions_hold_run_and_the_join_takes_the_one_that_ran(
    settings: Settings, seed: int, big: int, expected: dict[str, str], joined: str | None
) -> None:
    result = _run(flows.coin, settings, seed=seed, big=big)

    assert result.status is RunStatus.SUCCEEDED  # skipped by conditions, not by a failure
    assert _ends(settings, result.run_id) == {"flip": SUCCEEDED, **expected}
    if joined is not None:
        assert output(settings, result, "joined") == joined


def test_a_catch_task_failing_for_good_is_caught_with_none_in_the_fan_in(
    settings: Settings,
) -> None:
    result = _run(flows.catching, settings)

    assert result.status is RunStatus.SUCCEEDED
    assert _ends(settings, result.run_id) == {
        "fragile": "succeeded,caught,succeeded",
        "gather": SUCCEEDED,
    }
    caught = tasks(settings, result.run_id)["fragile", 1]
    assert (caught.attempt, caught.attempts) == (1, 2)  # caught only once its retry failed too
    assert "ValueError: two is too fragile" in (caught.error or "")
    assert output(settings, result, "gather") == [10, None, 30]
    assert result.steps["fragile"].failed == 0


@pytest.mark.parametrize(
    ("definition", "fail", "expected", "status"),
    [
        (
            flows.handled,
            True,
            {"work": "failed", "cleanup": SUCCEEDED},
            RunStatus.SUCCEEDED,
        ),
        (
            flows.handled,
            False,
            {"work": SUCCEEDED, "cleanup": "skipped: step 'work' succeeded (it runs on failed)"},
            RunStatus.SUCCEEDED,
        ),
        (
            flows.unhandled,
            True,
            {"work": "failed", "cleanup": SUCCEEDED, "shout": "skipped: step 'work' failed"},
            RunStatus.FAILED,
        ),
    ],
    ids=["handled failure", "no failure", "failure skipping a reader"],
)
def test_a_failure_handler_runs_only_on_failure_and_only_unhandled_failures_fail_the_run(
    settings: Settings,
    definition: PipelineDefinition,
    fail: bool,
    expected: dict[str, str],
    status: RunStatus,
) -> None:
    result = _run(definition, settings, fail=fail)

    assert _ends(settings, result.run_id) == expected
    assert result.status is status
    error = _run_error(settings, result.run_id)
    assert error == (None if status is RunStatus.SUCCEEDED else "step(s) failed: work")


@pytest.mark.parametrize(
    ("xs", "attempts", "some", "none", "status"),
    [
        (
            [1, -1],
            "succeeded,failed",
            SUCCEEDED,
            "skipped: step 'attempt' failed (it runs on all_failed)",
            RunStatus.FAILED,  # as on Argo: a last step skipped below a failure fails the run
        ),
        (
            [-1, -2],
            "failed,failed",
            "skipped: step 'attempt' failed (it runs on any_succeeded)",
            SUCCEEDED,
            RunStatus.FAILED,
        ),
        (
            [1, 2],
            "succeeded,succeeded",
            SUCCEEDED,
            "skipped: step 'attempt' succeeded (it runs on all_failed)",
            RunStatus.SUCCEEDED,
        ),
    ],
    ids=["one of two fails", "both fail", "none fails"],
)
def test_steps_wait_for_any_success_all_failures_or_the_end_of_a_map(
    settings: Settings, xs: list[int], attempts: str, some: str, none: str, status: RunStatus
) -> None:
    result = _run(flows.partial, settings, xs=xs)

    assert _ends(settings, result.run_id) == {
        "attempt": attempts,
        "some_worked": some,
        "none_worked": none,
        "whatever": SUCCEEDED,
    }
    assert result.status is status


@pytest.mark.parametrize(
    ("fail", "fail_exit", "told", "error"),
    [
        (False, False, "succeeded", None),
        (True, False, "failed", "step(s) failed: work"),
        (False, True, "succeeded", "step(s) failed: notify"),
    ],
    ids=["run succeeds", "work fails", "exit handler fails"],
)
def test_an_exit_handler_runs_last_told_how_the_run_went_and_its_failure_fails_the_run(
    settings: Settings, fail: bool, fail_exit: bool, told: str, error: str | None
) -> None:
    result = _run(flows.exiting, settings, max_workers=3, fail=fail, fail_exit=fail_exit)

    recorded = tasks(settings, result.run_id)
    exit_task = recorded.pop(("notify", 0))
    assert _span(exit_task)[0] >= max(_span(task)[1] for task in recorded.values())
    assert result.status is (RunStatus.FAILED if error else RunStatus.SUCCEEDED)
    assert _run_error(settings, result.run_id) == error
    if fail_exit:
        assert exit_task.status is TaskStatus.FAILED
        assert f"notify fails on purpose (the run {told})" in (exit_task.error or "")
    else:
        assert output(settings, result, "notify") == told


def test_zipped_maps_pair_items_and_crossed_maps_take_every_pair_row_by_row(
    settings: Settings,
) -> None:
    result = _run(flows.maps, settings)

    assert result.succeeded
    assert output(settings, result, "zipped_all") == ["a1", "b2", "c3"]
    assert output(settings, result, "crossed_all") == [
        f"{letter}{number}" for letter in "abc" for number in (1, 2, 3)
    ]
    assert result.steps["crossed"].tasks == 9


def test_zipping_lists_of_different_lengths_fails_the_map_naming_the_lengths(
    settings: Settings,
) -> None:
    result = _run(flows.maps, settings, numbers=[1, 2])

    assert result.status is RunStatus.FAILED
    error = tasks(settings, result.run_id)["zipped", 0].error or ""
    assert "pipeline 'maps', step 'zipped': zips its mapped arguments" in error
    assert "lengths differ (letter has 3, number has 2)" in error
    assert _ends(settings, result.run_id)["zipped_all"] == "skipped: step 'zipped' failed"
    assert output(settings, result, "crossed_all") == ["a1", "a2", "b1", "b2", "c1", "c2"]


def test_max_parallel_runs_at_most_that_many_tasks_of_the_map_at_once(
    settings: Settings,
) -> None:
    result = _run(flows.limited, settings, max_workers=4)

    assert result.succeeded
    naps = [task for (step, _), task in tasks(settings, result.run_id).items() if step == "nap"]
    assert len(naps) == 5
    assert _most_at_once(naps) == 2  # four workers were free, the map's limit is two


def test_each_task_of_a_map_asks_for_the_memory_decided_for_its_item(
    settings: Settings,
) -> None:
    result = _run(flows.sized, settings, max_workers=3)

    assert result.succeeded
    recorded = tasks(settings, result.run_id)
    big_first, small, big_last = (_span(recorded["sized_nap", i]) for i in range(3))
    assert small[0] < big_first[1]  # 256Mi beside most of the memory
    assert big_last[0] >= big_first[1]  # most of the memory twice would not fit


def test_memory_decided_beyond_the_machine_is_capped_to_it_as_a_static_one_is(
    settings: Settings,
) -> None:
    result = _run(flows.one_size, settings, memory="1Pi")

    assert result.succeeded
    assert output(settings, result, "sized") == "fits"


def test_a_decided_memory_that_is_no_quantity_fails_the_step_as_a_static_one_would(
    settings: Settings,
) -> None:
    with pytest.raises(ValidationError, match="'plenty' is not a memory quantity") as static:
        ir.Resources(memory="plenty")
    result = _run(flows.one_size, settings, memory="plenty")

    assert result.status is RunStatus.FAILED
    error = tasks(settings, result.run_id)["sized", 0].error or ""
    assert "step 'sized': the resources decided at run time are not valid" in error
    assert str(static.value.errors()[0]["ctx"]["error"]) in error


def test_a_memory_limit_decided_at_run_time_is_enforced_as_a_static_one_is(
    settings: Settings,
) -> None:
    result = _run(flows.decided_limit, settings)

    assert result.status is RunStatus.FAILED
    error = tasks(settings, result.run_id)["hog", 0].error or ""
    assert "OOMKilled: the task used more than its memory limit of 64Mi" in error


def test_gpus_decided_beyond_the_machine_fail_the_step_instead_of_waiting_for_ever(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    result = _run(flows.decided_gpus, settings, gpus=2)

    assert result.status is RunStatus.FAILED
    error = tasks(settings, result.run_id)["label", 0].error or ""
    assert "decided at run time to ask for 2 GPU(s), but this machine has 0" in error


def test_a_caught_failure_is_no_failure_to_a_handler_as_on_argo(settings: Settings) -> None:
    result = _run(flows.caught_then_handled, settings)

    assert result.succeeded
    assert _ends(settings, result.run_id) == {
        "risky": "caught",
        "alert": "skipped: step 'risky' succeeded (it runs on failed)",
    }


def test_a_join_whose_only_branch_that_ran_was_caught_gets_its_none(settings: Settings) -> None:
    result = _run(flows.caught_join, settings)

    assert result.succeeded
    assert _ends(settings, result.run_id) == {
        "risky": "caught",
        "other": "skipped: condition go != 'risky' is false",
        "joined": SUCCEEDED,
    }
    assert output(settings, result, "joined") is None
