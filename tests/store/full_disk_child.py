"""Writes into stores on a full disk, for the full-disk test; prints what each write raised.

    python -m tests.store.full_disk_child DIR [ENDPOINT BUCKET ACCESS_KEY SECRET_KEY DIGEST]

run where DIR is a small tmpfs (see test_full_disk.py, which mounts one with ``unshare -Urm``).

Each write is bigger than the disk, but for the packed ones: small records, then (once a file
was removed to make room) small blobs, written until the disk is full. The JSON printed maps
each to the exception it raised (class and message) and to the files its staging directory and
blob directory hold afterwards; for the packed ones, also whether all that was written before
the disk filled reads back.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from argosy.store import LocalStore, S3Store, save
from argosy.store.packed import BLOB_LIMIT, RECORD_LIMIT

TOO_BIG = 3 << 20
"""Bytes each write needs: more than the disk holds."""
BALLAST = 512 << 10
"""Bytes of a file that takes room while records fill the disk, removed before blobs do."""


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


def _fill(write: Callable[[int], None], written: list[int]) -> None:
    """Call ``write(n)`` for n = 0, 1, ... until it fails (the disk is full)."""
    for n in range(1000):
        write(n)
        written.append(n)


def _packed(store: LocalStore, write: Callable[[int], None], read: Callable[[int], Any]) -> dict:
    """Packed writes until the disk is full, and whether all that was written reads back."""
    written: list[int] = []
    outcome = _attempt(lambda: _fill(write, written), store.root / "tmp", store.root / "blobs")
    outcome["readable"] = len(written) > 5 and all(read(n) for n in written)
    return outcome


def _record(n: int) -> bytes:
    return bytes([n % 256]) * (RECORD_LIMIT - 1024)


def _blob(n: int) -> bytes:
    return n.to_bytes(4, "big") * (BLOB_LIMIT // 4)


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
    fresh = LocalStore(store.root)
    ballast = disk / "ballast"
    ballast.write_bytes(bytes(BALLAST))
    report["packed"] = _packed(
        store,
        lambda n: store.put_record(f"runs/r/logs/s/{n}/0.log", _record(n)),
        lambda n: fresh.get_record(f"runs/r/logs/s/{n}/0.log") == _record(n),
    )
    ballast.unlink()  # room again, now for small blobs
    report["packed blob"] = _packed(
        store,
        lambda n: store.put_chunks([_blob(n)], hashlib.sha256(_blob(n)).hexdigest()),
        lambda n: fresh.get_bytes(hashlib.sha256(_blob(n)).hexdigest()) == _blob(n),
    )
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
