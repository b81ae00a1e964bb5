"""`S3Store`: the artifact store in an S3 bucket (MinIO, SeaweedFS, AWS), through `minio`.

Objects in the bucket::

    blobs/<sha256>     content-addressed blobs: stat before upload, so the same bytes go up once
    records/<key>      small documents at deterministic keys (see `argosy.store.addresses`)

Large blobs go up as multipart uploads with parts in parallel; S3 makes the object visible only
when the upload completes, so a failed or interrupted upload never shows under its final key.
Downloads are a few parallel ranged GETs written into a local cache keyed by digest (so a
second load is free); no blob is ever held in memory whole. A download is hashed as it lands
and must match its digest, so does a cached copy when a process first uses it (a damaged copy
is fetched again); a blob in the bucket whose bytes do not match is an `ArtifactCorrupted`.
The many small requests of a fan-in, a resume or `argosy gc` are made ``concurrency`` at a time
(`argosy.store.concurrency`).
Transient failures (connection errors, 5xx, SlowDown) are retried with exponential backoff;
what is left is a `StoreUnavailable` that says what to fix.

An upload that fails is aborted by the SDK when the server can still be reached; one cut off by
an outage, or whose process was killed, stays in the bucket as an incomplete multipart upload
(its parts kept, and billed). `check` aborts those of blobs older than ``abandoned_after``
seconds (a day by default; see `argosy.store.s3_uploads`).

This module imports `minio`; `argosy.store` imports it only when an S3 store is asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import urllib3
from minio import Minio
from minio.error import S3Error

from argosy.config import Settings
from argosy.errors import (
    ArtifactCorrupted,
    ArtifactNotFound,
    ConfigError,
    StoreError,
    StoreUnavailable,
)
from argosy.store.base import StoredBlob
from argosy.store.keys import blob_relpath, check_digest, check_record_key
from argosy.store.paths import remove_placed
from argosy.store.s3_downloads import fetch_ranges
from argosy.store.s3_errors import (
    MISSING_CODES,
    TRANSIENT_CODES,
    TRANSIENT_ERRORS,
    translate,
    unreachable,
)
from argosy.store.s3_listing import delete_objects, delete_prefix, stored_blobs
from argosy.store.s3_uploads import ChunksReader, abort_abandoned_uploads
from argosy.store.staging import ABANDONED_AFTER, new_file, reporting_full_disk, sweep
from argosy.store.verify import check_bytes, check_file, corrupted, remember

T = TypeVar("T")

MiB = 1 << 20
PART_SIZE = 5 * MiB
"""Default size of the parts of multipart uploads (and the shortest range of a download): S3's
smallest, as the minio SDK's own default; bigger blobs get bigger parts (at most 10,000 parts)."""
PARALLEL = 3
"""Default number of parts in flight at once, up or down."""
CONCURRENCY = 16
"""Default number of small requests made at once for a fan-in or a resume
(`argosy.store.concurrency`): each waits a few milliseconds on the network, and the server
answers many at once."""
_MAX_PARTS = 10_000  # S3's limit on the parts of one multipart upload


def _remove_if_owner(directory: str, owner: int) -> None:
    """Remove a temporary cache, unless this is a forked child that inherited it."""
    if os.getpid() == owner:
        shutil.rmtree(directory, ignore_errors=True)


