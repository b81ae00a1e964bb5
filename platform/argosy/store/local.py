"""`LocalStore`: the artifact store in a directory on this machine (the default, under ARGOSY_HOME).

Layout under the root::

    packed.sqlite       records up to 64 KiB and blobs up to 16 KiB, packed in one SQLite file
                        (`argosy.store.packed`): a task's output record and small output take
                        a few hundred bytes there, where files took a 4 KiB block each
    packed.sqlite-gate  the lock its writers take turns on (`argosy.sqlite_gate`); empty
    blobs/ab/cdef...    content-addressed blobs, named by their sha256 (read-only files): the
                        larger ones, and small ones asked for as a file (mmap, file artifacts)
    records/<key>       records at deterministic keys (see `argosy.store.addresses`) too large
                        to pack: long logs, the record of a wide fan-in
    tmp/                staging: every file write lands here first, then moves in with os.replace
    seals/ab/abcdef...  what a large blob's file looked like when it was known whole (see
                        `argosy.store.verify.seal`): readers in other processes skip the hash
    paths/<format>/...  file and folder artifacts placed under their names for steps to read
                        (`argosy.store.paths`); safe to delete

A file write is a temporary file in ``tmp/`` renamed into place, so readers see a whole file or
none; ``tmp/`` is on the same filesystem as the rest, so the rename is atomic and copies nothing.
A packed write is one SQLite transaction, atomic as well. Readers look in the packed file first,
then for a file, so a store written before packing (every record and blob a file) reads as it
did; a record rewritten in the other place than before has its old copy removed.
`check` removes the staging files of writers that died mid-write (`argosy.store.staging`), and a
full disk is a StoreError naming the store and what to do. Every blob read is checked against
its digest (`argosy.store.verify`), or against the seal its writer left.

For `argosy gc`: `blobs` lists both places, `delete_blobs` removes a blob's row, file, seal and
placed copies, `delete_records` removes records by key prefix, and `compact` gives the packed
file's free pages back to the filesystem and removes empty folders.
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
from argosy.store.packed import BLOB_LIMIT, FILE_NAME, RECORD_LIMIT, PackedFile
from argosy.store.paths import remove_placed
from argosy.store.staging import new_file, reporting_full_disk, sweep
from argosy.store.verify import check_bytes, check_file, remember, seal, unseal


class LocalStore:
    """Blobs and records in a directory tree and a packed file; safe for many processes at once.

    ``packed=False`` writes every record and blob as a file, as Argosy did before packing (for
    comparisons); a store reads both either way.
    """

    concurrency = 1
    """Requests wait on this machine's disk and CPU only: threads would not make them sooner."""

    def __init__(self, root: Path | str, *, packed: bool = True) -> None:
        self.root = Path(root).expanduser().absolute()
        self._blobs = self.root / "blobs"
        self._records = self.root / "records"
        self._staging = self.root / "tmp"
        self._seals = self.root / "seals"
        self._packed = PackedFile(self.root / FILE_NAME)
        self._blob_limit = BLOB_LIMIT if packed else -1
        self._record_limit = RECORD_LIMIT if packed else -1

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
        try:
            self._packed.check()
        except StoreError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def uri(self, digest: str) -> str:
        path = self._blob_path(digest)
        if not path.is_file() and self._packed.has_blob(digest):
            return self._packed.uri(digest)
        return path.as_uri()

    def staging_dir(self) -> Path:
        self._staging.mkdir(parents=True, exist_ok=True)
        return self._staging

    def has(self, digest: str) -> bool:
        return self._packed.has_blob(check_digest(digest)) or self._blob_path(digest).is_file()

    def put_file(self, path: Path, digest: str) -> None:
        if self.has(digest):
            path.unlink(missing_ok=True)
            return
        if path.stat().st_size <= self._blob_limit:
            self._packed.put_blob(digest, path.read_bytes())
            path.unlink(missing_ok=True)
            return
        if path.parent != self._staging:  # maybe another filesystem: stage a copy first
            staged = self._stage_copy(path)
            path.unlink(missing_ok=True)
            path = staged
        target = self._blob_path(digest)
        path.chmod(0o444)
        self._move_in(path, target)
        seal(target, digest, self._seals)

    def put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.put_chunks([data], digest)
        return digest

    def put_chunks(self, chunks: Sequence[bytes | memoryview], digest: str) -> None:
        if self.has(digest):
            return
        if sum(memoryview(chunk).nbytes for chunk in chunks) <= self._blob_limit:
            self._packed.put_blob(digest, b"".join(chunks))
        else:
            self.put_file(self._stage(chunks), digest)

    def get_bytes(self, digest: str) -> bytes:
        data = self._packed.get_blob(check_digest(digest))
        if data is not None:
            return check_bytes(data, digest, self._packed.uri(digest))
        path = self._existing_blob(digest)
        return check_bytes(path.read_bytes(), digest, path.as_uri())

    def local_path(self, digest: str) -> Path:
        path = self._blob_path(digest)
        if not path.is_file():
            data = self._packed.get_blob(digest)
            if data is not None:  # a packed blob, asked for as a file: write it out, once
                check_bytes(data, digest, self._packed.uri(digest))
                self._move_in(self._read_only(self._stage([data])), path)
                remember(path, digest)
                return path
        path = self._existing_blob(digest)
        return check_file(path, digest, path.as_uri(), self._seals)

    def put_record(self, key: str, data: bytes) -> None:
        target = self._records / check_record_key(key)
        if len(data) <= self._record_limit:
            self._packed.put_record(key, data)
            _unlink(target)  # what a larger version of it left
        else:
            self._move_in(self._stage([data]), target)
            self._packed.drop_record(key)

    def get_record(self, key: str) -> bytes | None:
        data = self._packed.get_record(check_record_key(key))
        if data is not None:
            return data
        try:
            return (self._records / key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def list_records(self, prefix: str) -> list[str]:
        return sorted(set(self._record_files(prefix)).union(self._packed.record_keys(prefix)))

    def blobs(self) -> Iterator[StoredBlob]:
        yield from self._packed.blobs()
        for folder in _entries(self._blobs):
            for entry in _entries(Path(folder.path)):
                digest = folder.name + entry.name
                if not is_digest(digest) or self._packed.has_blob(digest):  # written out
                    continue
                with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                    if entry.is_file(follow_symlinks=False):
                        found = entry.stat()
                        stored_at = datetime.fromtimestamp(found.st_mtime, UTC)
                        yield StoredBlob(digest, found.st_size, stored_at)

    def delete_blobs(self, digests: Iterable[str]) -> int:
        doomed = [check_digest(digest) for digest in digests]
        freed = 0
        for digest in doomed:  # files first: deleting rows needs room on the disk
            freed += _unlink(self._blob_path(digest))
            unseal(digest, self._seals)
            freed += remove_placed(self, digest)
        return freed + self._packed.delete_blobs(doomed)

    def delete_records(self, prefix: str) -> int:
        freed = sum(_unlink(self._records / key) for key in self._record_files(prefix))
        return freed + self._packed.delete_records(prefix)

    def compact(self) -> None:
        self._packed.compact()
        for top in (self._blobs, self._records, self._seals, self.root / "paths"):
            _remove_empty_folders(top)

    def _record_files(self, prefix: str) -> list[str]:
        """The keys of the records kept as files under ``prefix``."""
        head, _, _ = prefix.rpartition("/")
        base = self._records / check_record_key(head) if head else self._records
        if not base.is_dir():
            return []
        keys = (
            path.relative_to(self._records).as_posix() for path in base.rglob("*") if path.is_file()
        )
        return [key for key in keys if key.startswith(prefix)]

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

    @staticmethod
    def _read_only(path: Path) -> Path:
        path.chmod(0o444)
        return path

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
