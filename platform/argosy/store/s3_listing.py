"""Listing and deleting objects of an S3 bucket, for garbage collection (`S3Store.blobs`,
`S3Store.delete_blobs`, `S3Store.delete_records`).

A listing is read one key at a time through the store's retry policy; when a page fails with a
transient error, the listing starts again after the last key it gave (``start_after``), so a
retry neither repeats nor skips a key. Deletes go 1,000 keys per request (S3's multi-object
delete, retried whole: deleting a key that is gone already succeeds); a key the server refuses
to delete is a `StoreError` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from minio import Minio
from minio.datatypes import Object
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from argosy.errors import StoreError
from argosy.store.base import StoredBlob
from argosy.store.keys import is_digest
from argosy.store.s3_errors import MISSING_CODES

T = TypeVar("T")
Retrying = Callable[[str, Callable[[], T]], T]
"""The store's retry policy: ``retrying(what, call)`` (`S3Store._retrying`)."""

BLOBS = "blobs/"
"""Where blobs are, by digest."""
_DELETES_PER_REQUEST = 1000  # S3's limit on one multi-object delete
_STATS_IN_FLIGHT = 4  # within the store's connection pool (its parallel + 2; 5 by default)


def listed(client: Minio, bucket: str, prefix: str, retrying: Retrying[Any]) -> Iterator[Object]:
    """Every object under ``prefix``, in key order, each once."""
    last: str | None = None
    pages: Iterator[Object] | None = None

    def following() -> Object | None:
        nonlocal pages
        try:
            if pages is None:
                pages = iter(
                    client.list_objects(bucket, prefix=prefix, recursive=True, start_after=last)
                )
            return next(pages, None)
        except BaseException:
            pages = None  # ask again from after the last key given
            raise

    while (item := retrying(f"listing {prefix!r}", following)) is not None:
        last = item.object_name
        yield item


def stored_blobs(client: Minio, bucket: str, retrying: Retrying[Any]) -> Iterator[StoredBlob]:
    """The blobs of the bucket, with their sizes and when they were stored."""
    for item in listed(client, bucket, BLOBS, retrying):
        digest = (item.object_name or "").removeprefix(BLOBS)
        if is_digest(digest) and item.last_modified is not None:
            yield StoredBlob(digest, item.size or 0, item.last_modified)


def delete_objects(client: Minio, bucket: str, keys: Iterable[str], retrying: Retrying[Any]) -> int:
    """Delete ``keys`` from the bucket; the bytes they held (keys it does not hold count 0)."""
    sizes = object_sizes(client, bucket, keys, retrying)
    remove(client, bucket, sizes, retrying)
    return sum(sizes.values())


def delete_prefix(client: Minio, bucket: str, prefix: str, retrying: Retrying[Any]) -> int:
    """Delete every object under ``prefix``; the bytes they held."""
    sizes = {
        item.object_name: item.size or 0
        for item in listed(client, bucket, prefix, retrying)
        if item.object_name is not None
    }
    remove(client, bucket, sizes, retrying)
    return sum(sizes.values())


def object_sizes(
    client: Minio, bucket: str, keys: Iterable[str], retrying: Retrying[Any]
) -> dict[str, int]:
    """The size of each of ``keys`` the bucket holds (those it does not are left out)."""

    def size(key: str) -> int | None:
        def stat() -> int | None:
            try:
                return client.stat_object(bucket, key).size or 0
            except S3Error as error:
                if error.code in MISSING_CODES:
                    return None
                raise

        return retrying(f"looking up {key}", stat)

    wanted = list(keys)
    with ThreadPoolExecutor(_STATS_IN_FLIGHT) as pool:
        found = zip(wanted, pool.map(size, wanted), strict=True)
        return {key: size for key, size in found if size is not None}


def remove(client: Minio, bucket: str, keys: Iterable[str], retrying: Retrying[Any]) -> None:
    """Delete ``keys`` from the bucket (keys it does not hold are no error)."""
    ordered = list(keys)
    for start in range(0, len(ordered), _DELETES_PER_REQUEST):
        batch = tuple(ordered[start : start + _DELETES_PER_REQUEST])

        def delete(batch: tuple[str, ...] = batch) -> list[Any]:
            return list(client.remove_objects(bucket, [DeleteObject(key) for key in batch]))

        refused = retrying(f"deleting {len(batch)} objects", delete)
        refused = [error for error in refused if error.code not in MISSING_CODES]
        if refused:
            first = refused[0]
            raise StoreError(
                f"S3 refused to delete {len(refused)} objects of bucket {bucket!r}, such as "
                f"{first.name!r} ({first.code}: {first.message}); check that this key may "
                "delete objects in the bucket"
            )


__all__ = [
    "BLOBS",
    "delete_objects",
    "delete_prefix",
    "listed",
    "object_sizes",
    "remove",
    "stored_blobs",
]
