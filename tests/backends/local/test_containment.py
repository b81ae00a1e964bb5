"""Local tasks are contained as pods are: their processes, their memory and their logs.

Real workers, real processes and real signals: daemons that outlive their task, a runner that
is SIGKILLed mid-run, a step that holds more memory than it asked for, a step that writes more
output than a log keeps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from argosy.backends.local import run_pipeline
from argosy.backends.local.process_tree import descendants, stat
from argosy.config import Settings
from argosy.metadata.schemas import RunStatus, TaskStatus
from tests.backends.local import flows
from tests.backends.local.conftest import logs, output, tasks

ROOT = Path(__file__).parents[3]


def _survivors(pids: list[int], within: float = 5.0) -> list[int]:
    """Those of ``pids`` still running after ``within`` seconds (zombies count as gone)."""
    deadline = time.monotonic() + within
    while (running := [pid for pid in pids if stat(pid) is not None]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    return running


def _daemon(marks: Path) -> int:
    return int((marks / "daemon.pid").read_text())


def test_a_daemon_a_task_left_is_killed_before_the_next_task_can_hear_it(
    settings: Settings, marks: Path
) -> None:
    result = run_pipeline(
        flows.daemon_then_listen, {"marks": str(marks)}, settings, max_workers=1, progress=False
    )

    assert result.succeeded
    listened = logs(settings, tasks(settings, result.run_id)["listen", 0].log_key)
    assert "the second task listens" in listened
    assert "daemon" not in listened, listened
    assert _survivors([_daemon(marks)], within=0) == []


def test_a_timeout_kills_a_daemon_the_task_started(settings: Settings, marks: Path) -> None:
    result = run_pipeline(flows.daemon_hang, {"marks": str(marks)}, settings, progress=False)

    assert "timed out after 1 s" in result.steps["hang_with_daemon"].errors[0]
    assert _survivors([_daemon(marks)], within=1) == []


RUNNER = """
import sys

from argosy.backends.local import pool, run_pipeline
from argosy.config import Settings
from tests.backends.local import flows

method, marks, home = sys.argv[1:]
pool.start_method = lambda ref: method
run_pipeline(flows.lingering, {"marks": marks}, Settings(home=home), max_workers=2, progress=False)
"""


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_workers_and_their_tasks_die_with_a_runner_killed_mid_run(
    tmp_path: Path, marks: Path, method: str
) -> None:
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, method, str(marks), str(tmp_path / "home")], cwd=ROOT
    )
    pids = marks / "linger.pids"
    deadline = time.monotonic() + 60
    while not pids.exists() and runner.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    started = [p.pid for p in descendants(runner.pid)]
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    survivors = _survivors(started)
    for pid in survivors:  # leave nothing running, whatever the outcome
        os.kill(pid, signal.SIGKILL)

    assert pids.exists(), "the long task never started"
    assert set(map(int, pids.read_text().split())) <= set(started)  # its worker and subprocess
    assert survivors == []


def test_a_task_over_its_memory_limit_is_oom_killed_and_retried(settings: Settings) -> None:
    result = run_pipeline(flows.hogging, {}, settings, progress=False)

    assert result.status is RunStatus.FAILED
    task = tasks(settings, result.run_id)["hog", 0]
    assert (task.status, task.attempts) == (TaskStatus.FAILED, 2)
    assert "OOMKilled: the task used more than its memory limit of 256Mi" in (task.error or "")
    assert "raise Resources(memory=...)" in (task.error or "")
    assert "[argosy] OOMKilled" in logs(settings, task.log_key)


def test_a_task_within_its_memory_limit_runs_to_the_end(settings: Settings) -> None:
    params = {"mebibytes": 32, "seconds": 0.5}
    result = run_pipeline(flows.hogging, params, settings, progress=False)

    assert result.succeeded
    assert output(settings, result, "hog") == 32 * 2**20


@pytest.mark.parametrize("then", ["return", "sigkill"])
def test_a_log_keeps_its_head_and_tail_up_to_the_cap(settings: Settings, then: str) -> None:
    capped = settings.model_copy(update={"max_log_bytes": 64 * 2**10})
    result = run_pipeline(flows.chattering, {"kib": 4096, "then": then}, capped, progress=False)

    log = logs(capped, tasks(capped, result.run_id)["chatter", 0].log_key)
    assert len(log) < 66 * 2**10
    lines = log.splitlines()
    assert lines[0].startswith("0000000 ")
    assert any(line.startswith("0065535 ") for line in lines)  # the last one written
    assert "bytes of output left out here" in log and "65,536 bytes in all" in log
