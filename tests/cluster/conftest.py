"""Fixtures of the cluster tests: the real single-node Kubernetes with Argosy and Argo on it.

``cluster`` (session) builds and starts it through `tests.cluster.cluster.up`, or reuses one
that ``make cluster-up`` left running, and stops only what it started itself. It needs root
(the node mounts, makes cgroups and a bridge) and Go; without them the tests skip, unless
``ARGOSY_REQUIRE_CLUSTER=1`` (``make test-cluster``) makes that a failure.

``argosy_env`` is the environment of a user on this machine who sourced the cluster's
``env.sh``: ``argosy`` and ``kubectl`` reach the API server, the metadata service and MinIO.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argosy.config import Settings
from tests.cluster import cluster as test_cluster
from tests.cluster.platform import Platform

ROOT = Path(__file__).resolve().parents[2]
FIGURES: list[tuple[str, str]] = []
"""Figures the tests measured (wall times, counts), printed at the end of the session."""


def record_figure(name: str, value: str) -> None:
    FIGURES.append((name, value))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("figures measured on the test cluster")
        for name, value in FIGURES:
            terminalreporter.write_line(f"{name}: {value}")


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the test cluster needs root (mounts, cgroups, a network bridge)"
    for tool in ("go", "helm", "kubectl", "buildah", "containerd", "runc", "nft", "mmdebstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: run `make test-cluster`, which installs it"
    return None


@pytest.fixture(scope="session")
def cluster() -> Iterator[Platform]:
    missing = _missing()
    if missing:
        if os.environ.get("ARGOSY_REQUIRE_CLUSTER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    started_here = test_cluster.running() is None
    timings: dict[str, float] = {}
    platform = test_cluster.up(timings)
    if started_here:
        for stage, seconds in timings.items():
            record_figure(stage, f"{seconds:.0f} s")
    try:
        yield platform
    finally:
        if started_here and os.environ.get("ARGOSY_KEEP_CLUSTER") != "1":
            test_cluster.down()


@pytest.fixture
def argosy_env(cluster: Platform, tmp_path: Path) -> dict[str, str]:
    """This machine's environment for ``argosy``/``kubectl`` against the cluster."""
    return {**os.environ, **cluster.environment(), "ARGOSY_HOME": str(tmp_path / "argosy-home")}


@pytest.fixture
def client_settings(cluster: Platform, tmp_path: Path) -> Settings:
    """The same configuration as `Settings`, for reading the cluster's runs from Python."""
    return cluster.settings(tmp_path / "argosy-home")


def argosy(env: dict[str, str], *args: str, check: bool = True, timeout: float = 900) -> Any:
    """Run the ``argosy`` command as a user would; its completed process."""
    done = subprocess.run(
        ["argosy", *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"argosy {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done


def kubectl(env: dict[str, str], *args: str) -> Any:
    """``kubectl ... -o json`` as a user would; the parsed output."""
    done = subprocess.run(
        ["kubectl", *args, "-o", "json"], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)
