"""Code packages: a pipeline's own source, shipped to pods through the artifact store.

Images carry dependencies, not the user's pipeline code. At submit, `pack` puts the pipeline's
file and the local modules it imports (those beside it, as a script would find them) into a
deterministic tarball stored as a content-addressed blob, so unchanged code has the same digest
and uploads nothing. In a pod, `install` downloads the package once into a cache directory,
unpacks it, and puts it first on ``sys.path``; the task then loads the pipeline by the module
reference `package_ref` gives (``module:name``), the same in every pod.

The index record at `code_package_key(digest)` lists the files and the entry reference, for
people and tools; `install` needs only the blob.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from argosy.errors import ArtifactNotFound, PipelineError, StoreError
from argosy.store.addresses import code_package_key
from argosy.store.base import ArtifactStore

if TYPE_CHECKING:
    from argosy.dsl import PipelineDefinition


def pack(definition: PipelineDefinition, store: ArtifactStore) -> str:
    """Store the pipeline's code package and return its digest; unchanged code uploads nothing."""
    source = _source_file(definition)
    files = local_files(source)
    data = _tarball(source.parent, files)
    digest = hashlib.sha256(data).hexdigest()
    if not store.has(digest):
        store.put_bytes(data)
    key = code_package_key(digest)
    if store.get_record(key) is None:
        index = {
            "blob": digest,
            "ref": package_ref(definition),
            "files": [path.relative_to(source.parent).as_posix() for path in files],
        }
        store.put_record(key, json.dumps(index, sort_keys=True).encode())
    return digest


def package_ref(definition: PipelineDefinition) -> str:
    """How a pod loads the pipeline from its installed package: ``module:name``."""
    source = _source_file(definition)
    # the module the pipeline was loaded as: by file (its stem), by `module:name`, or `__main__`
    for loaded_as in (source.stem, definition.__wrapped__.__module__):
        module = sys.modules.get(loaded_as)
        if module is None or Path(getattr(module, "__file__", "") or "").resolve() != source:
            continue
        for name, value in vars(module).items():
            if value is definition:
                return f"{source.stem}:{name}"
    raise PipelineError(
        f"cannot find the pipeline in module {source.stem!r} of {source}; define it at the "
        "top level of its file with @pipeline",
        pipeline=definition.name,
    )


def local_files(source: Path) -> list[Path]:
    """The pipeline file and every local module it imports, transitively, sorted.

    Local means found beside the pipeline file (``name.py`` or a package folder ``name/``),
    where Python looks first when the file runs as a script; installed packages stay out.
    """
    root = source.parent
    found: set[Path] = set()
    pending = [source]
    while pending:
        path = pending.pop()
        if path in found:
            continue
        found.add(path)
        for name in _imported_names(path):
            pending.extend(_local_module_files(root, name))
    return sorted(found)


def install(store: ArtifactStore, digest: str, cache_dir: Path | None = None) -> Path:
    """Make the code package importable: download and unpack it once, put it on ``sys.path``."""
    root = cache_dir or Path(tempfile.gettempdir()) / "argosy-code"
    target = root / digest
    if not target.is_dir():
        _unpack(_fetch(store, digest), root, target)
    if str(target) not in sys.path:
        sys.path.insert(0, str(target))
    return target


def _source_file(definition: PipelineDefinition) -> Path:
    source = definition.source_file
    if source is None:
        raise PipelineError(
            "has no source file to pack; define it in a .py file, or submit with "
            "--no-code-package to rely on the image alone",
            pipeline=definition.name,
        )
    return source


def _imported_names(path: Path) -> Iterator[str]:
    """Top-level names of the absolute imports in a Python file."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as error:
        raise PipelineError(f"cannot pack {path}: {error}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.partition(".")[0]


def _local_module_files(root: Path, name: str) -> list[Path]:
    module = root / f"{name}.py"
    if module.is_file():
        return [module.resolve()]
    package = root / name
    if package.is_dir():
        return sorted(
            path.resolve()
            for path in package.rglob("*.py")
            if "__pycache__" not in path.relative_to(package).parts
        )
    return []


def _tarball(root: Path, files: list[Path]) -> bytes:
    """A gzipped tar of ``files`` named relative to ``root``, byte-identical for the same code."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in files:
            data = path.read_bytes()
            info = tarfile.TarInfo(path.relative_to(root).as_posix())
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), mtime=0)


def _fetch(store: ArtifactStore, digest: str) -> bytes:
    try:
        data = store.get_bytes(digest)
    except ArtifactNotFound:
        raise ArtifactNotFound(
            f"code package {digest} is not in the store; submit the pipeline again to upload it"
        ) from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise StoreError(f"code package {digest} is corrupt in the store (its digest differs)")
    return data


def _write_files(data: bytes, folder: Path) -> None:
    """Write the package's files under ``folder``; StoreError for anything but a plain file."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            path = PurePosixPath(member.name)
            if not member.isfile() or path.is_absolute() or ".." in path.parts:
                raise StoreError(
                    f"the code package holds {member.name!r}, which is not a plain file inside "
                    "the package; it was not made by `argosy submit`, so it is not unpacked"
                )
            destination = folder.joinpath(*path.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None  # a regular file always has contents
            destination.write_bytes(source.read())


def _unpack(data: bytes, root: Path, target: Path) -> None:
    """Unpack into a fresh folder and rename it into place, so a half-unpacked one never shows.

    Only regular files at relative paths are written (what `pack` makes), by this code rather
    than ``extractall``: its ``filter`` is missing from the Python 3.11 of Debian's images.
    """
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root))
    try:
        _write_files(data, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        os.rename(staging, target)
    except OSError:
        if not target.is_dir():  # another process did not win the race: a real failure
            raise
        shutil.rmtree(staging)


__all__ = ["install", "local_files", "pack", "package_ref"]
