"""File and folder artifacts: stored from a `Path` without reading it into memory, loaded as a
local path under the same name, on the local store and S3; folders as deterministic zips."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tracemalloc
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from argosy import Artifact
from argosy.errors import StoreError
from argosy.store import ArtifactInfo, ArtifactStore, LocalStore, load, save
from tests.store.conftest import Backend


def _make_folder(root: Path) -> Path:
    """A small tree: files at two depths, an empty folder, a name that is not ASCII."""
    (root / "weights" / "empty").mkdir(parents=True)
    (root / "weights" / "w.bin").write_bytes(bytes(range(256)) * 40)
    (root / "config.json").write_text('{"k": 3}')
    (root / "notes é.txt").write_text("naïve")
    return root


def _listing(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root``: a file's bytes, None for a folder."""
    return {
        path.relative_to(root).as_posix(): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


def test_a_file_is_loaded_as_a_read_only_file_of_its_name(
    store: ArtifactStore, backend: Backend, tmp_path: Path
) -> None:
    data = os.urandom(3 << 20)
    source = tmp_path / "out" / "report.csv"
    source.parent.mkdir()
    source.write_bytes(data)

    info = save(store, source)
    assert (info.format, info.name, info.size) == ("file", "report.csv", len(data))
    assert info.digest == hashlib.sha256(data).hexdigest() and backend.blob_names() == [info.digest]
    fresh = backend.reopen()  # on S3: a cache that must download the blob
    loaded = load(fresh, info)
    assert loaded.name == "report.csv" and loaded.read_bytes() == data
    assert stat.S_IMODE(loaded.stat().st_mode) == 0o444
    assert load(fresh, info) == loaded
    assert save(store, Path(os.path.relpath(source))) == info  # relative to the working folder
    source.write_bytes(b"changed later")  # the stored file is another file
    assert loaded.read_bytes() == data


def test_the_same_bytes_under_two_names_load_under_each(
    store: ArtifactStore, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("same")
    (tmp_path / "b.txt").write_text("same")
    a, b = save(store, tmp_path / "a.txt"), save(store, tmp_path / "b.txt")
    assert a.digest == b.digest and (a.name, b.name) == ("a.txt", "b.txt")
    assert (load(store, a).name, load(store, b).name) == ("a.txt", "b.txt")


def test_a_folder_is_unpacked_once_under_its_name(
    store: ArtifactStore, backend: Backend, tmp_path: Path
) -> None:
    folder = _make_folder(tmp_path / "model")
    info = save(store, Artifact(folder, metadata={"k": 3}))
    assert (info.format, info.name, info.metadata) == ("dir", "model", {"k": 3})

    fresh = backend.reopen()
    with ThreadPoolExecutor(4) as pool:  # loads racing to unpack it: one wins, all agree
        loaded = set(pool.map(lambda _: load(fresh, info), range(4)))
    assert len(loaded) == 1
    [unpacked] = loaded
    assert unpacked.name == "model" and _listing(unpacked) == _listing(folder)
    weights = (unpacked / "weights" / "w.bin").stat()
    assert stat.S_IMODE(weights.st_mode) == 0o444
    assert load(fresh, info) == unpacked and (unpacked / "weights" / "w.bin").stat() == weights
    assert list(fresh.staging_dir().iterdir()) == []
    assert save(store, unpacked).digest == info.digest  # a folder passed on is the same artifact


def test_equal_folders_give_equal_digests_whatever_their_times_and_modes(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path / "store")
    a = _make_folder(tmp_path / "a" / "model")
    b = _make_folder(tmp_path / "b" / "model")
    os.utime(b / "config.json", (1_000_000, 1_000_000))
    (b / "weights" / "w.bin").chmod(0o600)
    stored = save(store, a)
    assert save(store, b).digest == stored.digest
    with zipfile.ZipFile(store.local_path(stored.digest)) as archive:
        entries = {
            e.filename: (stat.filemode(e.external_attr >> 16), e.date_time)
            for e in archive.infolist()
        }
    assert entries == {
        "config.json": ("-rw-r--r--", (1980, 1, 1, 0, 0, 0)),
        "notes é.txt": ("-rw-r--r--", (1980, 1, 1, 0, 0, 0)),
        "weights/": ("drwxr-xr-x", (1980, 1, 1, 0, 0, 0)),
        "weights/empty/": ("drwxr-xr-x", (1980, 1, 1, 0, 0, 0)),
        "weights/w.bin": ("-rw-r--r--", (1980, 1, 1, 0, 0, 0)),
    }
    (b / "weights" / "empty" / "new").mkdir()
    assert save(store, b).digest != stored.digest


def test_saving_a_file_streams_it_and_copies_nothing_the_store_holds(tmp_path: Path) -> None:
    puts: list[str] = []

    class CountingStore(LocalStore):
        def put_file(self, path: Path, digest: str) -> None:
            puts.append(digest)
            super().put_file(path, digest)

    store = CountingStore(tmp_path / "store")
    big = tmp_path / "big.bin"
    with big.open("wb") as file:
        for _ in range(32):
            file.write(os.urandom(1 << 20))
    tracemalloc.start()
    try:
        first = save(store, big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"saving a 32 MiB file took {peak:,} bytes of memory"
    assert save(store, big) == first and len(puts) == 1  # the second time: one read, no copy
    assert big.stat().st_size == 32 << 20 and list(store.staging_dir().iterdir()) == []


def test_what_cannot_be_a_path_artifact_is_refused_naming_it(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    with pytest.raises(StoreError, match=r"the returned path 'missing/out.csv' does not exist"):
        save(store, Path("missing/out.csv"))
    folder = tmp_path / "model"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / "file").write_text("x")
    (folder / "inner" / "link").symlink_to("file")
    with pytest.raises(StoreError, match=r"holds a symbolic link, inner/link"):
        save(store, folder)
    (folder / "inner" / "link").unlink()
    os.mkfifo(folder / "inner" / "pipe")
    with pytest.raises(StoreError, match=r"holds a named pipe, inner/pipe"):
        save(store, folder)
    with pytest.raises(StoreError, match=r"is a named pipe, not a regular file or folder"):
        save(store, folder / "inner" / "pipe")
    assert list(store.staging_dir().iterdir()) == []


def _forged(store: LocalStore, entries: list[zipfile.ZipInfo], name: str = "model") -> ArtifactInfo:
    """A folder artifact whose zip holds ``entries`` (a byte each), as an attacker could write."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for entry in entries:
            archive.writestr(entry, b"x")
    digest = store.put_bytes(data.getvalue())
    return ArtifactInfo(digest=digest, format="dir", type="pathlib.PosixPath", size=1, name=name)


def _entry(name: str, mode: int = stat.S_IFREG | 0o644, deflated: bool = False) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name)
    entry.external_attr = mode << 16
    entry.compress_type = zipfile.ZIP_DEFLATED if deflated else zipfile.ZIP_STORED
    return entry


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (_entry("../escaped"), "would land outside the folder"),
        (_entry("/etc/escaped"), "would land outside the folder"),
        (_entry("a/./../../escaped"), "would land outside the folder"),
        (_entry("link", stat.S_IFLNK | 0o777), "is not a regular file or folder"),
        (_entry("big", deflated=True), "is compressed"),
    ],
)
def test_a_forged_folder_artifact_cannot_reach_outside_its_folder(
    tmp_path: Path, entry: zipfile.ZipInfo, message: str
) -> None:
    store = LocalStore(tmp_path / "store")
    info = _forged(store, [_entry("fine.txt"), entry])
    with pytest.raises(StoreError, match=message):
        load(store, info)
    assert not list(tmp_path.rglob("escaped")) and not list(tmp_path.rglob("fine.txt"))
    assert list(store.staging_dir().iterdir()) == []


def test_a_path_artifact_whose_name_is_not_a_plain_name_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    for name in ("../model", "..", None):
        with pytest.raises(StoreError, match="has no usable name"):
            load(store, _forged(store, [_entry("fine.txt")], name=name))  # type: ignore[arg-type]


def test_a_step_changing_what_it_was_given_reaches_neither_the_store_nor_later_loads(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path / "store")
    source = tmp_path / "notes.txt"
    source.write_text("as stored\n")
    file_info = save(store, source)
    folder_info = save(store, _make_folder(tmp_path / "model"))

    given = load(store, file_info)
    given.chmod(0o644)  # what a step running as root does without asking
    with given.open("a") as changed:
        changed.write("scribbled\n")
    assert load(store, file_info).read_text() == "as stored\n"
    assert store.get_bytes(file_info.digest) == b"as stored\n"  # the blob is untouched

    unpacked = load(store, folder_info)
    expected = _listing(unpacked)
    unpacked.chmod(0o755)
    (unpacked / "extra.txt").write_text("added by a step")
    again = load(store, folder_info)
    assert again == unpacked and _listing(again) == expected
