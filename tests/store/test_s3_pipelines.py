"""The example pipelines, run with ``argosy run`` and every artifact in S3 (SeaweedFS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy import Client
from tests.servers.s3 import S3Server
from tests.store.s3_env import REPO, argosy, s3_environment

EXAMPLES = [
    ("pipelines/classifier.py", []),
    ("pipelines/kmeans_sweep.py", ["--param", "n_docs=300", "--param", "ks=[2,3,4]"]),
    ("pipelines/wide_foreach.py", ["--param", "width=40"]),
    ("pipelines/cooc.py", ["--param", "n_docs=300", "--param", "vocab_size=200"]),
    ("pipelines/gpu_embed.py", ["--param", "n_docs=300", "--param", "vocab_size=200"]),
    ("pipelines/incremental.py", ["--param", "n_chunks=3", "--param", "chunk_size=500"]),
    ("pipelines/release_checks.py", ["--param", "n=200"]),
    ("pipelines/control_flow.py", ["--param", "n=300"]),
    (
        "pipelines/sub_pipelines.py",
        ["--param", "n=200", "--param", "held_out_n=60", "--param", "min_rows=10"],
    ),
    ("pipelines/churn.py", []),
]
"""Every example pipeline, with parameters that keep it small."""


def test_every_example_pipeline_is_run_on_s3() -> None:
    examples = {path.name for path in (REPO / "pipelines").glob("*.py")}
    assert examples == {Path(pipeline).name for pipeline, _ in EXAMPLES}


@pytest.mark.parametrize(("pipeline", "params"), EXAMPLES)
def test_an_example_pipeline_runs_on_s3(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, pipeline: str, params: list[str]
) -> None:
    env = s3_environment(s3_server, s3_bucket, tmp_path / "home")
    flags = ["--max-workers", "2", "--gpu-fallback"]  # gpu_embed runs on the CPU without a GPU
    code, result, stderr = argosy(env, "run", pipeline, *params, *flags)
    assert code == 0, stderr
    assert result["status"] == "succeeded"
    client = s3_server.client()
    blobs = {
        str(item.object_name).removeprefix("blobs/")
        for item in client.list_objects(s3_bucket, "blobs/", recursive=True)
    }
    records = list(
        client.list_objects(s3_bucket, f"records/runs/{result['run_id']}/outputs/", recursive=True)
    )
    outputs = {digest for step in result["steps"].values() for digest in step["outputs"]}
    assert outputs and outputs <= blobs
    assert len(records) == sum(len(step["outputs"]) for step in result["steps"].values())
    assert not (tmp_path / "home" / "store").exists(), "nothing goes to the local store"
    final = list(result["steps"])[-1]
    run = Client(s3_server.settings(s3_bucket, tmp_path / "home")).run(result["run_id"])
    artifact = run.output(final)
    assert not isinstance(artifact, list)
    assert artifact.load() is not None  # read back from S3 through the Python SDK
