"""`LocalStore`: the artifact store in a directory on this machine (the default, under ARGOSY_HOME).

Layout under the root::

    blobs/ab/cdef...    content-addressed blobs, named by their sha256 (read-only files)
    records/<key>       small documents at deterministic keys (see `argosy.store.addresses`)
    tmp/                staging: every write lands here first, then moves in with os.replace
    seals/ab/abcdef...  what a large blob's file looked like when it was known whole (see
                        `argosy.store.verify.seal`): readers in other processes skip the hash
    paths/<format>/...  file and folder artifacts placed under their names for steps to read
                        (`argosy.store.paths`); safe to delete

A write is a temporary file in ``tmp/`` renamed into place, so readers see a whole file or
none; ``tmp/`` is on the same filesystem as the rest, so the rename is atomic and copies nothing.
`check` removes the staging files of writers that died mid-write (`argosy.store.staging`), and a
full disk is a StoreError naming the store and what to do. Every blob read is checked against
its digest (`argosy.store.verify`), or against the seal its writer left.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from argosy.errors import ArtifactNotFound, StoreError, StoreUnavailable
from argosy.store.base import StoredBlob
from argosy.store.keys import blob_relpath, check_digest, check_record_key, is_digest
from argosy.store.paths import remove_placed
from argosy.store.staging import new_file, reporting_full_disk, sweep
from argosy.store.verify import check_bytes, check_file, seal, unseal


class LocalStore:
    """Blobs and records in a directory tree; safe for many processes at once."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().absolute()
        self._blobs = self.root / "blobs"
        self._records = self.root / "records"
        self._staging = self.root / "tmp"
        self._seals = self.root / "seals"

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def check(self) -> None:
        """Raise StoreUnavailable unless the store is writable; remove dead writers' files."""
        try:
            for directory in (self._blobs, self._records, self._staging):
                directory.mkdir(parents=True, exist_ok=True)
            sweep(self._staging)
            fd, probe = new_file(self._staging, "check")
            os.close(fd)
            probe.unlink()
        except OSError as exc:
            raise StoreUnavailable(
                f"the local artifact store at {self.root} is not writable ({exc.strerror}); "
                "set ARGOSY_HOME to a writable directory"
            ) from exc

    def uri(self, digest: str) -> str:
        return self._blob_path(digest).as_uri()

    def staging_dir(self) -> Path:
        self._staging.mkdir(parents=True, exist_ok=True)
        return self._staging

    def has(self, digest: str) -> bool:
        return self._blob_path(digest).is_file()

    def put_file(self, path: Path, digest: str) -> None:
        target = self._blob_path(digest)
        if target.is_file():
            path.unlink(missing_ok=True)
            return
        if path.parent != self._staging:  # maybe another filesystem: stage a copy first
            staged = self._stage_copy(path)
            path.unlink(missing_ok=True)
            path = staged
        path.chmod(0o444)
        self._move_in(path, target)
        seal(target, digest, self._seals)

    def put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.put_chunks([data], digest)
        return digest

    def put_chunks(self, chunks: Sequence[bytes | memoryview], digest: str) -> None:
        if not self.has(digest):
            self.put_file(self._stage(chunks), digest)

    def get_bytes(self, digest: str) -> bytes:
        path = self._existing_blob(digest)
        return check_bytes(path.read_bytes(), digest, path.as_uri())

    def local_path(self, digest: str) -> Path:
        path = self._existing_blob(digest)
        return check_file(path, digest, path.as_uri(), self._seals)

    def put_record(self, key: str, data: bytes) -> None:
        target = self._records / check_record_key(key)
        self._move_in(self._stage([data]), target)

    def get_record(self, key: str) -> bytes | None:
        try:
            return (self._records / check_record_key(key)).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def list_records(self, prefix: str) -> list[str]:
        head, _, _ = prefix.rpartition("/")
        base = self._records / check_record_key(head) if head else self._records
        if not base.is_dir():
            return []
        keys = (
            path.relative_to(self._records).as_posix() for path in base.rglob("*") if path.is_file()
        )
        return sorted(key for key in keys if key.startswith(prefix))

    def blobs(self) -> Iterator[StoredBlob]:
        for folder in _entries(self._blobs):
            for entry in _entries(Path(folder.path)):
                digest = folder.name + entry.name
                with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                    if is_digest(digest) and entry.is_file(follow_symlinks=False):
                        found = entry.stat()
                        stored_at = datetime.fromtimestamp(found.st_mtime, UTC)
                        yield StoredBlob(digest, found.st_size, stored_at)

    def delete_blobs(self, digests: Iterable[str]) -> int:
        freed = 0
        for digest in digests:
            blob = self._blob_path(digest)
            freed += _unlink(blob)
            unseal(digest, self._seals)
            freed += remove_placed(self, digest)
        return freed

    def delete_records(self, prefix: str) -> int:
        return sum(_unlink(self._records / key) for key in self.list_records(prefix))

    def compact(self) -> None:
        for top in (self._blobs, self._records, self._seals, self.root / "paths"):
            _remove_empty_folders(top)

    def _blob_path(self, digest: str) -> Path:
        return self._blobs / blob_relpath(check_digest(digest))

    def _existing_blob(self, digest: str) -> Path:
        path = self._blob_path(digest)
        if not path.is_file():
            raise ArtifactNotFound(
                f"no blob {digest} in the local store at {self.root}; was it written by a "
                "run with the same ARGOSY_HOME (or with S3 settings)?"
            )
        return path

    def _move_in(self, staged: Path, target: Path) -> None:
        """Rename the staged file to ``target``, making its folder first (again, should
        `compact` remove it in between)."""
        for attempt in range(3):
            with reporting_full_disk(self.root):
                target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(staged, target)
                return
            except FileNotFoundError:
                if attempt == 2 or not staged.exists():
                    staged.unlink(missing_ok=True)
                    raise

    def _stage(self, chunks: Sequence[bytes | memoryview]) -> Path:
        """A new file in the staging directory holding the chunks, one after the other."""
        needed = sum(memoryview(chunk).nbytes for chunk in chunks)
        with reporting_full_disk(self.root, needed):
            fd, path = new_file(self.staging_dir(), "put")
            try:
                with os.fdopen(fd, "wb") as file:
                    for chunk in chunks:
                        file.write(chunk)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        return path

    def _stage_copy(self, path: Path) -> Path:
        fd, staged = new_file(self.staging_dir(), "copy")
        os.close(fd)
        try:
            with reporting_full_disk(self.root, path.stat().st_size):
                shutil.copyfile(path, staged)
        except OSError as exc:
            staged.unlink(missing_ok=True)
            raise StoreError(f"cannot copy {path} into the store at {self.root}: {exc}") from exc
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return staged


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as scan:
            return list(scan)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _unlink(path: Path) -> int:
    """Remove the file at ``path`` if there is one; the bytes it held."""
    try:
        size = path.stat().st_size
        path.unlink()
    except (FileNotFoundError, NotADirectoryError):
        return 0
    return size


def _remove_empty_folders(top: Path) -> None:
    """Remove the empty folders below ``top`` (deepest first); ``top`` itself stays."""
    for folder, _, _ in os.walk(top, topdown=False):
        if folder != str(top):
            with contextlib.suppress(OSError):  # not empty (any more), or not ours to remove
                os.rmdir(folder)


__all__ = ["LocalStore"]
