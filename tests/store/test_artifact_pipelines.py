"""Files, folders, metadata and a registered format passed between the steps of real runs: on
the local backend (a LocalStore), and through ``argosy run`` with every artifact in S3."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from argosy import Client
from argosy.backends.local import run_pipeline
from argosy.config import Settings
from argosy.metadata.schemas import RunStatus
from tests.servers.s3 import S3Server
from tests.store import artifact_flows
from tests.store.s3_env import REPO, argosy, s3_environment

SUMMARY = {
    "report": "report.csv",
    "rows": 4,
    "model": "model",
    "config": {"n": 4},
    "weights": 6.0,
    "part": "4/3",
}
"""What `artifact_flows.summarize` returns with n=4: it read the file, the folder, the fraction."""


def _check_outputs(client: Client, run_id: str) -> None:
    """The outputs of a run of `artifact_flows.artifacts`, as the SDK reads them back."""
    run = client.run(run_id)
    report, model, part, summary = (
        run.output(step) for step in ("write_report", "write_model", "share", "summarize")
    )
    assert not isinstance(report, list) and not isinstance(model, list)
    assert not isinstance(part, list) and not isinstance(summary, list)
    assert (report.format, report.name, report.metadata) == ("file", "report.csv", {})
    assert report.load().read_text().startswith("0,0\n1,1\n")
    assert (model.format, model.name) == ("dir", "model")
    assert model.metadata == {"framework": "numpy", "n": 4}
    assert sorted(p.name for p in model.load().iterdir()) == ["config.json", "weights"]
    assert (part.format, part.load()) == ("fraction", Fraction(2, 3))
    assert summary.load() == SUMMARY
    assert summary.metadata == {"rows": 4, "checked": ["report", "model"]}
    assert client.artifact(model.digest).metadata == model.metadata
    [read] = [i for i in run.tasks("summarize")[0].record.inputs if i.argument == "model"]
    assert read.artifact.name == "model" and read.artifact.metadata == model.metadata


def test_steps_pass_files_folders_metadata_and_a_registered_format_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ARGOSY_METADATA_URL", "ARGOSY_S3_ENDPOINT", "ARGOSY_S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(home=tmp_path / "home")
    params = {"workdir": str(tmp_path / "work"), "n": 4}
    result = run_pipeline(artifact_flows.artifacts, params, settings, max_workers=2, progress=False)
    assert result.status is RunStatus.SUCCEEDED
    _check_outputs(Client(settings), result.run_id)

    env = os.environ | {"ARGOSY_HOME": str(settings.home), "COLUMNS": "200"}
    shown = subprocess.run(
        [sys.executable, "-m", "argosy", "show", result.run_id],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    lines = shown.stdout.splitlines()
    table = lines[next(n for n, line in enumerate(lines) if line.startswith("outputs")) :]
    assert any("write_model[0]" in line and '"framework": "numpy"' in line for line in table)
    assert any("write_report[0]" in line and "report.csv" in line for line in table)
    assert any("summarize[0]" in line and '"rows": 4' in line for line in table)


def test_the_same_run_keeps_every_artifact_in_s3(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    env = s3_environment(s3_server, s3_bucket, tmp_path / "home")
    work = f"workdir={tmp_path / 'work'}"
    code, result, stderr = argosy(
        env, "run", "tests/store/artifact_flows.py:artifacts", "--param", work
    )
    assert code == 0, stderr
    assert not (tmp_path / "home" / "store").exists(), "nothing goes to the local store"
    shutil.rmtree(tmp_path / "home" / "cache")  # what the SDK loads, it downloads
    _check_outputs(Client(s3_server.settings(s3_bucket, tmp_path / "home")), result["run_id"])
