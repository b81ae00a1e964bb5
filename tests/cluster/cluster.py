"""The whole test cluster, up or down: build, start the node, import images, install the platform.

`up` is what ``make cluster-up`` and the pytest fixture call. It reuses a healthy cluster that is
already running from the same state folder (``.tools/cluster/state``), and otherwise clears what
a dead one left and starts anew. It leaves ``platform.json`` and ``env.sh`` in the state folder:
what ``argosy``, ``kubectl`` and ``helm`` on this machine need to use the cluster.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from tests.cluster import platform
from tests.cluster.images import build_images, import_images
from tests.cluster.node import Node
from tests.cluster.platform import Platform
from tests.cluster.toolchain import build_all, tools_dir


def state_dir() -> Path:
    return tools_dir() / "cluster" / "state"


def _log(message: str) -> None:
    print(f"[cluster] {message}", file=sys.stderr, flush=True)


@contextmanager
def _timed(stage: str, timings: dict[str, float]):
    started = time.monotonic()
    _log(f"{stage} ...")
    yield
    timings[stage] = time.monotonic() - started
    _log(f"{stage}: {timings[stage]:.0f} s")


def _platform_file(state: Path) -> Path:
    return state / "platform.json"


def running() -> Platform | None:
    """The platform of a healthy cluster already running from the state folder, if any."""
    state = state_dir()
    if not _platform_file(state).exists() or not Node(state).healthy():
        return None
    saved = json.loads(_platform_file(state).read_text())
    return Platform(**{k: Path(v) if k in {"kubeconfig", "gpu_profiles"} else v
                       for k, v in saved.items()})  # fmt: skip


def up(timings: dict[str, float] | None = None) -> Platform:
    """A running cluster with Argosy and Argo installed (started now unless one is running)."""
    timings = {} if timings is None else timings
    with _timed("build (Go modules)", timings):
        binaries = build_all()
    with _timed("images (buildah)", timings):
        images, archives = build_images(binaries)
    found = running()
    if found is not None:
        _log(f"reusing the running cluster (KUBECONFIG={found.kubeconfig})")
        return found
    state = state_dir()
    down()
    node = Node(state)
    with _timed("cluster start", timings):
        node.start(binaries)
        import_images(node, archives)
        node.start_node_agents(binaries)
    with _timed("platform install (helm --wait, helm test, Argo)", timings):
        platform.apply_argo_crds(node)
        platform.provide_volumes(node)
        platform.install_chart(node, images)
        platform.start_controller(node, binaries["workflow-controller"], images)
    installed = platform.client_platform(node, images)
    saved = {k: str(v) for k, v in asdict(installed).items()}
    _platform_file(state).write_text(json.dumps(saved, indent=2))
    (state / "env.sh").write_text(
        "".join(f"export {k}='{v}'\n" for k, v in installed.environment().items())
    )
    return installed


def down() -> None:
    """Stop the cluster of the state folder (if any) and remove its files."""
    state = state_dir()
    if state.exists():
        Node(state).stop()
        shutil.rmtree(state, ignore_errors=True)


__all__ = ["down", "running", "state_dir", "up"]
