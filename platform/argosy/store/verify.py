"""Checking blobs against their digest when they are read: a blob's sha256 is its address.

Anyone who can write to the storage (S3 keys, a shared disk) could replace a blob's bytes; a
blob whose bytes do not hash to its digest is an `ArtifactCorrupted`, never a different value.
Bytes read into memory are hashed as they are; a local file (a blob, or a cached download that
is memory-mapped) is hashed once per process while it is unchanged: the files found whole are
remembered by path, device, inode, size, mtime and ctime, and any change to the file hashes it
again.

Across processes, a large blob of the local store carries a seal (`seal`): its writer, which
hashed the bytes as it wrote them, records the file's device, inode, size, mtime and ctime in
``seals/<digest>``. A reader whose file still matches its seal needs no second hash: any write
to the file, a chmod or a rename moves its ctime to the present, and no one can set a ctime
back, so a blob handed from one step to the next is hashed once, by its writer. A mismatch only
means the file is hashed again (and sealed again if whole). A seal guards against damage and
stray writes, not against someone who may write to the local store's directory (a user's own
files): they could write seals as well. What others can write to, S3 and its download cache, is
never sealed: each process hashes what it reads of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

from argosy.errors import ArtifactCorrupted

_CHUNK = 1 << 20
SEALED_SIZE = 1 << 20
"""Files this large or larger get a seal; smaller ones hash in about a millisecond."""
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


def check_file(path: Path, digest: str, where: str, seals: Path | None = None) -> Path:
    """``path`` itself if the file hashes to ``digest`` (hashed once while it is unchanged, and
    not at all when it matches its seal under ``seals``)."""
    with path.open("rb") as file:
        before = _key(path, os.fstat(file.fileno()))
        if _known(before, digest) or _sealed(before, digest, seals):
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
    if seals is not None:
        _write_seal(before, digest, seals)
    return path


def remember(path: Path, digest: str) -> None:
    """Record that the file at ``path`` was just written from bytes hashed to ``digest``."""
    _remember(_key(path, path.stat()), digest)


def seal(path: Path, digest: str, seals: Path) -> None:
    """Record, for this process and others, that the file at ``path`` (just written from bytes
    hashed to ``digest``) is whole."""
    key = _key(path, path.stat())
    _remember(key, digest)
    _write_seal(key, digest, seals)


def unseal(digest: str, seals: Path) -> None:
    """Remove the seal of ``digest`` under ``seals``, if there is one (its blob is deleted)."""
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        _seal_path(digest, seals).unlink()


def _seal_path(digest: str, seals: Path) -> Path:
    return seals / digest[:2] / digest


def _identity(key: _FileKey) -> str:
    return " ".join(str(part) for part in key[1:])


def _sealed(key: _FileKey, digest: str, seals: Path | None) -> bool:
    if seals is None or key[3] < SEALED_SIZE:
        return False
    try:
        matches = _seal_path(digest, seals).read_text() == _identity(key)
    except (FileNotFoundError, NotADirectoryError):
        return False
    if matches:
        _remember(key, digest)
    return matches


def _write_seal(key: _FileKey, digest: str, seals: Path) -> None:
    if key[3] < SEALED_SIZE:
        return
    target = _seal_path(digest, seals)
    staged = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.write_text(_identity(key))
        os.replace(staged, target)
    except OSError:  # no seal (a read-only store, a full disk): readers hash the file
        staged.unlink(missing_ok=True)


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


__all__ = [
    "SEALED_SIZE",
    "check_bytes",
    "check_file",
    "corrupted",
    "remember",
    "seal",
    "unseal",
]
