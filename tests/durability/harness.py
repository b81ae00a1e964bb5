"""What the durability tests start and break: ``argosy run`` processes, ``argosy server``
processes, and the processes under them, all real, stopped with real signals."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.servers.s3 import S3Server

REPO = Path(__file__).resolve().parents[2]
PIPELINE = str(Path(__file__).with_name("wide.py"))
TOKEN = secrets.token_urlsafe(32)
"""The admin token of every service these tests start."""
QUICK = {"ARGOSY_HEARTBEAT_SECONDS": "0.2", "ARGOSY_LOST_AFTER_SECONDS": "2"}
"""Heartbeats and lost-run detection on a test's time scale."""


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def environment(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without its ARGOSY_ settings, then ``extra``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ARGOSY_")}
    return inherited | {"ARGOSY_HOME": str(home), "ARGOSY_MAX_WORKERS": "2", **QUICK, **extra}


def s3_variables(server: S3Server, bucket: str) -> dict[str, str]:
    return {
        "ARGOSY_S3_ENDPOINT": server.endpoint,
        "ARGOSY_S3_BUCKET": bucket,
        "ARGOSY_S3_ACCESS_KEY": server.access_key,
        "ARGOSY_S3_SECRET_KEY": server.secret_key,
        "ARGOSY_S3_SECURE": "false",
    }


def descendants(pid: int) -> set[int]:
    """Every live process under ``pid``."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except (FileNotFoundError, ProcessLookupError):
                continue
            todo.extend(children - found)
            found |= children
    return found


def alive(pids: set[int]) -> set[int]:
    """The processes of ``pids`` that still run (zombies count as gone)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state != "Z":
            running.add(pid)
    return running


def workers(pid: int) -> set[int]:
    """The worker processes under runner ``pid``: each leads a process group of its own, in the
    runner's session (not a session leader, as the pool's guardian is)."""
    found = set()
    for child in descendants(pid):
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        group, session = int(fields[2]), int(fields[3])
        if group == child != session:
            found.add(child)
    return found


class Run:
    """``argosy run|resume ...`` in a session of its own, as from a terminal."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "argosy", *args],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def running(self) -> bool:
        """True while it runs; an AssertionError with its output once it has exited."""
        if self.process.poll() is None:
            return True
        out, err = self.process.communicate()
        raise AssertionError(f"argosy exited with {self.process.returncode}: {out}\n{err}")

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        """Its exit code, stdout and stderr."""
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err


def marks(directory: Path) -> int:
    return sum(1 for _ in directory.iterdir()) if directory.is_dir() else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MetadataService:
    """``argosy server`` on ``database_url``, killable and restartable on the same port."""

    def __init__(self, database_url: str, home: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = environment(home, ARGOSY_ADMIN_TOKEN=TOKEN)
        self._database_url = database_url
        self._log = home.parent / f"service-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def variables(self) -> dict[str, str]:
        """What a client of this service sets."""
        return {"ARGOSY_METADATA_URL": self.url, "ARGOSY_TOKEN": TOKEN}

    def start(self) -> None:
        command = [sys.executable, "-m", "argosy", "server", "--port", str(self.port)]
        command += ["--database-url", self._database_url, "--migrate"]
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(command, env=self._env, stdout=log, stderr=log)
        wait_for(f"the metadata service on {self.url} ({self._log})", self._ready, 60)

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise AssertionError(f"the metadata service exited: {self._log.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).is_success
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
            self._process = None


__all__ = [
    "PIPELINE",
    "QUICK",
    "TOKEN",
    "MetadataService",
    "Run",
    "alive",
    "descendants",
    "environment",
    "marks",
    "s3_variables",
    "wait_for",
    "workers",
]
