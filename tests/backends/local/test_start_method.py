"""Workers are forked while that is safe, and come from a fork server once OpenMP has run here.

Each scenario runs in a fresh interpreter, because what counts is what the process running the
scheduler has done before: a test run in pytest's own process would depend on the tests before.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCENARIO = """
import numpy as np
from sklearn.cluster import KMeans

from argosy.backends.local import run_pipeline
from argosy.backends.local.start_method import start_method
from argosy.config import Settings
from argosy.dsl import load_pipeline

definition = load_pipeline("tests.backends.local.openmp_pipeline:openmp_sweep")
print("before", start_method(definition.ref))
KMeans(n_clusters=2, n_init=1).fit(np.random.default_rng(0).random((500, 3)))  # OpenMP pool
print("after", start_method(definition.ref))
result = run_pipeline(
    definition, {{"ks": [2, 3, 4]}}, Settings(home={home!r}), max_workers=2, progress=False
)
print("run", result.status.value, result.steps["inertia"].tasks)
"""


def test_a_scheduler_that_ran_openmp_still_gets_working_workers(tmp_path: Path) -> None:
    code = textwrap.dedent(SCENARIO).format(home=str(tmp_path / "home"))
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=180,  # forked workers would hang in K-means forever
        cwd=Path(__file__).parents[3],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == [
        "before fork",
        "after forkserver",
        "run succeeded 3",
    ]


def test_a_pipeline_defined_in_main_is_always_forked() -> None:
    from argosy.backends.local.start_method import start_method

    assert start_method("__main__:anything") == "fork"
