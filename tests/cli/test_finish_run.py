"""`argosy finish-run`, what a Workflow's onExit runs: it records a skipped task for every step
no pod ran, with the reason, and a failed exit handler fails a run that had succeeded."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.metadata import open_reader, open_sink
from argosy.metadata.schemas import RunCreate, TaskRecord, TaskStatus

PIPELINE = """
from argosy import pipeline, run_status, step, when

@step
def flip(seed: int) -> str:
    return "heads"

@step
def echo(text: str) -> str:
    return text

@pipeline
def guarded_flip(seed: int = 0):
    side = flip(seed)
    with when(side == "tails"):
        tails = echo.named("tails")("t")
    echo.named("after_tails")(tails)
    echo.named("notify")(run_status()).on_exit()
"""


def _finish(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"ARGOSY_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "argosy", "finish-run", "--run-id", "flip-on-argo", *args],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parents[2],
    )  # fmt: skip


def _recorded_run(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path)
    path = tmp_path / f"{tmp_path.name}.py"  # a module name of its own per test
    path.write_text(PIPELINE)
    definition = load_pipeline(str(path))
    sink = open_sink(settings)
    sink.create_run(
        RunCreate(
            id="flip-on-argo",
            pipeline="guarded_flip",
            pipeline_version=definition.ir.digest(),
            pipeline_ir=definition.ir.model_dump(mode="json"),
            pipeline_ref=str(path),
            backend="argo",
        )
    )
    now = datetime.now(UTC)
    done = {"status": TaskStatus.SUCCEEDED, "started_at": now, "finished_at": now}
    sink.record_tasks(
        [
            TaskRecord(run_id="flip-on-argo", step="flip", **done),
            TaskRecord(run_id="flip-on-argo", step="notify", **done),
        ]
    )
    return settings


def test_steps_no_pod_ran_are_recorded_skipped_with_the_reason(tmp_path: Path) -> None:
    settings = _recorded_run(tmp_path)

    done = _finish(tmp_path, "--status", "Succeeded", "--exit-statuses", "notify=Succeeded")

    assert done.returncode == 0, done.stderr
    reader = open_reader(settings)
    assert reader.get_run("flip-on-argo").status.value == "succeeded"
    ended = {
        task.step: (task.status.value, task.error) for task in reader.list_tasks("flip-on-argo")
    }
    assert ended["tails"] == (
        "skipped",
        "skipped: condition flip == 'tails' is false (or a step it needs did not end so)",
    )
    assert ended["after_tails"] == ("skipped", "skipped: step 'tails' skipped")
    assert ended["notify"][0] == "succeeded"


def test_a_failed_exit_handler_fails_a_run_that_had_succeeded(tmp_path: Path) -> None:
    settings = _recorded_run(tmp_path)

    done = _finish(tmp_path, "--status", "Succeeded", "--exit-statuses", "notify=Failed")

    assert done.returncode == 0, done.stderr
    run = open_reader(settings).get_run("flip-on-argo")
    assert (run.status.value, run.error) == ("failed", "exit handler(s) failed: notify")
