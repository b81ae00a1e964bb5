"""Real runs for the client and inspection tests, made with ``argosy run`` on a fresh home.

`record(home)` runs, in a subprocess each as a user would: the `shouting` test pipeline twice
(a success, then a failure after one retry), a resume of the failure (clones), the success again
with ``--cache`` (cache hits) and a small `kmeans_sweep`. The tests only read these runs, so
`recorded` makes them once per test session and every module shares them.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHOUTING = "tests/pipelines/shouting.py"


def argosy(home: Path, *args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    """``argosy ARGS...`` in a subprocess on ``home``, with no other Argosy settings (but
    ``ARGOSY_USER`` when ``user`` is given)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ARGOSY_")}
    env["ARGOSY_HOME"] = str(home)
    if user is not None:
        env["ARGOSY_USER"] = user
    return subprocess.run(
        [sys.executable, "-m", "argosy", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_json(home: Path, *args: str, status: str) -> str:
    """Run ``argosy ARGS... --json``, check the run ended in ``status``, return its id."""
    result = argosy(home, *args, "--max-workers", "2", "--json")
    assert result.stdout, result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == status, result.stderr
    assert result.returncode == (0 if status == "succeeded" else 1)
    return payload["run_id"]


@dataclass(frozen=True)
class Recorded:
    home: Path
    ok: str
    """shouting, default parameters: succeeded."""
    failed: str
    """shouting with fail_on=new: shout[2] failed twice, lengths and sentence skipped."""
    resumed: str
    """resume of `failed`: words and shout[0, 1, 3] cloned, shout[2] failed again."""
    cached: str
    """shouting again with --cache after a first --cache run: every task a cache hit."""
    sweep: str
    """kmeans_sweep with n_docs=300, ks=[2, 3]."""


def record(home: Path) -> Recorded:
    ok = run_json(home, "run", SHOUTING, status="succeeded")
    failed = run_json(home, "run", SHOUTING, "--param", "fail_on=new", status="failed")
    resumed = run_json(home, "resume", failed, status="failed")
    run_json(home, "run", SHOUTING, "--cache", "--param", "text=cached words", status="succeeded")
    cached = run_json(
        home, "run", SHOUTING, "--cache", "--param", "text=cached words", status="succeeded"
    )
    sweep = run_json(
        home,
        "run",
        "pipelines/kmeans_sweep.py",
        "--param",
        "n_docs=300",
        "--param",
        "ks=[2,3]",
        status="succeeded",
    )
    return Recorded(home, ok=ok, failed=failed, resumed=resumed, cached=cached, sweep=sweep)


@functools.cache
def recorded(base: Path) -> Recorded:
    """The runs of `record`, made on first use under ``base`` (pytest's session temp dir)."""
    return record(base / "recorded-runs")