class S3Store:
    """Blobs and records in one S3 bucket, with a local download cache for mmap loads."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        secure: bool = True,
        region: str | None = None,
        create_bucket: bool = False,
        cache_dir: Path | str | None = None,
        part_size: int = PART_SIZE,
        parallel: int = PARALLEL,
        concurrency: int = CONCURRENCY,
        retries: int = 5,
        backoff: float = 0.2,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        abandoned_after: float = ABANDONED_AFTER,
    ) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.create_bucket = create_bucket
        self.part_size = max(part_size, 5 * MiB)  # S3's smallest multipart part
        self.parallel = max(parallel, 1)
        self.concurrency = max(concurrency, 1)
        self.retries = retries
        self.backoff = backoff
        self.abandoned_after = abandoned_after
        self._credentials = (access_key, secret_key, secure, region)
        self._client = self._make_client(
            urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            max(self.parallel, self.concurrency) + 2,
        )
        if cache_dir is None:
            cache_dir = tempfile.mkdtemp(prefix="argosy-s3-cache-")
            weakref.finalize(self, _remove_if_owner, cache_dir, os.getpid())
        self.cache_dir = Path(cache_dir).expanduser().absolute()

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> S3Store:
        """The store that ``ARGOSY_S3_*`` describes; ``options`` go to the constructor."""
        if not settings.s3_endpoint or not settings.s3_bucket:
            raise ConfigError("set ARGOSY_S3_ENDPOINT and ARGOSY_S3_BUCKET to use an S3 store")
        access, secret = settings.s3_access_key, settings.s3_secret_key
        configured: dict[str, Any] = {
            "access_key": access.get_secret_value() if access else None,
            "secret_key": secret.get_secret_value() if secret else None,
            "secure": settings.s3_secure,
            "region": settings.s3_region,
            "create_bucket": settings.s3_create_bucket,
        }
        return cls(settings.s3_endpoint, settings.s3_bucket, **(configured | options))

    def __repr__(self) -> str:
        return f"S3Store({self.endpoint!r}, {self.bucket!r})"

    # -- the ArtifactStore protocol -------------------------------------------------------

    def check(self) -> None:
        """Fail fast (short timeouts, no retries) unless the bucket can be read and written.

        Then clean up after processes that died: their staging files in the cache, and their
        incomplete uploads of blobs older than ``abandoned_after`` seconds.
        """
        sweep(self.staging_dir())
        client = self._make_client(urllib3.Timeout(connect=2.0, read=10.0), 1)
        try:
            exists = client.bucket_exists(self.bucket)
            if not exists and self.create_bucket:
                client.make_bucket(self.bucket, location=self._credentials[3])
            elif not exists:
                raise StoreUnavailable(
                    f"the S3 bucket {self.bucket!r} does not exist on {self.endpoint}: create "
                    "it (for example `mc mb`), or set ARGOSY_S3_CREATE_BUCKET=true to let "
                    "Argosy create it"
                )
            client.put_object(self.bucket, ".argosy/check", io.BytesIO(b""), 0)
        except S3Error as exc:
            raise self._translate(exc, "checking the bucket") from exc
        except ValueError as exc:
            raise ConfigError(
                f"the S3 bucket name {self.bucket!r} is not valid ({exc}); set "
                "ARGOSY_S3_BUCKET to 3-63 lowercase letters, digits, dots or hyphens"
            ) from exc
        except TRANSIENT_ERRORS as exc:
            raise self._unreachable(exc, "checking the bucket", attempts=1) from exc
        abort_abandoned_uploads(client, self.bucket, older_than=self.abandoned_after)

    def uri(self, digest: str) -> str:
        return f"s3://{self.bucket}/{self._blob_key(digest)}"

    def staging_dir(self) -> Path:
        staging = self.cache_dir / "tmp"
        staging.mkdir(parents=True, exist_ok=True)
        return staging

    def has(self, digest: str) -> bool:
        key = self._blob_key(digest)
        return self._retrying(f"looking up blob {digest}", lambda: self._exists(key))

    def put_file(self, path: Path, digest: str) -> None:
        key = self._blob_key(digest)
        if not self.has(digest):
            self._retrying(
                f"uploading blob {digest}",
                lambda: self._client.fput_object(
                    self.bucket,
                    key,
                    str(path),
                    part_size=self._part_size(path.stat().st_size),
                    num_parallel_uploads=self.parallel,
                ),
            )
        self._keep_in_cache(path, digest)

    def put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.put_chunks([data], digest)
        return digest

    def put_chunks(self, chunks: Sequence[bytes | memoryview], digest: str) -> None:
        if self.has(digest):
            return
        size = sum(memoryview(chunk).nbytes for chunk in chunks)
        self._retrying(
            f"uploading blob {digest}",
            lambda: self._client.put_object(
                self.bucket,
                self._blob_key(digest),
                ChunksReader(chunks),
                size,
                part_size=self._part_size(size),
                num_parallel_uploads=self.parallel,
            ),
        )

    def get_bytes(self, digest: str) -> bytes:
        cached = self._cache_path(digest)
        if cached.is_file():
            data = cached.read_bytes()
            if hashlib.sha256(data).hexdigest() == digest:
                return data
            cached.unlink(missing_ok=True)  # a damaged copy: fetch the blob again
        data = self._get_small(self._blob_key(digest), f"reading blob {digest}")
        if data is None:
            raise self._not_found(digest)
        return check_bytes(data, digest, self.uri(digest))

    def local_path(self, digest: str) -> Path:
        cached = self._cache_path(digest)
        if cached.is_file():
            try:
                return check_file(cached, digest, str(cached))
            except ArtifactCorrupted:
                cached.unlink(missing_ok=True)  # a damaged copy: fetch the blob again
        self._download(digest, cached)
        return cached

    def put_record(self, key: str, data: bytes) -> None:
        self._put_small(self._record_key(key), data, f"writing record {key}")

    def get_record(self, key: str) -> bytes | None:
        return self._get_small(self._record_key(key), f"reading record {key}")

    def list_records(self, prefix: str) -> list[str]:
        base = "records/"
        return self._retrying(
            f"listing records under {prefix!r}",
            lambda: sorted(
                item.object_name[len(base) :]
                for item in self._client.list_objects(
                    self.bucket, prefix=base + prefix, recursive=True
                )
                if item.object_name is not None
            ),
        )

    def blobs(self) -> Iterator[StoredBlob]:
        return stored_blobs(self._client, self.bucket, self._retrying)

    def delete_blobs(self, digests: Iterable[str]) -> int:
        """Delete the blobs from the bucket, and their cached and placed copies on this machine
        (other machines' caches keep theirs, checked against the digest whenever used); the
        bytes freed, in the bucket and here."""
        keys = {self._blob_key(digest): digest for digest in digests}
        freed = delete_objects(self._client, self.bucket, keys, self._retrying)
        for digest in keys.values():
            cached = self._cache_path(digest)
            with contextlib.suppress(FileNotFoundError):
                freed += cached.stat().st_size
                cached.unlink()
            freed += remove_placed(self, digest)
        return freed

    def delete_records(self, prefix: str) -> int:
        return delete_prefix(self._client, self.bucket, f"records/{prefix}", self._retrying)

    def compact(self) -> None:
        """Nothing to do: the bucket frees a deleted object's space itself."""

    # -- transfers ------------------------------------------------------------------------

    def _exists(self, key: str) -> bool:
        try:
            self._client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in MISSING_CODES:
                return False
            raise
        return True

    def _put_small(self, key: str, data: bytes, what: str) -> None:
        self._retrying(
            what,
            lambda: self._client.put_object(self.bucket, key, io.BytesIO(data), len(data)),
        )

    def _get_small(self, key: str, what: str) -> bytes | None:
        def get() -> bytes | None:
            try:
                response = self._client.get_object(self.bucket, key)
            except S3Error as exc:
                if exc.code in MISSING_CODES:
                    return None
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return self._retrying(what, get)

    def _download(self, digest: str, target: Path) -> None:
        """Fetch a blob into the cache in parallel ranges, hashing it as it lands, then rename
        it into place if its bytes match the digest."""
        key = self._blob_key(digest)
        try:
            size = self._retrying(
                f"looking up blob {digest}", lambda: self._client.stat_object(self.bucket, key)
            ).size
        except ArtifactNotFound:
            raise self._not_found(digest) from None
        fd, staged = new_file(self.staging_dir(), "get")
        try:
            with reporting_full_disk(self.cache_dir, size):
                os.ftruncate(fd, size)
                actual = fetch_ranges(
                    self._client,
                    self.bucket,
                    key,
                    fd,
                    size,
                    part_size=self.part_size,
                    parallel=self.parallel,
                    retrying=self._retrying,
                )
            if actual is None:
                raise StoreError(
                    f"the download of {key} from {self.endpoint} was cut short: its staging "
                    f"file in {self.staging_dir()} shrank while it was written; retry"
                )
            if actual != digest:
                raise corrupted(digest, actual, self.uri(digest))
        except BaseException:
            os.close(fd)
            staged.unlink()
            raise
        os.close(fd)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        remember(target, digest)

    def _part_size(self, size: int) -> int:
        """The configured part size, or more for a blob that would need over 10,000 parts."""
        smallest = -(-size // _MAX_PARTS)
        return max(self.part_size, -(-smallest // MiB) * MiB)

    def _keep_in_cache(self, path: Path, digest: str) -> None:
        """Move an uploaded staging file into the download cache, so loading it is free."""
        cached = self._cache_path(digest)
        if path.parent == self.staging_dir() and not cached.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, cached)
        else:
            path.unlink(missing_ok=True)

    # -- errors and retries ---------------------------------------------------------------

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        delay = self.backoff
        for attempt in range(1, self.retries + 2):
            try:
                return call()
            except S3Error as exc:
                if exc.code not in TRANSIENT_CODES or attempt > self.retries:
                    raise self._translate(exc, what) from exc
            except TRANSIENT_ERRORS as exc:
                if attempt > self.retries:
                    raise self._unreachable(exc, what, attempts=attempt) from exc
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable: the loop returns or raises")

    def _translate(self, exc: S3Error, what: str) -> StoreError:
        return translate(exc, what, endpoint=self.endpoint, bucket=self.bucket)

    def _unreachable(self, exc: BaseException, what: str, *, attempts: int) -> StoreUnavailable:
        return unreachable(exc, what, endpoint=self.endpoint, attempts=attempts)

    def _not_found(self, digest: str) -> ArtifactNotFound:
        return ArtifactNotFound(
            f"no blob {digest} in S3 bucket {self.bucket!r} on {self.endpoint}; was it written "
            "with the same ARGOSY_S3_* settings?"
        )

    # -- names ----------------------------------------------------------------------------

    def _make_client(self, timeout: urllib3.Timeout, connections: int) -> Minio:
        access_key, secret_key, secure, region = self._credentials
        http = urllib3.PoolManager(
            timeout=timeout, maxsize=connections, retries=False, cert_reqs="CERT_REQUIRED"
        )
        try:
            return Minio(
                self.endpoint,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure,
                region=region,
                http_client=http,
            )
        except ValueError as exc:
            raise ConfigError(
                f"ARGOSY_S3_ENDPOINT {self.endpoint!r} is not a valid S3 endpoint ({exc}); "
                "give host:port with no scheme or path (ARGOSY_S3_SECURE picks http or https)"
            ) from exc

    def _blob_key(self, digest: str) -> str:
        return f"blobs/{check_digest(digest)}"

    def _record_key(self, key: str) -> str:
        return f"records/{check_record_key(key)}"

    def _cache_path(self, digest: str) -> Path:
        return self.cache_dir / "blobs" / blob_relpath(check_digest(digest))


__all__ = ["CONCURRENCY", "PARALLEL", "PART_SIZE", "S3Store"]
