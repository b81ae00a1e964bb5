"""pipelines/cooc.py, incremental.py and gpu_embed.py, run end to end on the local backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from argosy.backends.local import run_pipeline
from argosy.client import Client
from argosy.config import Settings
from argosy.dsl import load_pipeline
from argosy.errors import ArgosyError

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def _run(name: str, tmp_path: Path, gpu_fallback: bool = False, **params):
    settings = Settings(home=tmp_path / "home")
    definition = load_pipeline(str(PIPELINES / f"{name}.py"))
    result = run_pipeline(
        definition,
        definition.resolve_parameters(params),
        settings,
        max_workers=2,
        gpu_fallback=gpu_fallback,
        progress=False,
    )
    return result, Client(settings).run(result.run_id)


def _failures(result) -> dict:
    steps = result.to_json()["steps"]
    return {name: step for name, step in steps.items() if step["state"] != "succeeded"}


def test_cooc_branches_run_in_parallel_and_the_join_reports_agreement(tmp_path):
    result, run = _run("cooc", tmp_path, n_docs=400, vocab_size=300)
    assert result.succeeded, _failures(result)
    definition = load_pipeline(str(PIPELINES / "cooc.py")).ir
    branches = [step for step in definition.steps if step.name.startswith("cooc_")]
    assert len(branches) == 4 and all(step.upstream == ["bag_of_words"] for step in branches)
    report = run.output("check_agreement").load()
    assert report["agree"] is True
    assert set(report["seconds"]) == {"python", "sparse", "numba", "numba_parallel"}
    assert report["shape"] == [300, 300] and report["pairs"] > 0


def test_incremental_stores_each_chunk_and_fits_without_the_whole_set(tmp_path):
    result, run = _run("incremental", tmp_path, n_chunks=3, chunk_size=2_000, n_features=4)
    assert result.succeeded, _failures(result)
    chunks = run.output("regression_chunk")
    assert len(chunks) == 3 and len({chunk.info.digest for chunk in chunks}) == 3
    assert all(chunk.info.format == "npy" for chunk in chunks)
    assert isinstance(chunks[0].load(), np.memmap)
    assert run.output("regression_metrics").load()["r2"] > 0.95


def test_gpu_embed_needs_a_gpu_or_the_fallback(tmp_path):
    from components.projection import gpu_available

    if gpu_available():
        pytest.skip("this machine has a GPU; the refusal only happens without one")
    with pytest.raises(ArgosyError, match="gpu-fallback"):
        _run("gpu_embed", tmp_path, n_docs=300)
    result, run = _run("gpu_embed", tmp_path, gpu_fallback=True, n_docs=300, dim=16)
    assert result.succeeded and result.steps["random_projection"].gpu_fallback
    summary = run.output("nearest_pairs").load()
    assert summary["shape"] == [300, 16] and len(summary["pairs"]) == 5


def test_parallel_kernels_survive_the_fork_after_this_process_used_them(tmp_path):
    # the scheduler forks its workers from this process, which has run prange kernels already
    # (GNU OpenMP would abort the forked children)
    from components.cooccurrence import cooccurrence_numba_parallel
    from components.data import bag_of_words

    cooccurrence_numba_parallel(bag_of_words(n_docs=50, vocab_size=30, mean_length=5))
    result, _ = _run("cooc", tmp_path, n_docs=200, vocab_size=100)
    assert result.succeeded, _failures(result)
