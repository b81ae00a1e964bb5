"""Projects, owners and tags on the command line: ``argosy run --project/--tag/--production``,
``argosy runs --project/--tag/--owner/--all-owners``, ``argosy tag add|remove`` and what
``argosy show`` prints. Runs are real, made with ``argosy run`` as two users on one home."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from argosy.cli import main
from tests.pipelines.recorded import SHOUTING, argosy


def _run(home: Path, user: str, *args: str) -> str:
    """``argosy run`` of the shouting pipeline as ``user``; the run id."""
    done = argosy(home, "run", SHOUTING, "--max-workers", "1", "--json", *args, user=user)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["run_id"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("owners")
    return {
        "home": home,
        "alice": _run(home, "alice", "--project", "fraud", "--tag", "nightly", "-t", "v2"),
        "bob": _run(home, "bob", "--project", "fraud", "--tag", "nightly"),
        "production": _run(home, "alice", "--production", "--tag", "release"),
    }


@pytest.fixture
def cli(runs: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    for name in ("ARGOSY_METADATA_URL", "ARGOSY_S3_ENDPOINT", "ARGOSY_S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARGOSY_HOME", str(runs["home"]))
    monkeypatch.setenv("ARGOSY_USER", "alice")

    def call(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return call


def _listed(cli: Any, *args: str) -> list[str]:
    code, out, err = cli("runs", "--json", *args)
    assert code == 0, err
    return [run["id"] for run in json.loads(out)["runs"]]


def test_runs_lists_your_runs_unless_told_otherwise(cli: Any, runs: dict[str, Any]) -> None:
    assert _listed(cli) == [runs["alice"]]
    assert _listed(cli, "--owner", "production") == [runs["production"]]
    assert _listed(cli, "--owner", "user:bob") == [runs["bob"]]
    assert _listed(cli, "--all-owners") == [runs["production"], runs["bob"], runs["alice"]]
    assert _listed(cli, "--all-owners", "--project", "fraud") == [runs["bob"], runs["alice"]]
    assert _listed(cli, "--all-owners", "--tag", "nightly", "--tag", "v2") == [runs["alice"]]
    assert _listed(cli, "--tag", "release") == []
    code, _, err = cli("runs", "--tag", "release")
    assert code == 0 and "no runs match (owner user:alice)" in err and "--all-owners" in err
    code, _, err = cli("runs", "--owner", "production", "--all-owners")
    assert code == 2 and "not both" in err
    code, _, err = cli("runs", "--owner", "bob")
    assert code == 1 and "owner 'bob' does not start with 'user:'" in err
    record = json.loads(cli("runs", "--json")[1])["runs"][0]
    assert (record["project"], record["owner"], record["tags"]) == (
        "fraud",
        "user:alice",
        ["nightly", "v2"],
    )
    code, out, _ = cli("runs", "--all-owners")
    assert code == 0 and "nightly,v2" in out  # the table's tags column


def test_run_refuses_bad_names_before_anything_runs(runs: dict[str, Any]) -> None:
    bad = argosy(runs["home"], "run", SHOUTING, "--tag", " padded", user="alice")
    assert bad.returncode == 1 and "tag ' padded' starts or ends with a space" in bad.stderr
    misnamed = argosy(runs["home"], "run", SHOUTING, "--project", "Fraud", user="alice")
    assert misnamed.returncode == 1 and "project 'Fraud' is not a project name" in misnamed.stderr
    assert "Traceback" not in bad.stderr + misnamed.stderr


def test_tag_add_and_remove(cli: Any, runs: dict[str, Any]) -> None:
    bob = runs["bob"]
    code, out, err = cli("tag", "add", bob[:-2], "best", "v3", "--json")  # a unique prefix
    assert code == 0, err
    assert json.loads(out) == {"run_id": bob, "tags": ["best", "nightly", "v3"]}
    code, out, _ = cli("tag", "remove", bob, "best", "nightly")
    assert code == 0 and f"run {bob} tags: v3" in out
    assert _listed(cli, "--owner", "user:bob", "--tag", "v3") == [bob]
    code, out, _ = cli("tag", "remove", bob, "v3")
    assert code == 0 and "tags: none" in out

    code, _, err = cli("tag", "add", bob, "two\nlines")
    assert code == 1 and "holds the control character" in err and "Traceback" not in err
    code, _, err = cli("tag", "add", "no-such-run", "x")
    assert code == 1 and "no run 'no-such-run'" in err
    code, _, err = cli("tag", "add", bob)
    assert code == 2  # no tag given: a usage error


def test_show_prints_the_project_owner_and_tags(cli: Any, runs: dict[str, Any]) -> None:
    code, out, err = cli("show", runs["alice"])
    assert code == 0, err
    assert "project fraud  owner user:alice  tags nightly, v2" in out
    code, out, _ = cli("show", runs["production"])
    assert "project -  owner production  tags release" in out
    shown = json.loads(cli("show", runs["bob"], "--json")[1])["run"]
    assert (shown["project"], shown["owner"]) == ("fraud", "user:bob")
