"""A blob changed behind the store's back is refused on load, on every backend and load path.

The bytes are replaced as anyone with the S3 keys or write access to the disk could: the blob
keeps its key (its digest) but holds other bytes. Before loads were verified, the changed bytes
loaded as a different value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argosy.errors import ArtifactCorrupted
from argosy.store import ArtifactStore, S3Store, load, save
from tests.store.conftest import Backend

CHANGED: list[tuple[Any, bytes]] = [
    ({"approved": False}, json.dumps({"approved": True}).encode()),
    (b"the real bytes", b"other bytes"),
]


@pytest.mark.parametrize(("value", "planted"), CHANGED, ids=["json", "bytes"])
def test_a_changed_blob_is_refused_not_loaded_as_another_value(
    backend: Backend, store: ArtifactStore, value: Any, planted: bytes
) -> None:
    info = save(store, value)
    backend.overwrite(info.digest, planted)
    fresh = backend.reopen()
    with pytest.raises(ArtifactCorrupted) as refused:
        load(fresh, info)
    message = str(refused.value)
    assert info.digest in message and fresh.uri(info.digest) in message
    assert "changed or damaged" in message and "run the step that produced it again" in message


def test_a_changed_array_is_refused_before_it_is_mapped(
    backend: Backend, store: ArtifactStore
) -> None:
    array = np.arange(100_000, dtype=np.float64)
    info = save(store, array)
    changed = bytearray(store.get_bytes(info.digest))
    changed[-8:] = np.float64(-1.0).tobytes()  # the last element, header intact
    backend.overwrite(info.digest, bytes(changed))
    fresh = backend.reopen()
    with pytest.raises(ArtifactCorrupted, match=info.digest):
        load(fresh, info)
    with pytest.raises(ArtifactCorrupted):
        load(fresh, info, mmap=False)


def test_a_local_blob_changed_after_a_load_is_caught_on_the_next(tmp_path: Path) -> None:
    from argosy.store import LocalStore

    store = LocalStore(tmp_path / "store")
    info = save(store, np.arange(10_000))  # a file, mapped (small ones are read whole)
    assert load(store, info)[-1] == 9999  # verified, then remembered as verified
    path = store.local_path(info.digest)
    data = bytearray(path.read_bytes())
    data[-8:] = np.int64(-1).tobytes()
    path.chmod(0o644)
    path.write_bytes(bytes(data))  # same size: only the file's times and contents tell
    with pytest.raises(ArtifactCorrupted):
        load(store, info)


def test_a_damaged_cached_download_is_fetched_again(backend: Backend, store: ArtifactStore) -> None:
    if not isinstance(store, S3Store):
        pytest.skip("only an S3 store keeps a download cache")
    info = save(store, np.arange(5000.0))
    reader = backend.reopen()
    assert isinstance(reader, S3Store)
    cached = reader.local_path(info.digest)
    cached.chmod(0o644)
    cached.write_bytes(cached.read_bytes()[:-8] + np.float64(-1.0).tobytes())
    assert load(reader, info)[-1] == 4999.0
    assert load(reader, info, mmap=False)[-1] == 4999.0


_LOAD_IN_A_FRESH_PROCESS = """
import sys
from argosy.errors import ArtifactCorrupted
from argosy.store import ArtifactInfo, LocalStore, load
store, info = LocalStore(sys.argv[1]), ArtifactInfo.model_validate_json(sys.argv[2])
try:
    print(float(load(store, info).sum()))
except ArtifactCorrupted:
    print("refused")
"""


def test_a_sealed_blob_changed_in_place_is_refused_by_another_process(tmp_path: Path) -> None:
    """The writer's seal spares other processes the hash only while the file is untouched."""
    import subprocess
    import sys

    from argosy.store import LocalStore

    store = LocalStore(tmp_path / "store")
    array = np.ones(1 << 18)  # 2 MiB: large enough to be sealed
    info = save(store, array)
    assert list((tmp_path / "store" / "seals").rglob(info.digest))

    def load_elsewhere() -> str:
        command = [sys.executable, "-c", _LOAD_IN_A_FRESH_PROCESS, str(store.root)]
        done = subprocess.run([*command, info.model_dump_json()], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert load_elsewhere() == str(float(1 << 18))
    path = store.local_path(info.digest)
    data = bytearray(path.read_bytes())
    data[-8:] = np.float64(2.0).tobytes()
    path.chmod(0o644)
    with path.open("r+b") as file:  # in place: same inode, same size
        file.write(bytes(data))
    path.chmod(0o444)
    assert load_elsewhere() == "refused"
