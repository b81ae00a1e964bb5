"""Every example pipeline, compiled: golden files, Argo's strict schema, a Hera round trip.

``manifests/workflows/<pipeline>.yaml`` is what ``argosy compile pipelines/<pipeline>.py
--image argosy/components:golden --gpu-profiles charts/gpu-profiles-kind.yaml --production``
writes (ready for the kind cluster of the quick start; its runs are production's, as
`compile_pipeline` records them by default), kept in git so a review shows what a compiler
change does. A stale file fails here; regenerate them all with
``ARGOSY_REGENERATE=1 pytest tests/backends/argo/test_golden.py`` (``make manifests``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hera.workflows import CronWorkflow, Workflow, WorkflowTemplate

from argosy.backends.argo import ClusterConfig, compile_pipeline, render_yaml
from argosy.backends.argo.gpu import load_gpu_profiles
from argosy.dsl import load_pipeline
from argosy.errors import CompileError
from tests.backends.argo.argo_schema import assert_valid

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "manifests" / "workflows"
GOLDEN_IMAGE = "argosy/components:golden"
GPU_PROFILES = ROOT / "charts" / "gpu-profiles-kind.yaml"
PIPELINES = sorted(path.stem for path in (ROOT / "pipelines").glob("*.py"))
KINDS = {"workflow": Workflow, "template": WorkflowTemplate, "cron": CronWorkflow}


def _compile(name: str, kind: str = "workflow") -> str:
    definition = load_pipeline(str(ROOT / "pipelines" / f"{name}.py"))
    workflow = compile_pipeline(
        definition,
        ref=f"pipelines/{name}.py",
        image=GOLDEN_IMAGE,
        kind=kind,  # type: ignore[arg-type]
        schedule="0 3 * * *" if kind == "cron" else None,
        cluster=ClusterConfig(gpu_profiles=load_gpu_profiles(GPU_PROFILES)),
    )
    return render_yaml(workflow)


def test_there_are_example_pipelines() -> None:
    assert len(PIPELINES) >= 3


@pytest.mark.parametrize("name", PIPELINES)
def test_golden_file_is_current(name: str) -> None:
    text = _compile(name)
    path = GOLDEN / f"{name}.yaml"
    if os.environ.get("ARGOSY_REGENERATE"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"{path} is missing; run ARGOSY_REGENERATE=1 pytest {__file__}"
    assert path.read_text() == text, (
        f"{path.relative_to(ROOT)} is stale; run `make manifests` and review the diff"
    )


def test_no_golden_file_outlives_its_pipeline() -> None:
    orphans = sorted(p.stem for p in GOLDEN.glob("*.yaml")) if GOLDEN.is_dir() else []
    assert set(orphans) <= set(PIPELINES), f"delete manifests/workflows/ files of {orphans}"


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("name", PIPELINES)
def test_every_kind_passes_the_strict_schema_and_a_hera_round_trip(name: str, kind: str) -> None:
    if kind != "workflow" and load_pipeline(str(ROOT / "pipelines" / f"{name}.py")).ir.imports:
        with pytest.raises(CompileError, match="imports outside data"):
            _compile(name, kind)  # a submitter captures its imports: only a Workflow runs it
        return
    text = _compile(name, kind)
    document = yaml.safe_load(text)
    assert_valid(document)
    round_trip = KINDS[kind].from_yaml(text)
    assert render_yaml(round_trip) == text  # the same text through the same emitter
    assert yaml.safe_load(round_trip.to_yaml()) == document  # and the same data through Hera's


def _argosy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "argosy", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_the_golden_file_is_what_argosy_compile_writes(tmp_path: Path) -> None:
    profiles = str(GPU_PROFILES)
    printed = _argosy("compile", "pipelines/wide_foreach.py", "--image", GOLDEN_IMAGE,
                      "--gpu-profiles", profiles, "--production")  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == (GOLDEN / "wide_foreach.yaml").read_text()
    output = tmp_path / "cron.yaml"
    written = _argosy("compile", "pipelines/wide_foreach.py", "--image", GOLDEN_IMAGE, "-o",
                      str(output), "--kind", "cron", "--schedule", "0 3 * * *",
                      "--production")  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert "compiled wide_foreach (3 steps)" in written.stdout
    assert output.read_text() == _compile("wide_foreach", "cron")
    latest = _argosy("compile", "pipelines/wide_foreach.py", "--image", "argosy/base:latest")
    assert latest.returncode == 1
    assert "no pinned tag" in latest.stderr
    assert "Traceback" not in latest.stderr
