"""Clearing what a stopped node leaves behind: pod processes, shims, mounts, namespaces, rules.

Containers outlive the kubelet and containerd by design (their shims keep them), and the
kubelet's volume mounts, the pods' network namespaces, kube-proxy's nftables tables and the pod
cgroups outlive their processes. `tests.cluster.node.Node.stop` calls these in order.
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import subprocess
import time
from pathlib import Path


def _run_quiet(command: list[str]) -> None:
    subprocess.run(command, capture_output=True)


def _cgroup_pids(pattern: str) -> list[int]:
    pids = []
    for path in glob.glob(pattern, recursive=True):
        try:
            pids += [int(line) for line in Path(path).read_text().split()]
        except OSError:
            continue
    return pids


def kill_pods() -> None:
    """SIGKILL every process of every pod (they live under the kubepods cgroups)."""
    for _ in range(20):
        pids = _cgroup_pids("/sys/fs/cgroup/pids/kubepods/**/cgroup.procs")
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def kill_shims(containerd_root: Path) -> None:
    """The containerd shims started for ``containerd_root`` (they outlive containerd)."""
    marker = str(containerd_root).encode()
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            argv = Path(cmdline).read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"containerd-shim-runc-v2") and marker in b" ".join(argv):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(cmdline.split("/")[2]), signal.SIGKILL)


def unmount_under(root: Path) -> None:
    """Lazily unmount everything mounted below ``root``, deepest first."""
    prefix = str(root.resolve()) + "/"
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        _run_quiet(["umount", "--lazy", mount])


def remove_pod_netns() -> None:
    """The pods' network namespaces, which containerd pins under /var/run/netns."""
    for path in glob.glob("/var/run/netns/cni-*"):
        _run_quiet(["umount", "--lazy", path])
        Path(path).unlink(missing_ok=True)


def remove_proxy_rules() -> None:
    """kube-proxy's nftables tables (it leaves them when stopped)."""
    for family in ("ip", "ip6"):
        _run_quiet(["nft", "delete", "table", family, "kube-proxy"])


def remove_pod_cgroups() -> None:
    """The kubepods cgroup tree in every hierarchy, deepest first."""
    for hierarchy in glob.glob("/sys/fs/cgroup/*/"):
        top = Path(hierarchy) / "kubepods"
        if not top.is_dir():
            continue
        folders = (Path(p) for p in glob.glob(f"{top}/**/", recursive=True))
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()


__all__ = [
    "kill_pods",
    "kill_shims",
    "remove_pod_cgroups",
    "remove_pod_netns",
    "remove_proxy_rules",
    "unmount_under",
]
