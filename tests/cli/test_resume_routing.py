"""`argosy resume` resumes a run where it ran: Argo runs through the Argo backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.metadata import open_sink
from argosy.metadata.schemas import RunCreate, RunStatus

PIPELINE = """
from argosy import pipeline, step

@step
def double(x: int) -> int:
    return 2 * x

@pipeline
def doubled(x: int = 1):
    return double(x)
"""


def test_an_argo_run_is_resumed_on_argo(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    path = tmp_path / "resume_routing_pipeline.py"
    path.write_text(PIPELINE)
    definition = load_pipeline(str(path))
    open_sink(settings).create_run(
        RunCreate(
            id="doubled-on-argo",
            pipeline="doubled",
            pipeline_version=definition.ir.digest(),
            pipeline_ir=definition.ir.model_dump(mode="json"),
            pipeline_ref=str(path),
            parameters={"x": 3},
            backend="argo",
            status=RunStatus.FAILED,
            workflow_name="doubled-on-argo",
            namespace="argosy",
        )
    )
    # No Kubernetes API can run here: with no kubeconfig the Argo path must say so, which shows
    # that the resume went to Argo rather than re-running the pipeline on this machine.
    env = {"ARGOSY_HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "missing-kubeconfig"),
           "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "argosy", "resume", "doubled-on-argo"],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "kube" in done.stderr.lower()
    assert _local_runs(settings) == []


def _local_runs(settings: Settings) -> list[str]:
    from argosy.metadata import open_reader

    return [run.id for run in open_reader(settings).list_runs().data if run.backend == "local"]
