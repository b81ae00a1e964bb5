"""``argosy runs``, ``show``, ``logs`` and ``lineage`` against real recorded runs.

The commands run in-process through `argosy.cli.main` (as the console script does), on the runs
of tests/pipelines/recorded.py; one test runs the real console script to see a clean error.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from argosy.cli import main
from argosy.client import Client
from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.metadata import open_sink
from argosy.metadata.schemas import RunCreate
from tests.pipelines.recorded import REPO, SHOUTING, Recorded, argosy, recorded


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return recorded(tmp_path_factory.getbasetemp())


class Cli:
    """``argosy ARGS...`` in this process; returns the exit code, stdout and stderr."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> dict[str, Any]:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(runs: Recorded, monkeypatch: pytest.MonkeyPatch, capsys) -> Cli:
    for name in ("ARGOSY_METADATA_URL", "ARGOSY_S3_ENDPOINT", "ARGOSY_S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARGOSY_HOME", str(runs.home))
    return Cli(capsys)


def test_runs_json_and_filters(cli: Cli, runs: Recorded) -> None:
    listed = cli.json("runs")["runs"]
    assert [run["id"] for run in listed][:1] == [runs.sweep] and len(listed) == 6
    assert set(listed[0]) >= {"id", "pipeline", "status", "parameters", "started_at"}
    failed = cli.json("runs", "--status", "failed")["runs"]
    assert {run["id"] for run in failed} == {runs.failed, runs.resumed}
    assert [run["id"] for run in cli.json("runs", "--pipeline", "kmeans_sweep")["runs"]] == [
        runs.sweep
    ]
    assert len(cli.json("runs", "--limit", "2")["runs"]) == 2


def test_runs_table_goes_to_stdout(cli: Cli, runs: Recorded) -> None:
    code, out, err = cli("runs", "--pipeline", "shouting")
    assert code == 0 and err == ""
    assert runs.ok in out and runs.failed in out and runs.sweep not in out
    assert '"fail_on":"new"' in out


def test_runs_rejects_an_unknown_status(cli: Cli) -> None:
    code, _, err = cli("runs", "--status", "sleeping")
    assert code == 2 and "sleeping" in err


def test_show_json(cli: Cli, runs: Recorded) -> None:
    shown = cli.json("show", runs.failed)
    assert shown["run"]["id"] == runs.failed and shown["run"]["status"] == "failed"
    assert list(shown["steps"]) == ["words", "shout", "lengths", "sentence"]
    shout = shown["steps"]["shout"]
    assert shout["mapped"] and shout["tasks"] == 4 and shout["retried"] == 1
    assert shout["statuses"] == {"succeeded": 3, "failed": 1}
    assert shout["outputs"] == 3 and shown["steps"]["words"]["output"]["format"] == "json"
    assert {task["id"] for task in shown["tasks"]} >= {f"{runs.failed}.shout.{i}" for i in range(4)}
    assert shown["metrics"] == []
    ok = cli.json("show", runs.ok)
    assert [(m["step"], m["name"], m["value"]) for m in ok["metrics"]] == [
        ("sentence", "words", 4.0)
    ]


def test_show_counts_clones_and_cache_hits(cli: Cli, runs: Recorded) -> None:
    resumed = cli.json("show", runs.resumed)
    assert resumed["run"]["resumed_from"] == runs.failed
    assert resumed["steps"]["words"]["cloned"] == 1 and resumed["steps"]["shout"]["cloned"] == 3
    cached = cli.json("show", runs.cached)
    assert all(step["cache_hits"] == step["tasks"] for step in cached["steps"].values())


def test_show_table(cli: Cli, runs: Recorded) -> None:
    code, out, err = cli("show", runs.resumed[:-2])
    assert code == 0 and err == ""
    assert runs.resumed in out and f"resumed from {runs.failed}" in out
    assert "shout (map)" in out and "shout[2]" in out
    assert f"cloned from {runs.failed}.words.0" in out
    assert "ValueError: refusing to shout 'new'" in out
    _, cached, _ = cli("show", runs.cached)
    assert "cache hit" in cached


