"""Code packages: pack a pipeline with its local modules, install it in a fresh process."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
import textwrap
import uuid
from pathlib import Path

import pytest

from argosy.code_package import install, local_files, pack, package_ref
from argosy.dsl import load_pipeline
from argosy.errors import ArtifactNotFound, StoreError
from argosy.store import LocalStore
from argosy.store.addresses import code_package_key

PIPELINE = """
import numpy as np
import helpers
from shapes.square import square
from argosy import pipeline, step

@step
def double(x: int) -> int:
    return helpers.twice(square(x))

@pipeline
def {name}(x: int = 3):
    return double(x)
"""


class CountingStore(LocalStore):
    """The real LocalStore, counting the writes made to it."""

    writes = 0

    def put_bytes(self, data: bytes) -> str:
        self.writes += 1
        return super().put_bytes(data)

    def put_record(self, key: str, data: bytes) -> None:
        self.writes += 1
        super().put_record(key, data)


def _project(tmp_path: Path) -> tuple[Path, str]:
    """A pipeline file beside a helper module and a helper package, and its unique stem."""
    stem = f"flow_{uuid.uuid4().hex[:8]}"
    project = tmp_path / "project"
    (project / "shapes").mkdir(parents=True)
    (project / f"{stem}.py").write_text(PIPELINE.format(name=stem))
    (project / "helpers.py").write_text("def twice(x):\n    return 2 * x\n")
    (project / "shapes" / "__init__.py").write_text("")
    (project / "shapes" / "square.py").write_text("def square(x):\n    return x * x\n")
    (project / "unrelated.py").write_text("raise RuntimeError('never packed')\n")
    return project / f"{stem}.py", stem


def test_pack_holds_the_file_and_its_local_imports_and_is_stable(tmp_path: Path) -> None:
    source, stem = _project(tmp_path)
    definition = load_pipeline(str(source))
    names = [path.relative_to(source.parent).as_posix() for path in local_files(source.resolve())]
    assert names == sorted(["helpers.py", f"{stem}.py", "shapes/__init__.py", "shapes/square.py"])

    store = CountingStore(tmp_path / "store")
    digest = pack(definition, store)
    assert store.writes == 2  # the blob and its index record
    index = json.loads(store.get_record(code_package_key(digest)) or b"")
    assert index["ref"] == package_ref(definition) == f"{stem}:{stem}"
    assert index["blob"] == digest

    assert pack(definition, store) == digest
    assert store.writes == 2  # unchanged code uploads nothing

    (source.parent / "helpers.py").write_text("def twice(x):\n    return x + x\n")
    assert pack(definition, store) != digest


def test_install_makes_the_package_importable_in_a_fresh_process(tmp_path: Path) -> None:
    source, _ = _project(tmp_path)
    store = LocalStore(tmp_path / "store")
    definition = load_pipeline(str(source))
    digest, ref = pack(definition, store), package_ref(definition)
    source.parent.rename(tmp_path / "gone")  # the pod has only the store
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from argosy.code_package import install
        from argosy.dsl import load_pipeline
        from argosy.store import LocalStore
        store = LocalStore({str(tmp_path / "store")!r})
        path = install(store, {digest!r}, Path({str(tmp_path / "cache")!r}))
        assert install(store, {digest!r}, Path({str(tmp_path / "cache")!r})) == path
        definition = load_pipeline({ref!r})
        print(path, definition.function("double")(3))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    path, value = result.stdout.split()
    assert Path(path) == tmp_path / "cache" / digest
    assert value == "18"


@pytest.mark.parametrize("member", ["../escaped.py", "/etc/escaped.py", "link"])
def test_install_refuses_a_package_with_anything_but_files_inside_it(
    member: str, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(member)
        if member == "link":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        else:
            info.size = 2
            tar.addfile(info, io.BytesIO(b"x\n"))
    store = LocalStore(tmp_path / "store")
    digest = store.put_bytes(gzip.compress(buffer.getvalue()))
    with pytest.raises(StoreError, match="not a plain file inside the package"):
        install(store, digest, tmp_path / "cache" / "deep")
    assert not (tmp_path / "cache" / "escaped.py").exists()
    assert list((tmp_path / "cache" / "deep").iterdir()) == []  # no half-unpacked folder left


def test_install_of_a_missing_package_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFound, match="submit the pipeline again"):
        install(LocalStore(tmp_path / "store"), "f" * 64, tmp_path / "cache")


def test_a_pipeline_loaded_as_module_name_gets_its_package_ref() -> None:
    definition = load_pipeline("tests.dsl.sample_pipelines:squares")
    assert package_ref(definition) == "sample_pipelines:squares"
