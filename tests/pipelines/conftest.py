"""The example pipelines of ``pipelines/``, loaded the way ``argosy run`` loads them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from argosy.dsl import PipelineDefinition, load_pipeline

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


@pytest.fixture(scope="session")
def example() -> Callable[[str], PipelineDefinition]:
    """``example("kmeans_sweep")``: the pipeline defined in ``pipelines/kmeans_sweep.py``."""
    return lambda name: load_pipeline(str(PIPELINES / f"{name}.py"))