def test_show_lists_only_the_unsuccessful_tasks_of_a_wide_step(
    cli: Cli, runs: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("argosy.cli.show.LISTED_TASKS", 3)
    _, out, _ = cli("show", runs.failed)
    assert "shout[2]" in out and "shout[1]" not in out and "3 more tasks, all succeeded" in out
    assert f"argosy show {runs.failed} --step shout" in " ".join(out.split())
    shown = cli.json("show", runs.failed)
    assert [task["index"] for task in shown["tasks"] if task["step"] == "shout"] == [2]


def test_show_pages_through_the_tasks_of_one_step(cli: Cli, runs: Recorded) -> None:
    code, out, _ = cli("show", runs.ok, "--step", "shout", "--limit", "2", "--offset", "1")
    assert code == 0 and "shout[1]" in out and "shout[2]" in out and "shout[3]" not in out
    assert f"next page: argosy show {runs.ok} --step shout --offset 3" in " ".join(out.split())
    page = cli.json("show", runs.ok, "--step", "shout", "--offset", "3")
    assert [task["index"] for task in page["tasks"]] == [3]
    code, _, err = cli("show", runs.ok, "--step", "shoot")
    assert code == 1 and "step 'shoot': no such step" in err and "shout" in err


def test_show_and_status_take_a_pipeline_name_for_its_newest_run(cli: Cli, runs: Recorded) -> None:
    assert cli.json("show", "kmeans_sweep")["run"]["id"] == runs.sweep
    status = cli.json("status", "kmeans_sweep")
    assert status["run_id"] == runs.sweep and status["backend"] == "local"
    assert status["steps"]["fit"]["statuses"] == {"succeeded": status["steps"]["fit"]["tasks"]}
    code, out, err = cli("status", runs.failed)
    assert code == 0 and err == "" and "shout (map)" in out and "failed 1" in " ".join(out.split())


def test_logs(cli: Cli, runs: Recorded) -> None:
    code, out, _ = cli("logs", runs.ok, "shout", "--index", "3")
    assert code == 0 and "shouting world" in out and "stderr of world" in out
    _, first, _ = cli("logs", runs.failed, "shout", "--index", "2", "--attempt", "0")
    assert "refusing to shout 'new'" in first
    _, cloned, _ = cli("logs", runs.resumed, "words")
    assert "splitting 'hello brave new world'" in cloned


def test_logs_of_a_map_ask_which_task_and_a_silent_task_has_an_empty_log(
    cli: Cli, runs: Recorded
) -> None:
    code, out, err = cli("logs", runs.ok, "shout")
    assert code == 2 and out == ""
    assert "is a map of 4 tasks: say which with --index N, N from 0 to 3" in " ".join(err.split())
    assert cli("logs", runs.ok, "lengths") == (0, "", "")  # it ran and printed nothing


def test_lineage_of_a_step_output_named_by_run_and_step(cli: Cli, runs: Recorded) -> None:
    by_digest = cli.json("lineage", _output(cli, runs.ok, "shout", 3))
    assert cli.json("lineage", f"{runs.ok}/shout/3") == by_digest
    best = cli.json("lineage", f"{runs.sweep}/pick_best")
    assert best["root"] == _output(cli, runs.sweep, "pick_best")
    code, _, err = cli("lineage", f"{runs.ok}/shout")
    assert code == 2 and f"{runs.ok}/shout/N" in " ".join(err.split())
    code, _, err = cli("lineage", f"{runs.ok}/shout/x")
    assert code == 2 and "RUN/STEP/INDEX" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "no-such-run"), "no run 'no-such-run'"),
        (("show", "shouting-"), "ambiguous"),
        (("logs", "{failed}", "shoot"), "no such step"),
        (("logs", "{failed}", "sentence"), "no log recorded"),
        (("lineage", "feedface"), "no artifact 'feedface'"),
    ],
)
def test_mistakes_are_one_red_line_and_exit_1(cli: Cli, runs: Recorded, args, message) -> None:
    code, out, err = cli(*(arg.format(failed=runs.failed) for arg in args))
    assert code == 1 and out == ""
    assert message in err and err.startswith("error:") and "Traceback" not in err


