"""``argosy run`` and ``argosy resume`` as a user runs them: real processes, one ARGOSY_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from argosy.config import Settings
from argosy.runtime import read_output
from argosy.store import load, open_store

PIPELINE = """
from argosy import pipeline, step


@step
def base(n: int) -> list[int]:
    return list(range(n))


@step
def scale(xs: list[int]) -> list[int]:
    raise RuntimeError("scale is broken")


@pipeline
def edited(n: int = 3):
    return scale(base(n))
"""


def _argosy(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"ARGOSY_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "argosy", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def pipeline_file(tmp_path: Path) -> Path:
    path = tmp_path / "edited_pipeline.py"
    path.write_text(PIPELINE)
    return path


def test_a_failed_run_exits_1_and_says_how_to_resume_and_resume_reruns_the_edited_step(
    tmp_path: Path, pipeline_file: Path
) -> None:
    home = tmp_path / "home"
    failed = _argosy(home, "run", str(pipeline_file), "--param", "n=4", "--json")

    assert failed.returncode == 1, failed.stderr
    origin = json.loads(failed.stdout)
    assert origin["status"] == "failed"
    assert f"resume with: argosy resume {origin['run_id']}" in failed.stderr

    pipeline_file.write_text(
        PIPELINE.replace('raise RuntimeError("scale is broken")', "return [2 * x for x in xs]")
    )
    resumed = _argosy(home, "resume", origin["run_id"], "--json")

    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["status"] == "succeeded"
    assert result["resumed_from"] == origin["run_id"]
    assert result["steps"]["base"]["cloned"] == 1  # unchanged: taken over
    assert result["steps"]["base"]["outputs"] == origin["steps"]["base"]["outputs"]
    assert result["steps"]["scale"]["cloned"] == 0  # edited since: ran again
    store = open_store(Settings(home=home))
    assert load(store, read_output(store, result["run_id"], "scale", 0).artifact) == [0, 2, 4, 6]


def test_run_prints_json_with_steps_task_counts_and_outputs(tmp_path: Path) -> None:
    flows = Path(__file__).with_name("flows.py")
    done = _argosy(tmp_path, "run", f"{flows}:fan", "-p", "n=3", "--max-workers", "2", "--json")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded"
    assert {name: step["tasks"] for name, step in result["steps"].items()} == {
        "numbers": 1,
        "square": 3,
        "collect": 1,
    }
    assert len(result["steps"]["square"]["outputs"]) == 3


def test_a_bad_parameter_is_one_line_and_exit_1_before_anything_runs(tmp_path: Path) -> None:
    flows = Path(__file__).with_name("flows.py")
    done = _argosy(tmp_path, "run", f"{flows}:fan", "-p", "n=many")

    assert done.returncode == 1
    assert "error:" in done.stderr and "'n'" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_prints_its_result_and_what_to_look_at_next_on_stdout(tmp_path: Path) -> None:
    flows = Path(__file__).with_name("flows.py")
    done = _argosy(tmp_path, "run", f"{flows}:fan", "-p", "n=3", "--max-workers", "2")

    assert done.returncode == 0, done.stderr
    run_id = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("run "))
    assert "result (collect): " in done.stdout
    assert f"argosy show {run_id}" in done.stdout
    assert "argosy lineage " in done.stdout and f'argosy.Client().run("{run_id}")' in done.stdout


def test_a_failed_run_names_the_logs_and_resume_commands(
    tmp_path: Path, pipeline_file: Path
) -> None:
    failed = _argosy(tmp_path, "run", str(pipeline_file))

    assert failed.returncode == 1
    assert "scale: RuntimeError: scale is broken" in failed.stdout
    run_id = next(line.split()[1] for line in failed.stdout.splitlines() if line.startswith("run "))
    assert f"argosy logs {run_id} scale" in failed.stdout
    assert f"argosy resume {run_id}" in failed.stdout and "result (" not in failed.stdout


def test_version(tmp_path: Path) -> None:
    done = _argosy(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.startswith("argosy ") and done.stderr == ""
