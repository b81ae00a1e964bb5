"""``argosy.current``: what a running step reads about its task, in real local runs (fan-out
indices, attempts of retries and of a sub-pipeline run again, an exit handler's run status), in
``argosy task`` with ``--scheduled-time``, and the error outside a running step."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import argosy
from argosy import ir
from argosy.backends.local import RunResult, run_pipeline
from argosy.config import Settings
from argosy.errors import PipelineError
from argosy.runtime import TaskSpec, read_output
from argosy.runtime.context import TaskContext, current, running_task
from argosy.store import load, open_store
from tests.runtime import current_flows as flows

FLOWS = str(Path(flows.__file__))


def _output(settings: Settings, run_id: str, step: str, index: int = 0) -> Any:
    store = open_store(settings)
    return load(store, read_output(store, run_id, step, index).artifact)


def _run(definition: Any, settings: Settings, **params: Any) -> RunResult:
    return run_pipeline(definition, params, settings, max_workers=1, progress=False)


def test_each_task_of_a_local_run_sees_its_own_context(settings: Settings) -> None:
    result = _run(flows.observed, settings, n=3)  # one worker runs every task, one by one
    assert result.succeeded

    common = {"is_running": True, "run_id": result.run_id, "pipeline": "observed"}
    looks = [_output(settings, result.run_id, "look", i) for i in range(3)]
    assert looks == [
        common | {"step": "look", "index": i, "attempt": 0, "run_status": None,
                  "scheduled_time": None, "x": i}
        for i in range(3)
    ]  # fmt: skip
    assert _output(settings, result.run_id, "stubborn") == common | {
        "step": "stubborn", "index": 0, "attempt": 2, "run_status": None, "scheduled_time": None,
    }  # fmt: skip
    finale = _output(settings, result.run_id, "finale")
    assert (finale["run_status"], finale["argument"], finale["step"]) == (
        "succeeded", "succeeded", "finale",
    )  # fmt: skip
    assert not current.is_running  # nothing leaks out of the run either


def test_an_exit_handler_sees_a_failed_run(settings: Settings) -> None:
    result = _run(flows.observed, settings, n=1, tries=5)  # stubborn fails its three tries
    assert not result.succeeded
    assert _output(settings, result.run_id, "finale")["run_status"] == "failed"


def test_a_sub_pipeline_run_again_starts_its_tasks_attempts_from_zero(
    settings: Settings, tmp_path: Path
) -> None:
    result = _run(flows.regrouped, settings, marker=str(tmp_path / "marker"))
    assert result.succeeded
    seen = _output(settings, result.run_id, "part__flaky")
    assert (seen["step"], seen["attempt"], seen["pipeline"]) == ("part__flaky", 0, "regrouped")


def test_outside_a_running_step_fields_raise_and_is_running_is_false() -> None:
    assert argosy.current is current
    assert current.is_running is False
    with pytest.raises(PipelineError, match=r"current\.run_id only exists while Argosy runs"):
        current.run_id
    with pytest.raises(AttributeError, match="has no 'run'; it has is_running, tempdir, run_id"):
        current.run
    with pytest.raises(PipelineError, match="only exists while Argosy runs a step"):
        flows.stamp()  # a step called as a plain function, as in a unit test


def _spec(**fields: Any) -> TaskSpec:
    return TaskSpec(pipeline="p.py", step="fit", run_id="r1", **fields)


def test_the_context_is_made_from_the_spec_and_reset_after_the_task() -> None:
    pipeline = ir.Pipeline(
        name="sweep",
        steps=[ir.Step(name="fit", function="m:fit", code_digest="0" * 64,
                       retry=ir.Retry(limit=2))],
    )  # fmt: skip
    when = datetime(2026, 1, 2, 2, 0, tzinfo=UTC)
    spec = _spec(
        index=4, attempt=4, run_status="Failed", scheduled_time=when, project="lab",
        owner="production", tags=["nightly"],
    )  # fmt: skip
    context = TaskContext.of(spec, pipeline)
    # attempt 4 is the second try (of three) of the sub-pipeline's second run
    assert context == TaskContext(run_id="r1", pipeline="sweep", step="fit", index=4, attempt=1,
                                  run_status="failed", scheduled_time=when, project="lab",
                                  owner="production", tags=["nightly"])  # fmt: skip
    with running_task(context):
        assert (current.index, current.scheduled_time) == (4, when)
        with running_task(TaskContext.of(_spec(), pipeline)):
            assert current.index == 0
        assert current.index == 4
    assert not current.is_running


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-01-02T03:00:00+01:00", "2026-01-02T03:00:00+01:00"),
        ("2026-01-02T02:00:00Z", "2026-01-02T02:00:00+00:00"),
        ("{{workflow.scheduledTime}}", None),  # a workflow no CronWorkflow started
    ],
)
def test_argosy_task_passes_the_scheduled_time_to_the_step(
    tmp_path: Path, given: str, expected: str | None
) -> None:
    done = _task(tmp_path, "--scheduled-time", given)
    assert done.returncode == 0, done.stderr
    seen = _output(Settings(home=tmp_path), "pod-run", "stamp")
    assert (seen["scheduled_time"], seen["run_id"], seen["step"]) == (expected, "pod-run", "stamp")


def test_argosy_task_refuses_a_scheduled_time_it_cannot_read(tmp_path: Path) -> None:
    done = _task(tmp_path, "--scheduled-time", "tomorrow at three")
    assert done.returncode == 1
    assert "--scheduled-time: 'tomorrow at three' is not an RFC 3339 time" in done.stderr
    assert "Traceback" not in done.stderr


def _task(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"ARGOSY_HOME": str(home)}
    command = [sys.executable, "-m", "argosy", "task", "--pipeline", f"{FLOWS}:stamped",
               "--step", "stamp", "--run-id", "pod-run", *args]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_a_task_writes_files_in_its_own_directory_removed_after(settings: Settings) -> None:
    result = _run(flows.noted, settings)
    assert result.succeeded, result.steps
    assert _output(settings, result.run_id, "read_note") == {"text": "hello", "name": "note.txt"}
    staging = open_store(settings).staging_dir()
    assert not list(staging.glob("task-*")), "the task's directory is removed"


def test_the_context_tells_the_project_and_owner(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOSY_USER", "ada")
    result = _run(flows.owned, Settings())
    assert _output(Settings(), result.run_id, "whose") == {
        "project": "seen", "owner": "user:ada", "tags": []
    }  # fmt: skip


def test_tempdir_outside_a_step_says_so() -> None:
    with pytest.raises(PipelineError, match=r"current.tempdir only exists while Argosy runs"):
        current.tempdir
