"""Path artifacts: a step returns the `pathlib.Path` of a file or folder; the next gets a local one.

=========  ===================================================  ================================
format     stored                                               on load
=========  ===================================================  ================================
``file``   the file's bytes, as they are                        the path of a file of the same
                                                                name (`ArtifactInfo.name`)
``dir``    an uncompressed zip of the folder's regular files    the path of a folder of the same
           and folders: sorted, fixed times and modes, so       name, unpacked once per digest
           equal trees give equal digests
=========  ===================================================  ================================

Saving never reads a file into memory: a file is hashed as it is read, and when the store
already holds those bytes nothing is copied or uploaded (so capturing a large file again is one
read). A folder holding a symbolic link or a special file (a socket, a device) is refused: copy
the file it points to into the folder instead.

Loading places the file or folder under ``paths/<format>/<digest>/<name>`` beside the store's
staging folder (in the local store's root; in the download cache of an S3 store): a file is a
hard link to the verified blob (a copy where links are not possible), a folder is unpacked from
the verified blob the first time, into a staging folder renamed into place, so concurrent loads
agree. Files loaded are read-only (mode 0444), folders not; both are read-only by convention:
a step that changes one must copy it first (``shutil.copytree(folder, here)``), since other
steps read the same copy. Unpacking refuses any entry that would land outside the folder.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from argosy.errors import StoreError
from argosy.store.base import ArtifactInfo, ArtifactStore
from argosy.store.staged import StagedBlob, zip_entry, zip_writer
from argosy.store.staging import new_file, new_folder, reporting_full_disk

_CHUNK = 1 << 20
FILE_MODE = stat.S_IFREG | 0o644
"""The mode every file of a folder artifact is stored with."""
FOLDER_MODE = stat.S_IFDIR | 0o755
"""The mode every folder of a folder artifact is stored with."""
_LINK_FAILURES = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP})


def save_path(store: ArtifactStore, path: Path) -> ArtifactInfo:
    """Store the file or folder at ``path``; ``name`` is its name."""
    where = Path(os.path.abspath(path))
    try:
        mode = where.stat().st_mode
    except FileNotFoundError:
        raise StoreError(
            f"the returned path {str(path)!r} does not exist (looked for {where}); return the "
            "path of a file or folder the step wrote"
        ) from None
    if not where.name:
        raise StoreError(f"the returned path {str(path)!r} is the root; return a folder in it")
    kind = f"{type(path).__module__}.{type(path).__qualname__}"
    if stat.S_ISREG(mode):
        digest, size = _save_file(store, where)
        return ArtifactInfo(digest=digest, format="file", type=kind, size=size, name=where.name)
    if stat.S_ISDIR(mode):
        digest, size = _save_folder(store, where)
        return ArtifactInfo(digest=digest, format="dir", type=kind, size=size, name=where.name)
    raise StoreError(
        f"the returned path {str(path)!r} is a {_file_type(mode)}, not a regular file or folder"
    )


def _save_file(store: ArtifactStore, path: Path) -> tuple[str, int]:
    """Hash the file where it is; copy it in only if the store lacks those bytes."""
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
        size = file.tell()
    if store.has(digest):
        return digest, size
    with path.open("rb") as file, StagedBlob(store) as blob:
        shutil.copyfileobj(file, blob, _CHUNK)  # hashed again: the file may have changed since
        return blob.commit(), blob.size


def _save_folder(store: ArtifactStore, root: Path) -> tuple[str, int]:
    with StagedBlob(store) as blob:
        with zip_writer(blob) as archive:
            for name, path, is_folder in _tree(root, root):
                if is_folder:
                    with zip_entry(archive, f"{name}/", 0, FOLDER_MODE):
                        pass
                    continue
                size = path.stat().st_size
                with path.open("rb") as src, zip_entry(archive, name, size, FILE_MODE) as dst:
                    whole = _copy_exactly(src, dst, size)
                if not whole:
                    raise StoreError(
                        f"{path} changed while the folder {root} was stored; store it once "
                        "nothing writes to it any more"
                    )
        return blob.commit(), blob.size


def _tree(root: Path, folder: Path) -> Iterator[tuple[str, Path, bool]]:
    """The regular files and folders under ``folder``, depth first in name order: their names
    relative to ``root`` (``a/b.txt``), paths, and whether each is a folder; StoreError for a
    link or a special file."""
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        path = Path(entry.path)
        name = path.relative_to(root).as_posix()
        _check_encodable(name, root)
        if entry.is_symlink():
            raise StoreError(
                f"the folder {root} holds a symbolic link, {name}; a folder artifact holds "
                "regular files and folders only: copy what it points to into the folder"
            )
        if entry.is_dir(follow_symlinks=False):
            yield name, path, True
            yield from _tree(root, path)
        elif entry.is_file(follow_symlinks=False):
            yield name, path, False
        else:
            kind = _file_type(entry.stat(follow_symlinks=False).st_mode)
            raise StoreError(
                f"the folder {root} holds a {kind}, {name}; a folder artifact holds regular "
                "files and folders only"
            )


def _check_encodable(name: str, root: Path) -> None:
    try:
        name.encode()
    except UnicodeEncodeError:
        raise StoreError(
            f"the folder {root} holds {name!r}, a name that is not valid UTF-8; rename it"
        ) from None


def _copy_exactly(src: BinaryIO, dst: IO[bytes], size: int) -> bool:
    """Copy the ``size`` bytes of ``src``; False if it held fewer or more (it changed)."""
    left = size
    while left and (chunk := src.read(min(_CHUNK, left))):
        dst.write(chunk)
        left -= len(chunk)
    return left == 0 and not src.read(1)


def _file_type(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "named pipe"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return kind
    return "special file"


def load_file(store: ArtifactStore, info: ArtifactInfo) -> Path:
    """The local path of a ``file`` artifact, under its own name (a hard link to the blob)."""
    blob = store.local_path(info.digest)  # verified against the digest
    target = _placed(store, info)
    if not _same_file(target, blob):
        staging = store.staging_dir()
        with reporting_full_disk(staging, info.size):
            staged = _link_or_copy(blob, staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
    return target


def load_folder(store: ArtifactStore, info: ArtifactInfo) -> Path:
    """The local path of a ``dir`` artifact, under its own name, unpacked once per digest."""
    target = _placed(store, info)
    if target.is_dir():
        return target
    blob = store.local_path(info.digest)
    staging = store.staging_dir()
    work = new_folder(staging, "unzip")
    try:
        with reporting_full_disk(staging, info.size):
            _unpack(blob, work, info.digest)
            work.chmod(0o755)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(work, target)
            except OSError as error:
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise  # otherwise another process unpacked it first
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _unpack(blob: Path, into: Path, digest: str) -> None:
    try:
        with zipfile.ZipFile(blob) as archive:
            for entry in archive.infolist():
                destination = into.joinpath(*_entry_parts(entry))
                if entry.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(entry) as src, destination.open("xb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
                destination.chmod(0o444)
    except (ValueError, zipfile.BadZipFile, FileExistsError, IsADirectoryError) as error:
        raise StoreError(
            f"artifact {digest} is not a readable folder ({type(error).__name__}: {error}); it "
            "was not written by Argosy's folder serializer: run the step that produced it again"
        ) from error


def _entry_parts(entry: zipfile.ZipInfo) -> tuple[str, ...]:
    """The path parts of an entry, if it is a stored regular file or a folder inside the
    folder; ValueError otherwise (an absolute path, ``..``, a link, compressed bytes)."""
    path = PurePosixPath(entry.filename)
    kind = stat.S_IFMT(entry.external_attr >> 16)
    if path.is_absolute() or not path.parts or any(p in ("..", ".") for p in path.parts):
        raise ValueError(f"entry {entry.filename!r} would land outside the folder")
    if "\0" in entry.filename or kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ValueError(f"entry {entry.filename!r} is not a regular file or folder")
    if entry.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"entry {entry.filename!r} is compressed")
    return path.parts


def _placed(store: ArtifactStore, info: ArtifactInfo) -> Path:
    """Where an artifact of ``info`` is placed for steps to read."""
    name = info.name
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise StoreError(
            f"artifact {info.digest} of format {info.format!r} has no usable name ({name!r}); "
            "its record was not written by Argosy: run the step that produced it again"
        )
    return store.staging_dir().parent / "paths" / info.format / info.digest / name


def _same_file(path: Path, other: Path) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def _link_or_copy(blob: Path, staging: Path) -> Path:
    """A new staging name for the blob: a hard link to it, or a read-only copy."""
    fd, staged = new_file(staging, "link")
    os.close(fd)
    staged.unlink()
    try:
        os.link(blob, staged)
    except OSError as error:
        if error.errno not in _LINK_FAILURES:
            raise
        shutil.copyfile(blob, staged)
    if stat.S_IMODE(staged.stat().st_mode) != 0o444:  # a copy, or a link to a download
        staged.chmod(0o444)
    return staged


__all__ = ["FILE_MODE", "FOLDER_MODE", "load_file", "load_folder", "save_path"]
