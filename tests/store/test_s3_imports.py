"""Imports from S3 (`argosy.runtime.imports`) against the real S3 test server: an object and a
folder captured by digest, and keys that cannot be files of a folder refused, never written
outside it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from argosy import ir
from argosy.config import Settings
from argosy.errors import PipelineError
from argosy.runtime.imports import capture_imports, object_path_in_folder
from argosy.store import LocalStore, load
from tests.servers.s3 import S3Server


def _settings(server: S3Server, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        s3_endpoint=server.endpoint,
        s3_bucket="unused",
        s3_access_key=server.access_key,
        s3_secret_key=server.secret_key,
        s3_secure=False,
    )


def _pipeline(*locations: str) -> ir.Pipeline:
    imports = [ir.Import(name=f"data_{n}", uri=uri) for n, uri in enumerate(locations)]
    reads = {f"x{n}": ir.ImportInput(name=i.name) for n, i in enumerate(imports)}
    step = ir.Step(name="read", function="m:read", code_digest="0", inputs=reads)
    return ir.Pipeline(name="p", steps=[step], imports=imports)


def _put(server: S3Server, bucket: str, key: str, data: bytes) -> None:
    server.client().put_object(bucket, key, io.BytesIO(data), len(data))


def test_an_object_and_a_folder_are_captured(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    _put(s3_server, s3_bucket, "raw/table.csv", b"a,b\n1,2\n")
    _put(s3_server, s3_bucket, "raw/docs/one.txt", b"one")
    _put(s3_server, s3_bucket, "raw/docs/deep/two.txt", b"two")
    store = LocalStore(tmp_path / "store")
    pipeline = _pipeline(f"s3://{s3_bucket}/raw/table.csv", f"s3://{s3_bucket}/raw/docs/")
    captured = capture_imports(pipeline, {}, store, _settings(s3_server, tmp_path))
    table, docs = captured["data_0"], captured["data_1"]
    assert (table.format, table.name) == ("file", "table.csv")
    assert load(store, table).read_bytes() == b"a,b\n1,2\n"
    assert table.metadata == {"source": f"s3://{s3_bucket}/raw/table.csv"}
    folder = load(store, docs)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*.txt")) == [
        "deep/two.txt",
        "one.txt",
    ]


@pytest.mark.parametrize("relative", ["../../escaped.txt", "/etc/passwd", "a//b", "./x"])
def test_a_key_that_would_leave_the_folder_is_refused(tmp_path: Path, relative: str) -> None:
    # S3 servers differ on whether they keep such keys (this one cleans them), so the rule is
    # checked on its own: no object may land outside the folder it is imported into
    with pytest.raises(PipelineError, match="cannot be a file of a folder"):
        object_path_in_folder(tmp_path / "docs", relative, "s3://b/docs/", "p", "docs")


def test_an_object_that_is_also_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "docs" / "a").mkdir(parents=True)
    with pytest.raises(PipelineError, match="both a file and a folder"):
        object_path_in_folder(tmp_path / "docs", "a", "s3://b/docs/", "p", "docs")
    assert object_path_in_folder(tmp_path / "docs", "a/b.txt", "s3://b/docs/", "p", "docs") == (
        tmp_path / "docs" / "a" / "b.txt"
    )


def test_a_missing_object_is_a_clear_error(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    pipeline = _pipeline(f"s3://{s3_bucket}/nothing/here.csv")
    with pytest.raises(PipelineError, match=r"import 'data_0' could not read s3://.*NoSuchKey"):
        capture_imports(
            pipeline, {}, LocalStore(tmp_path / "store"), _settings(s3_server, tmp_path)
        )
