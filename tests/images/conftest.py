"""Real container tooling for the `images` tests: buildah storage, a Debian base, containerd.

Everything lives in temporary directories: buildah's storage (overlay driver, configured through
``CONTAINERS_STORAGE_CONF`` in the environment handed to each child, never in ``os.environ``),
a Debian bookworm root file system made by mmdebstrap and committed as a local image (no
registry is reachable here, so nothing is pulled), and a containerd started by the test with
its own root, state and socket, like the one inside a kind node.

Without buildah, mmdebstrap, containerd, ctr or runc the tests skip, unless
``ARGOSY_REQUIRE_IMAGE_TOOLS=1`` (set by ``.ci/test-images.sh``, which installs them) makes a
missing tool a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

TOOLS = ("buildah", "mmdebstrap", "containerd", "ctr", "runc")
DEBIAN_IMAGE = "localhost/argosy-debian:bookworm"
"""The base image `argosy/base` is built FROM in these tests."""
DEBIAN_MIRROR = "http://deb.debian.org/debian"


def run(command: Sequence[str], env: dict[str, str], timeout: float = 600, **kwargs) -> str:
    """Run a command; fail the test with its output when it fails."""
    done = subprocess.run(
        list(command), env=env, capture_output=True, text=True, timeout=timeout, **kwargs
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(command[:4])} ... exited {done.returncode}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout


@pytest.fixture(scope="session")
def image_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        message = f"missing {', '.join(missing)}: run .ci/test-images.sh (it installs them)"
        if os.environ.get("ARGOSY_REQUIRE_IMAGE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def buildah_env(image_tools, tmp_path_factory) -> Iterator[dict[str, str]]:
    """An environment whose buildah keeps its images in a fresh temporary storage."""
    root = tmp_path_factory.mktemp("buildah")
    config = root / "storage.conf"
    config.write_text(
        "[storage]\n"
        'driver = "overlay"\n'
        f'graphroot = "{root / "graph"}"\n'
        f'runroot = "{root / "run"}"\n'
    )
    env = {**os.environ, "CONTAINERS_STORAGE_CONF": str(config)}
    yield env
    subprocess.run(["buildah", "rm", "--all"], env=env, capture_output=True)
    shutil.rmtree(root, ignore_errors=True)  # faster than `buildah rmi --all`: nothing is mounted


@pytest.fixture(scope="session")
def debian_image(buildah_env, tmp_path_factory) -> str:
    """A minimal Debian bookworm with python3 and venv, bootstrapped from the Debian mirror."""
    rootfs = tmp_path_factory.mktemp("debian") / "rootfs.tar"
    run(
        [
            "mmdebstrap", "--variant=minbase",
            "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
            "--include=python3,python3-venv,ca-certificates",
            "bookworm", str(rootfs), DEBIAN_MIRROR,
        ],
        buildah_env,
    )  # fmt: skip
    container = run(["buildah", "from", "scratch"], buildah_env).strip()
    run(["buildah", "add", container, str(rootfs), "/"], buildah_env)
    run(["buildah", "config", "--cmd", "/bin/sh", container], buildah_env)
    run(["buildah", "commit", "--quiet", container, DEBIAN_IMAGE], buildah_env)
    run(["buildah", "rm", container], buildah_env)
    rootfs.unlink()
    return DEBIAN_IMAGE


@dataclass(frozen=True)
class Containerd:
    """A containerd started by the test: ``ctr(...)`` talks to it."""

    socket: Path
    env: dict[str, str]

    def ctr(self, *args: str, stdin_path: Path | None = None, timeout: float = 600) -> str:
        command = ["ctr", "--address", str(self.socket), *args]
        if stdin_path is None:
            return run(command, self.env, timeout=timeout)
        with stdin_path.open("rb") as stdin:
            done = subprocess.run(
                command, env=self.env, stdin=stdin, capture_output=True, timeout=timeout
            )
        if done.returncode != 0:
            error = done.stderr.decode()[-2000:]
            pytest.fail(f"{' '.join(command)} exited {done.returncode}: {error}")
        return done.stdout.decode()


@pytest.fixture(scope="session")
def containerd(image_tools, tmp_path_factory) -> Iterator[Containerd]:
    """containerd with its own root, state and socket (the CRI plugin off: no kubelet here)."""
    home = tmp_path_factory.mktemp("containerd")
    socket = home / "containerd.sock"
    config = home / "config.toml"
    config.write_text(
        "version = 2\n"
        f'root = "{home / "root"}"\n'
        f'state = "{home / "state"}"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        f'[grpc]\n  address = "{socket}"\n'
    )
    log = (home / "containerd.log").open("w")
    process = subprocess.Popen(
        ["containerd", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    daemon = Containerd(socket=socket, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while (
            subprocess.run(
                ["ctr", "--address", str(socket), "version"], capture_output=True
            ).returncode
            != 0
        ):
            if process.poll() is not None or time.monotonic() > deadline:
                log_text = (home / "containerd.log").read_text()[-2000:]
                pytest.fail(f"containerd did not start: {log_text}")
            time.sleep(0.2)
        yield daemon
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)
