"""Staging files of writers that died mid-write are removed when a store is checked, safely.

A worker killed mid-write (here: a real SIGKILL) left its staging file in ``store/tmp/`` for
ever, and a few crashes filled a disk. Now `check` removes the files of dead writers; the file
of a writer that is still running, and a fresh one, are kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from argosy.store import LocalStore, S3Store
from argosy.store.staging import ABANDONED_AFTER, DEAD_WRITER_AFTER
from tests.servers.s3 import S3Server
from tests.store.killed_writer import WRITTEN
from tests.store.s3_env import REPO


def _writer(root: Path, ready: Path) -> subprocess.Popen[bytes]:
    """A process stopped in the middle of writing a value into the store at ``root``."""
    command = [sys.executable, "-m", "tests.store.killed_writer", str(root), str(ready)]
    writer = subprocess.Popen(command, cwd=REPO)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert writer.poll() is None, "the writer ended early"
        assert time.monotonic() < deadline, "the writer never got halfway"
        time.sleep(0.05)
    return writer


def _age(path: Path, seconds: float) -> None:
    """Make ``path`` look untouched for ``seconds``."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def _staged(root: Path) -> set[Path]:
    return set((root / "tmp").iterdir())


def test_a_writer_killed_mid_write_leaves_nothing_once_checked(tmp_path: Path) -> None:
    root = tmp_path / "store"
    LocalStore(root).check()
    killed = _writer(root, tmp_path / "killed-ready")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    [left] = _staged(root)
    assert left.stat().st_size >= WRITTEN  # what the killed writer had written

    LocalStore(root).check()
    assert left.exists(), "a dead writer's file is kept for a grace period"
    _age(left, DEAD_WRITER_AFTER + 60)
    LocalStore(root).check()
    assert _staged(root) == set()


def test_a_running_writer_keeps_its_file(tmp_path: Path) -> None:
    root = tmp_path / "store"
    running = _writer(root, tmp_path / "ready")
    try:
        [staged] = _staged(root)
        _age(staged, ABANDONED_AFTER + 60)
        LocalStore(root).check()
        assert staged.exists()
    finally:
        running.kill()
        running.wait()


def test_files_of_unknown_writers_are_removed_only_when_long_untouched(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = LocalStore(root)
    store.check()
    old, recent = root / "tmp" / "put-k2j3h4ab", root / "tmp" / "npz-x7y8z9ab"
    old.write_bytes(b"left by an older Argosy")
    recent.mkdir()
    _age(old, ABANDONED_AFTER + 60)
    _age(recent, ABANDONED_AFTER - 3600)
    store.check()
    assert _staged(root) == {recent}


def test_the_s3_download_cache_is_swept_on_check(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    store = S3Store.from_settings(
        s3_server.settings(s3_bucket, tmp_path / "home"), cache_dir=tmp_path / "cache"
    )
    code = (
        "import sys; from pathlib import Path; from argosy.store.staging import new_file; "
        "new_file(Path(sys.argv[1]), 'get')"  # the process exits, its file stays
    )
    subprocess.run([sys.executable, "-c", code, str(store.staging_dir())], check=True)
    [left] = store.staging_dir().iterdir()
    _age(left, DEAD_WRITER_AFTER + 60)
    store.check()
    assert list(store.staging_dir().iterdir()) == []
