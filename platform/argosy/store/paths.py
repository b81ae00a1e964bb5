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
copy of the verified blob (never the blob itself, so nothing a step does reaches the store), a
folder is unpacked from the verified blob into a staging folder renamed into place, so
concurrent loads agree. What is placed is read-only (files 0444, folders 0555) and sealed with
a fixed modification time, `PLACED_TIME_NS`: a step that changes it anyway (root ignores the
modes) changes that time, and the next load places it again instead of handing it out. Steps
read the same copy, so a step that changes one must copy it first
(``shutil.copytree(folder, here)``). Unpacking refuses any entry that would land outside the folder.
"""

from __future__ import annotations

import contextlib
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
from argosy.store.keys import check_digest
from argosy.store.staged import StagedBlob, zip_entry, zip_writer
from argosy.store.staging import new_file, new_folder, reporting_full_disk

_CHUNK = 1 << 20
FILE_MODE = stat.S_IFREG | 0o644
"""The mode every file of a folder artifact is stored with."""
FOLDER_MODE = stat.S_IFDIR | 0o755
"""The mode every folder of a folder artifact is stored with."""


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
    """The local path of a ``file`` artifact, under its own name: a read-only copy of the
    verified blob, made once per digest and made again when a step changed it."""
    target = _placed(store, info)
    if _pristine(target, info.size):
        return target
    blob = store.local_path(info.digest)  # verified against the digest
    staging = store.staging_dir()
    with reporting_full_disk(staging, info.size):
        fd, staged = new_file(staging, "placed")
        os.close(fd)
        shutil.copyfile(blob, staged)
        _seal(staged, 0o444)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
    return target


def load_folder(store: ArtifactStore, info: ArtifactInfo) -> Path:
    """The local path of a ``dir`` artifact, under its own name, unpacked once per digest and
    again when a step changed what it holds."""
    target = _placed(store, info)
    if _pristine_folder(target):
        return target
    blob = store.local_path(info.digest)
    staging = store.staging_dir()
    work = new_folder(staging, "unzip")
    try:
        with reporting_full_disk(staging, info.size):
            _unpack(blob, work, info.digest)
            for path in sorted(_everything_in(work), reverse=True):  # a folder after what it holds
                _seal(path, 0o555 if path.is_dir() else 0o444)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() and not _pristine_folder(target):  # a step changed it
                _set_aside(target, staging)
            try:
                os.rename(work, target)
            except OSError as error:
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise  # otherwise another process unpacked it first
    finally:
        _remove(work)
    return target


PLACED_TIME_NS = 946_684_800 * 10**9
"""The modification time (2000-01-01) of every placed file and folder: one that differs was
changed after it was placed, so it is placed again rather than handed out."""


def _seal(path: Path, mode: int) -> None:
    path.chmod(mode)
    os.utime(path, ns=(PLACED_TIME_NS, PLACED_TIME_NS))


def _pristine(path: Path, size: int | None = None) -> bool:
    """Whether ``path`` is as it was placed: its sealed time, and ``size`` bytes if given."""
    try:
        found = path.stat()
    except OSError:
        return False
    return found.st_mtime_ns == PLACED_TIME_NS and (size is None or found.st_size == size)


def _pristine_folder(root: Path) -> bool:
    return root.is_dir() and all(_pristine(path) for path in _everything_in(root))


def _set_aside(target: Path, staging: Path) -> None:
    """Remove a placed folder a step changed (unless another load did it first)."""
    tainted = new_folder(staging, "tainted")
    with contextlib.suppress(FileNotFoundError):
        os.replace(target, tainted / "tree")
    _remove(tainted)


def remove_placed(store: ArtifactStore, digest: str) -> int:
    """Remove what was placed of blob ``digest`` (as a file or a folder); the bytes it held.

    Each placed copy is first moved aside whole, so no load finds it half removed.
    """
    staging = store.staging_dir()
    freed = 0
    for placed in (staging.parent / "paths").glob(f"*/{check_digest(digest)}"):
        aside = new_folder(staging, "removed")
        with contextlib.suppress(FileNotFoundError):  # another process removed it first
            os.replace(placed, aside / "tree")
        freed += sum(path.lstat().st_size for path in _everything_in(aside) if path.is_file())
        _remove(aside)
    return freed


def _everything_in(root: Path) -> list[Path]:
    return [root, *root.rglob("*")]


def _remove(root: Path) -> None:
    """Remove a folder placing may have made read-only."""
    if not root.exists():
        return
    for path in _everything_in(root):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(root, ignore_errors=True)


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
    return store.staging_dir().parent / "paths" / info.format / check_digest(info.digest) / name


__all__ = ["FILE_MODE", "FOLDER_MODE", "load_file", "load_folder", "remove_placed", "save_path"]
