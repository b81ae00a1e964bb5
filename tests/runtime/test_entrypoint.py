"""``python -m argosy task``: the process Argo pods run, exit code and output files included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from argosy.config import Settings
from argosy.metadata import open_reader
from argosy.metadata.schemas import RunTagsChange, TaskStatus
from argosy.runtime import read_output
from argosy.store import load, open_store

TINY = str(Path(__file__).with_name("tiny.py"))


def _task(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"ARGOSY_HOME": str(home)}
    command = [sys.executable, "-m", "argosy", "task", "--run-id", "pod-run", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_tasks_run_as_processes_write_outputs_files_and_record_the_run(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    produced = _task(
        tmp_path, "--pipeline", f"{TINY}:tiny", "--step", "produce", "--param", "n=2",
        "--param", "word=yo", "--outputs-dir", str(outputs),
    )  # fmt: skip
    shouted = _task(
        tmp_path, "--pipeline", f"{TINY}:tiny", "--step", "shout", "--index", "1",
        "--param", "n=2", "--param", "word=yo",
    )  # fmt: skip

    assert produced.returncode == 0, produced.stderr
    assert shouted.returncode == 0, shouted.stderr
    assert "a subprocess says 1" in shouted.stderr  # the captured log is echoed for pod logs
    store = open_store(Settings(home=tmp_path))
    produce = read_output(store, "pod-run", "produce", 0).artifact
    assert (outputs / "digest").read_text() == produce.digest
    assert (outputs / "length").read_text() == "2"
    assert load(store, read_output(store, "pod-run", "shout", 1).artifact) == "YO 1"
    run = open_reader(Settings(home=tmp_path)).get_run("pod-run")
    assert run.pipeline == "tiny" and run.parameters == {"n": 2, "word": "yo"}


def test_a_failing_task_exits_1_with_its_error(tmp_path: Path) -> None:
    done = _task(tmp_path, "--pipeline", f"{TINY}:broken", "--step", "explode", "--param", "n=5")

    assert done.returncode == 1
    assert "ValueError: cannot handle n=5" in done.stderr
    tasks = open_reader(Settings(home=tmp_path)).list_tasks("pod-run")
    assert [t.status for t in tasks] == [TaskStatus.FAILED]


def test_a_task_with_named_outputs_reports_each_as_argo_asks(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    flows = "tests.backends.local.data_flows:named_outputs"
    split = _task(
        tmp_path, "--pipeline", flows, "--step", "split", "--outputs-dir", str(outputs),
        "--write-field-value", "train",
    )  # fmt: skip
    assert split.returncode == 0, split.stderr
    store = open_store(Settings(home=tmp_path))
    assert (outputs / "digest").read_text() == read_output(
        store, "pod-run", "split", 0
    ).artifact.digest
    assert (outputs / "length-train").read_text() == "30"
    assert (outputs / "length-test").read_text() == "2"
    assert not (outputs / "length").exists()  # the whole output has no length
    assert not (outputs / "value-train").exists()  # a list is no condition's value
    assert "must be a str, number, bool or None" in split.stderr

    trained = _task(
        tmp_path, "--pipeline", flows, "--step", "train", "--outputs-dir", str(outputs),
        "--write-field-value", "accuracy",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert (outputs / "value-accuracy").read_text() == "0.8"


def test_pods_record_the_run_with_the_project_owner_and_tags_they_are_given(tmp_path: Path) -> None:
    """As Argo passes them from the workflow's annotations; a later pod changes none of them."""
    given = ["--project", "fraud", "--owner", "user:alice", "--tags", '["nightly", "日本"]']
    first = _task(tmp_path, "--pipeline", f"{TINY}:tiny", "--step", "produce", *given)
    assert first.returncode == 0, first.stderr
    reader = open_reader(Settings(home=tmp_path))
    run = reader.get_run("pod-run")
    assert (run.project, run.owner, run.tags) == ("fraud", "user:alice", ["nightly", "日本"])
    reader.update_tags("pod-run", RunTagsChange(add=["checked"], remove=["nightly"]))

    later = _task(tmp_path, "--pipeline", f"{TINY}:tiny", "--step", "shout", "--index", "0", *given)
    assert later.returncode == 0, later.stderr
    assert reader.get_run("pod-run").tags == ["checked", "日本"]


def test_empty_values_are_none_and_bad_tags_are_an_error(tmp_path: Path) -> None:
    bare = ["--project", "", "--owner", "", "--tags", "[]"]
    assert _task(tmp_path, "--pipeline", f"{TINY}:tiny", "--step", "produce", *bare).returncode == 0
    run = open_reader(Settings(home=tmp_path)).get_run("pod-run")
    assert (run.project, run.owner, run.tags) == (None, None, [])
    bad = _task(tmp_path / "b", "--pipeline", f"{TINY}:tiny", "--step", "produce", "--tags", "x")
    assert bad.returncode == 1
    assert (
        "--tags 'x' is not a JSON list of strings" in bad.stderr and "Traceback" not in bad.stderr
    )
