"""Writes into stores on a full disk, for the full-disk test; prints what each write raised.

    python -m tests.store.full_disk_child DIR [ENDPOINT BUCKET ACCESS_KEY SECRET_KEY DIGEST]

run where DIR is a small tmpfs (see test_full_disk.py, which mounts one with ``unshare -Urm``).

Each write is bigger than the disk. The JSON printed maps each to the exception it raised (class
and message) and to the files its staging directory and blob directory hold afterwards.
"""

from __future__ import annotations

import json
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from argosy.store import LocalStore, S3Store, save

TOO_BIG = 3 << 20
"""Bytes each write needs: more than the disk holds."""


def _attempt(write: Callable[[], Any], *folders: Path) -> dict[str, Any]:
    try:
        write()
        outcome: dict[str, Any] = {"error": None, "message": ""}
    except Exception as exc:
        outcome = {"error": type(exc).__name__, "message": str(exc)}
    outcome["left"] = sorted(
        str(path.relative_to(folder))
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file()
    )
    return outcome


def main() -> None:
    disk = Path(sys.argv[1])
    store = LocalStore(disk / "store")
    store.check()
    folders = (store.root / "tmp", store.root / "blobs")
    report = {
        "array": _attempt(lambda: save(store, np.ones(TOO_BIG // 8)), *folders),
        "pickle": _attempt(
            lambda: save(store, types.SimpleNamespace(data=os.urandom(TOO_BIG))), *folders
        ),
        "record": _attempt(lambda: store.put_record("runs/r/log", bytes(TOO_BIG)), *folders),
    }
    if len(sys.argv) > 2:
        endpoint, bucket, access, secret, digest = sys.argv[2:7]
        s3 = S3Store(
            endpoint, bucket, access_key=access, secret_key=secret, secure=False,
            cache_dir=disk / "cache",
        )  # fmt: skip
        report["download"] = _attempt(lambda: s3.local_path(digest), disk / "cache")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
