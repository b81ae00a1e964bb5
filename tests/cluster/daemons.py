"""Long-running processes of the test cluster: started with a log file, found again, stopped.

Each daemon runs in its own session (so a terminal's Ctrl-C does not reach it and it outlives
``make cluster-up``), writes its output to ``logs/NAME.log`` and its pid to ``pids/NAME``, so a
later process (``make cluster-down``, a second pytest run) can find and stop it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path


class StartupError(RuntimeError):
    """A daemon exited or did not become ready; the message carries the end of its log."""


class Daemons:
    """The daemons of one cluster, whose pids and logs live under ``state``."""

    def __init__(self, state: Path) -> None:
        self.logs = state / "logs"
        self.pids = state / "pids"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pids.mkdir(parents=True, exist_ok=True)

    def start(
        self, name: str, command: Sequence[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [str(part) for part in command],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        (self.pids / name).write_text(str(process.pid))
        return process

    def log_tail(self, name: str, size: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else "(no log)"

    def wait_until(
        self, name: str, ready: Callable[[], bool], timeout: float, what: str = "ready"
    ) -> None:
        """Poll ``ready`` until it is true; fail with the daemon's log if it exits or times out."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready():
                    return
            except Exception:  # not up yet: connection refused, TLS not served yet, ...
                pass
            if not self.alive(name):
                raise StartupError(f"{name} exited before it was {what}:\n{self.log_tail(name)}")
            if time.monotonic() > deadline:
                raise StartupError(
                    f"{name} was not {what} after {timeout:.0f} s:\n{self.log_tail(name)}"
                )
            time.sleep(0.25)

    def pid(self, name: str) -> int | None:
        path = self.pids / name
        try:
            return int(path.read_text())
        except (OSError, ValueError):
            return None

    def alive(self, name: str) -> bool:
        pid = self.pid(name)
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # a zombie child of this process is not alive: reap it
        try:
            reaped, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            reaped = 0
        return reaped == 0

    def names(self) -> list[str]:
        return sorted(path.name for path in self.pids.iterdir())

    def stop(self, name: str, grace: float = 10) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; forget the pid."""
        pid = self.pid(name)
        if pid is not None and self.alive(name):
            _signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while self.alive(name) and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.alive(name):
                _signal_group(pid, signal.SIGKILL)
                while self.alive(name):
                    time.sleep(0.05)
        (self.pids / name).unlink(missing_ok=True)


def http_ok(url: str) -> bool:
    """Does ``url`` answer 200 (a health endpoint)?"""
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status == 200


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


__all__ = ["Daemons", "StartupError", "http_ok"]