def test_the_console_script_prints_no_traceback(runs: Recorded) -> None:
    result = argosy(runs.home, "show", "no-such-run")
    assert result.returncode == 1 and result.stdout == ""
    assert "no run 'no-such-run'" in result.stderr and "Traceback" not in result.stderr


def test_logs_of_an_argo_task_not_yet_in_the_store_come_from_its_pod(
    cli: Cli, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shouting = load_pipeline(str(REPO / SHOUTING)).ir
    open_sink(Settings(home=tmp_path)).create_run(
        RunCreate(
            id="shouting-on-argo",
            pipeline="shouting",
            pipeline_version=shouting.digest(),
            pipeline_ir=shouting.model_dump(mode="json", by_alias=True),
            backend="argo",
            namespace="ml-team",
        )
    )
    asked = []

    def pod_logs(*args: Any) -> str:
        asked.append(args)
        return "from the pod\n"

    monkeypatch.setattr("argosy.backends.argo.pod_logs", pod_logs)
    monkeypatch.setenv("ARGOSY_HOME", str(tmp_path))
    code, out, _ = cli("logs", "shouting-on-argo", "shout", "--index", "2")
    assert (code, out, asked) == (
        0,
        "from the pod\n",
        [("shouting-on-argo", "shout", 2, "ml-team")],
    )


def _output(_cli: Cli, run_id: str, step: str, index: int = 0) -> str:
    """The digest of the output of task ``step[index]`` (the `cli` fixture set ARGOSY_HOME)."""
    output = Client().run(run_id).output(step)
    return (output[index] if isinstance(output, list) else output).digest


def test_lineage_json_upstream_with_and_without_depth(cli: Cli, runs: Recorded) -> None:
    best = _output(cli, runs.sweep, "pick_best")
    graph = cli.json("lineage", best)
    assert graph["root"] == best and graph["direction"] == "upstream"
    tasks = {node["step"] for node in graph["nodes"] if node["kind"] == "task"}
    assert tasks == {"pick_best", "fit", "tfidf", "make_corpus"}
    assert {edge["kind"] for edge in graph["edges"]} == {"input", "output"}
    near = cli.json("lineage", best[:10], "--depth", "1")
    assert {node["step"] for node in near["nodes"] if node["kind"] == "task"} == {"pick_best"}


def test_lineage_downstream(cli: Cli, runs: Recorded) -> None:
    features = _output(cli, runs.sweep, "tfidf")
    graph = cli.json("lineage", features, "--direction", "downstream")
    tasks = sorted((n["step"], n["index"]) for n in graph["nodes"] if n["kind"] == "task")
    assert tasks == [("fit", 0), ("fit", 1), ("pick_best", 0)]


def test_lineage_tree(cli: Cli, runs: Recorded) -> None:
    best = _output(cli, runs.sweep, "pick_best")
    code, out, err = cli("lineage", best[:8])
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith(best[:12])
    assert [line for line in lines if "make_corpus[0]" in line]
    assert "(shown above)" in out  # fit[0] and fit[1] read the same features
    assert next(line for line in lines if "(shown above)" in line) == lines[-1]


def test_lineage_rejects_an_unknown_direction(cli: Cli, runs: Recorded) -> None:
    code, _, err = cli("lineage", _output(cli, runs.sweep, "tfidf"), "--direction", "sideways")
    assert code == 2 and "sideways" in err


def test_runs_on_a_fresh_home(cli: Cli, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGOSY_HOME", str(tmp_path))
    assert cli.json("runs") == {"runs": []}
    code, out, err = cli("runs")
    assert (code, out) == (0, "") and "no runs yet" in err
    assert "no runs match" in cli("runs", "--pipeline", "kmeans_sweep")[2]
