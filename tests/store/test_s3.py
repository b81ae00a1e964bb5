"""What only the S3 backend has: configuration, clear errors at check time, retries, multipart."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from argosy.config import Settings
from argosy.errors import ConfigError, StoreUnavailable
from argosy.store import LocalStore, S3Store, open_store, save
from tests.servers.s3 import S3Server
from tests.store.conftest import SMALL_PART, incomplete_uploads, s3_store
from tests.store.cutting_proxy import CuttingProxy


def _store(server: S3Server, bucket: str, tmp_path: Path, **options: object) -> S3Store:
    settings = server.settings(bucket, tmp_path / "home")
    return S3Store.from_settings(settings, cache_dir=tmp_path / "cache", **options)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_open_store_follows_the_settings(s3_settings: Settings, tmp_path: Path) -> None:
    s3 = open_store(s3_settings)
    assert isinstance(s3, S3Store)
    assert s3.cache_dir == s3_settings.home / "cache" / "s3"
    local = open_store(Settings(home=tmp_path))
    assert isinstance(local, LocalStore)
    assert local.root == tmp_path / "store"


def test_importing_the_store_does_not_import_minio() -> None:
    code = "import sys, argosy.store; assert 'minio' not in sys.modules, 'minio imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_wrong_credentials_are_named(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        s3_endpoint=s3_server.endpoint,
        s3_bucket=s3_bucket,
        s3_access_key=s3_server.access_key,
        s3_secret_key="wrong",
        s3_secure=False,
    )
    with pytest.raises(StoreUnavailable, match="ARGOSY_S3_SECRET_KEY"):
        S3Store.from_settings(settings, cache_dir=tmp_path).check()


def test_a_missing_bucket_is_named_or_created(s3_server: S3Server, tmp_path: Path) -> None:
    store = _store(s3_server, "never-made", tmp_path)
    with pytest.raises(StoreUnavailable, match="ARGOSY_S3_CREATE_BUCKET=true"):
        store.check()
    created = _store(s3_server, "made-on-check", tmp_path, create_bucket=True)
    created.check()
    assert s3_server.client().bucket_exists("made-on-check")
    digest = created.put_bytes(b"now it works")
    assert created.get_bytes(digest) == b"now it works"


def test_an_unreachable_endpoint_fails_fast(tmp_path: Path) -> None:
    store = S3Store(f"127.0.0.1:{_closed_port()}", "bucket", secure=False, cache_dir=tmp_path)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"cannot reach S3 .* ARGOSY_S3_ENDPOINT"):
        store.check()
    assert time.monotonic() - started < 3


def test_https_against_plain_http_says_so(s3_server: S3Server, s3_bucket: str, tmp_path) -> None:
    store = _store(s3_server, s3_bucket, tmp_path, retries=0)
    insecure = S3Store(s3_server.endpoint, s3_bucket, secure=True, cache_dir=tmp_path)
    store.check()
    with pytest.raises(StoreUnavailable, match="ARGOSY_S3_SECURE=false"):
        insecure.check()


@pytest.mark.parametrize(
    ("endpoint", "bucket", "message"),
    [
        ("http://127.0.0.1:9000", "argosy", "ARGOSY_S3_ENDPOINT"),
        ("127.0.0.1:9000", "No_Such Bucket", "ARGOSY_S3_BUCKET"),
    ],
)
def test_malformed_settings_are_config_errors(
    tmp_path: Path, endpoint: str, bucket: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        S3Store(endpoint, bucket, secure=False, cache_dir=tmp_path).check()


def test_transient_failures_are_retried_then_reported(tmp_path: Path) -> None:
    store = S3Store(
        f"127.0.0.1:{_closed_port()}", "bucket", secure=False, cache_dir=tmp_path, retries=3
    )
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="after 4 attempts"):
        store.put_record("runs/r/x.json", b"{}")
    assert time.monotonic() - started >= 0.2 + 0.4 + 0.8  # exponential backoff between tries


@pytest.mark.parametrize("upload", ["put_file", "put_chunks"])
def test_a_cut_upload_is_never_visible(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, upload: str
) -> None:
    data = np.random.default_rng(4).bytes(6 * SMALL_PART)
    digest = hashlib.sha256(data).hexdigest()
    with CuttingProxy(("127.0.0.1", s3_server.ports["s3"]), budget=3 * SMALL_PART) as proxy:
        cut = s3_store(
            s3_server, s3_bucket, tmp_path / "cut", proxy.endpoint,
            part_size=SMALL_PART, parallel=2, retries=1,
        )  # fmt: skip
        staged = cut.staging_dir() / "upload"
        staged.write_bytes(data)
        with pytest.raises(StoreUnavailable, match="uploading blob"):
            if upload == "put_file":
                cut.put_file(staged, digest)
            else:
                cut.put_chunks([data], digest)
        assert proxy.cut.is_set()
    store = _store(s3_server, s3_bucket, tmp_path)
    assert not store.has(digest)
    assert list(s3_server.client().list_objects(s3_bucket, "blobs/")) == []
    # its parts stay on the server (the abort could not reach it), until a later check
    other = s3_server.client()._create_multipart_upload(s3_bucket, "not-argosy/file", {})
    assert incomplete_uploads(s3_server, s3_bucket) == [f"blobs/{digest}", "not-argosy/file"]
    store.check()  # younger than a day (the default age): kept
    assert incomplete_uploads(s3_server, s3_bucket) == [f"blobs/{digest}", "not-argosy/file"]
    _store(s3_server, s3_bucket, tmp_path, abandoned_after=0).check()
    assert incomplete_uploads(s3_server, s3_bucket) == ["not-argosy/file"]  # only Argosy's blobs
    s3_server.client()._abort_multipart_upload(s3_bucket, "not-argosy/file", other)
    store.put_file(staged, digest)  # the same upload, whole, works
    assert store.has(digest)


def test_a_second_put_of_the_same_array_uploads_nothing(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    array = np.arange(4 * SMALL_PART // 8, dtype=np.float64)
    store = _store(s3_server, s3_bucket, tmp_path)
    first = save(store, array)
    with CuttingProxy(("127.0.0.1", s3_server.ports["s3"]), budget=64 * 1024) as proxy:
        through_proxy = s3_store(
            s3_server, s3_bucket, tmp_path / "again", proxy.endpoint, retries=0
        )
        assert save(through_proxy, array) == first  # under 64 KiB sent: only a stat went out
        assert not proxy.cut.is_set()


def test_loads_are_cached_by_digest(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    digest = _store(s3_server, s3_bucket, tmp_path).put_bytes(b"fetched once")
    with CuttingProxy(("127.0.0.1", s3_server.ports["s3"]), budget=1 << 20) as proxy:
        reader = s3_store(s3_server, s3_bucket, tmp_path / "reader", proxy.endpoint, retries=0)
        first = reader.local_path(digest)
    assert proxy.cut.is_set()  # the network is gone now
    assert reader.local_path(digest) == first
    assert reader.get_bytes(digest) == b"fetched once"
    with pytest.raises(StoreUnavailable):
        reader.has(digest)
