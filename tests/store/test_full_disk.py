"""A full disk is a StoreError that names the path and what to do, and leaves no partial file.

The disk is a real 2 MiB tmpfs, mounted in a user and mount namespace of the child process
that writes (``unshare -Urm``): every write there really fails with ENOSPC. Before, each write
failed with a bare ``OSError: [Errno 28] No space left on device``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argosy.store import S3Store
from tests.servers.s3 import S3Server
from tests.store.full_disk_child import TOO_BIG
from tests.store.s3_env import REPO


def _on_a_full_disk(disk: Path, *args: str) -> dict[str, Any]:
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to mount a small tmpfs")
    probe = subprocess.run(["unshare", "-Urm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a user and mount namespace: {probe.stderr.decode().strip()}")
    disk.mkdir()
    script = 'mount -t tmpfs -o size=2m tmpfs "$1" && shift && exec "$@"'
    child = [sys.executable, "-m", "tests.store.full_disk_child", str(disk), *args]
    done = subprocess.run(
        ["unshare", "-Urm", "sh", "-c", script, "sh", str(disk), *child],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _assert_reported(outcome: dict[str, Any], disk: Path) -> None:
    assert outcome["error"] == "StoreError", outcome
    message = outcome["message"]
    assert "is full" in message and "ARGOSY_HOME" in message and "Free space" in message
    assert str(disk) in message
    assert outcome["left"] == [], "a partial file was left behind"


def test_writes_to_a_full_local_store(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    report = _on_a_full_disk(disk)
    for write in ("array", "pickle", "record", "packed", "packed blob"):
        _assert_reported(report[write], disk)
    for write in ("packed", "packed blob"):
        assert report[write]["readable"], "what was written before the disk filled was lost"
    needed = int(
        re.search(r"while writing ([\d,]+) bytes", report["array"]["message"])[1].replace(",", "")
    )
    assert TOO_BIG <= needed < TOO_BIG + 1024  # the size, where it is known (array and header)


def test_a_download_into_a_full_cache(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    writer = S3Store.from_settings(
        s3_server.settings(s3_bucket, tmp_path / "home"), cache_dir=tmp_path / "writer"
    )
    digest = writer.put_bytes(np.random.default_rng(0).bytes(TOO_BIG))
    disk = tmp_path / "disk"
    credentials = (s3_server.access_key, s3_server.secret_key)
    report = _on_a_full_disk(disk, s3_server.endpoint, s3_bucket, *credentials, digest)
    _assert_reported(report["download"], disk)
