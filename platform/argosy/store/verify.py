"""Checking blobs against their digest when they are read: a blob's sha256 is its address.

Anyone who can write to the storage (S3 keys, a shared disk) could replace a blob's bytes; a
blob whose bytes do not hash to its digest is an `ArtifactCorrupted`, never a different value.
Bytes read into memory are hashed as they are; a local file (a blob, or a cached download that
is memory-mapped) is hashed once per process while it is unchanged: the files found whole are
remembered by path, device, inode, size, mtime and ctime, and any change to the file hashes it
again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

from argosy.errors import ArtifactCorrupted

_CHUNK = 1 << 20
_REMEMBERED = 4096
"""Verified files remembered per process (the oldest is forgotten first)."""

_FileKey = tuple[str, int, int, int, int, int]
_verified: OrderedDict[_FileKey, str] = OrderedDict()
_lock = threading.Lock()


def _new_lock() -> None:
    global _lock
    _lock = threading.Lock()  # a fork while another thread held it must not deadlock the child


os.register_at_fork(after_in_child=_new_lock)


def corrupted(digest: str, actual: str, where: str) -> ArtifactCorrupted:
    """The error for a blob at ``where`` whose bytes hash to ``actual`` instead of ``digest``."""
    return ArtifactCorrupted(
        f"blob {digest} at {where} was changed or damaged after it was written: its bytes "
        f"hash to {actual}, so it was not loaded; delete it and run the step that produced it "
        "again (or restore the blob from a copy)"
    )


def check_bytes(data: bytes, digest: str, where: str) -> bytes:
    """``data`` itself if it hashes to ``digest``, else ArtifactCorrupted naming ``where``."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise corrupted(digest, actual, where)
    return data


def check_file(path: Path, digest: str, where: str) -> Path:
    """``path`` itself if the file hashes to ``digest`` (hashed once while it is unchanged)."""
    with path.open("rb") as file:
        before = _key(path, os.fstat(file.fileno()))
        if _known(before, digest):
            return path
        hasher = hashlib.sha256()
        while chunk := file.read(_CHUNK):
            hasher.update(chunk)
        unchanged = _key(path, os.fstat(file.fileno())) == before
    actual = hasher.hexdigest()
    if not unchanged:
        actual = "something else (the file changed while it was read)"
    if actual != digest:
        raise corrupted(digest, actual, where)
    _remember(before, digest)
    return path


def remember(path: Path, digest: str) -> None:
    """Record that the file at ``path`` was just written from bytes hashed to ``digest``."""
    _remember(_key(path, path.stat()), digest)


def _known(key: _FileKey, digest: str) -> bool:
    with _lock:
        if _verified.get(key) != digest:
            return False
        _verified.move_to_end(key)
        return True


def _remember(key: _FileKey, digest: str) -> None:
    with _lock:
        _verified[key] = digest
        _verified.move_to_end(key)
        while len(_verified) > _REMEMBERED:
            _verified.popitem(last=False)


def _key(path: Path, stat: os.stat_result) -> _FileKey:
    return (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


__all__ = ["check_bytes", "check_file", "corrupted", "remember"]
