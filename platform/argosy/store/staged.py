"""`StagedBlob`: a value's bytes written to a staging file while they are hashed, then stored.

Serializers that produce their bytes as a stream (pickle, zip containers, arrays numpy lays
out) write them here; `commit` hands the file to the store under the digest computed on the way,
so the bytes are read once. `zip_writer` writes a zip container into a staged blob with fixed
entry times and sizes, so equal contents give equal bytes, hence equal digests.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from types import TracebackType
from typing import Any

from argosy.store.base import ArtifactStore
from argosy.store.staging import new_file

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_MSDOS_FOLDER = 0x10
"""The MS-DOS attribute of a folder, which zip tools read beside the Unix mode."""


class StagedBlob:
    """A file in the store's staging directory, hashed as it is written, then put as a blob."""

    def __init__(self, store: ArtifactStore) -> None:
        self._store = store
        fd, self.path = new_file(store.staging_dir(), "save")
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._hash.update(view)
        self._file.write(view)
        self.size += view.nbytes
        return view.nbytes

    def __enter__(self) -> StagedBlob:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._file.close()
        if exc_type is not None:
            self.path.unlink(missing_ok=True)

    def commit(self) -> str:
        """Close the file, hand it to the store, and return its digest."""
        self._file.close()
        digest = self._hash.hexdigest()
        self._store.put_file(self.path, digest)
        return digest


class _Unseekable:
    """A write-only stream over a staged blob: zipfile then writes it in one forward pass."""

    def __init__(self, blob: StagedBlob) -> None:
        self._blob = blob

    def write(self, data: Any) -> int:
        return self._blob.write(data)

    def tell(self) -> int:
        return self._blob.size

    def flush(self) -> None:
        """Nothing is buffered here."""


def zip_writer(blob: StagedBlob) -> zipfile.ZipFile:
    """An uncompressed zip written into ``blob``; add entries with `zip_entry`."""
    return zipfile.ZipFile(_Unseekable(blob), "w", zipfile.ZIP_STORED)


def zip_entry(archive: zipfile.ZipFile, name: str, size: int, mode: int | None = None) -> Any:
    """A writable entry of ``size`` bytes with a fixed time (a folder: a name ending in ``/``,
    no bytes), and the file type and permissions ``mode`` (``stat.S_IFREG | 0o644``) if given.

    The size known up front means ZIP64 only for an entry that needs it: a forced ZIP64 entry
    has other header bytes on other Python 3.11 patch releases (Debian's images run 3.11.2),
    and the same value must give the same digest everywhere.
    """
    entry = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    entry.file_size = size
    if mode is not None:
        entry.external_attr = mode << 16 | (_MSDOS_FOLDER if stat.S_ISDIR(mode) else 0)
    return archive.open(entry, "w")


__all__ = ["StagedBlob", "zip_entry", "zip_writer"]
