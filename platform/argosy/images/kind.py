"""Load built image archives into a kind cluster, as ``kind load image-archive`` does.

kind streams the archive into ``ctr images import`` on every node (`NODE_IMPORT_COMMAND`, the
exact command kind runs); the images then exist in the nodes' containerd under the names the
archive carries, so pods using them with ``imagePullPolicy: IfNotPresent`` start without a
registry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from argosy.errors import ConfigError, ImageError

NODE_IMPORT_COMMAND = (
    "ctr", "--namespace=k8s.io", "images", "import",
    "--all-platforms", "--digests", "--snapshotter=overlayfs", "-",
)  # fmt: skip
"""What kind runs on each node, the archive on its standard input."""


def load_command(archive: Path, cluster: str, kind: str = "kind") -> list[str]:
    """The argv that loads ``archive`` into every node of kind cluster ``cluster``."""
    return [kind, "load", "image-archive", str(archive), "--name", cluster]


def find_kind(env: Mapping[str, str] | None = None) -> str:
    """The ``kind`` executable; ConfigError saying how to get it when it is not on PATH."""
    env = os.environ if env is None else env
    kind = shutil.which("kind", path=env.get("PATH"))
    if kind is None:
        raise ConfigError(
            "--kind-cluster needs the `kind` command on PATH; install kind "
            "(https://kind.sigs.k8s.io) or load the archives yourself"
        )
    return kind


def load_into_kind(
    archives: list[Path], cluster: str, env: Mapping[str, str] | None = None
) -> None:
    """Load each archive into the kind cluster; ImageError when kind refuses."""
    env = os.environ if env is None else env
    kind = find_kind(env)
    for archive in archives:
        done = subprocess.run(
            load_command(archive, cluster, kind), env=dict(env), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise ImageError(
                f"kind could not load {archive.name} into cluster {cluster!r}: "
                f"{(done.stderr or done.stdout).strip()[-500:]}; check `kind get clusters`"
            )


__all__ = ["NODE_IMPORT_COMMAND", "find_kind", "load_command", "load_into_kind"]
