"""Pytest plugin: a real PostgreSQL server (the Debian ``postgresql`` package's binaries).

Fixtures:

* ``postgres_server`` (session): one server on a free port of 127.0.0.1, its data in a temporary
  directory, started as the ``postgres`` user when the tests run as root (``initdb`` refuses
  root), with durability off (fsync) since test data need not survive a power cut;
* ``postgres_url``: a fresh, empty database on it for each test (a SQLAlchemy URL), dropped after;
* ``private_postgres_server``: a server of the test's own, which it may `stop` and `start` again
  (same port, same data) for outage tests.

When the server cannot start, the tests that need it are skipped, or fail when ``CI`` is set.
`PostgresServer` is also used directly by ``tests/benchmarks/bench_metadata.py``.
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

USER = "argosy"
_FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def _bin_dir() -> Path:
    """The newest installed PostgreSQL's bin directory; apt-get installs it if there is none."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "postgresql"],
            check=True,
            capture_output=True,
            env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"},
        )
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(die_with_parent: bool) -> Callable[[], None]:
    """In the child: drop root for the ``postgres`` user, then optionally die with the parent."""
    account = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    def demote() -> None:
        if account is not None:
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
        if die_with_parent:  # set after setuid, which clears it
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)

    return demote


class PostgresServer:
    """One ``postgres`` process serving 127.0.0.1:port, trust auth for user `USER`.

    Run as root, the parent of ``data_dir`` is made traversable for the ``postgres`` user.
    """

    def __init__(self, data_dir: Path, *, durable: bool = False) -> None:
        self.data_dir = data_dir
        self.durable = durable
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3)."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 30.0) -> None:
        bin_dir = _bin_dir()
        cluster = self.data_dir / "cluster"
        if not cluster.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:  # the postgres user must reach and own its directory
                self.data_dir.parent.chmod(0o711)
                shutil.chown(self.data_dir, "postgres", "postgres")
            subprocess.run(
                [bin_dir / "initdb", "-D", cluster, "-U", USER, "--auth=trust", "-E", "UTF8"],
                check=True,
                capture_output=True,
                preexec_fn=_as_postgres(die_with_parent=False),
            )
        self.port = self.port or _free_port()  # a restart keeps the port
        settings = ["listen_addresses=127.0.0.1", "max_connections=200"]
        if not self.durable:
            settings += _FAST
        command = [str(bin_dir / "postgres"), "-D", str(cluster), "-p", str(self.port)]
        command += ["-k", str(self.data_dir)]
        for setting in settings:
            command += ["-c", setting]
        log = (self.data_dir / "postgres.log").open("ab")
        self._process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_as_postgres(die_with_parent=True),
        )
        log.close()
        if not self._wait_ready(timeout):
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start; its log: {self._log_tail()}")

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then SIGKILL after 10 s."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def admin(self) -> psycopg.Connection:
        """An autocommit connection to the ``postgres`` database."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        )

    def create_database(self, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); returns its name."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with self.admin() as connection:
            suffix = f" TEMPLATE {template}" if template else ""
            connection.execute(f"CREATE DATABASE {name}{suffix}")
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                self.admin().close()
            except psycopg.OperationalError:
                time.sleep(0.1)
            else:
                return True
        return False

    def _log_tail(self) -> str:
        log = self.data_dir / "postgres.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


def _start_or_give_up(data_dir: Path) -> PostgresServer:
    server = PostgresServer(data_dir)
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None) or exc
        if os.environ.get("CI"):
            pytest.fail(f"cannot start the PostgreSQL test server: {detail}")
        pytest.skip(f"cannot start the PostgreSQL test server: {detail}")
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with tempfile.TemporaryDirectory(prefix="argosy-pg-") as data_dir:
        server = _start_or_give_up(Path(data_dir) / "pg")
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def private_postgres_server() -> Iterator[PostgresServer]:
    # not under tmp_path: pytest's base directory is private to root, postgres could not enter
    with tempfile.TemporaryDirectory(prefix="argosy-pg-") as data_dir:
        server = _start_or_give_up(Path(data_dir) / "pg")
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


__all__ = ["USER", "PostgresServer"]
