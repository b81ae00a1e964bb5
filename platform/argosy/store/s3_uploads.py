"""Multipart uploads to S3: streaming buffers in memory part by part, and aborting the uploads
that processes which died left behind.

An upload cut off by an outage, or whose process was killed, stays in the bucket as an
incomplete multipart upload (its parts kept, and billed) until someone aborts it.
`abort_abandoned_uploads` aborts those of blobs (``blobs/<sha256>``) begun long enough ago that
no live writer can still be sending them (by default `staging.ABANDONED_AFTER`, the age after
which an unclaimed staging file goes too); other keys are left alone. minio has no public API
for listing or aborting uploads: its `_list_multipart_uploads` and `_abort_multipart_upload`
are used (minio is pinned to 7.2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import urllib3
from minio import Minio
from minio.error import MinioException

from argosy.store.staging import ABANDONED_AFTER

_BLOB_KEY = re.compile(r"blobs/[0-9a-f]{64}")
_UNANSWERED = (MinioException, urllib3.exceptions.HTTPError, ConnectionError)


class ChunksReader:
    """A file-like reader over buffers in memory: the SDK reads one part at a time from it."""

    def __init__(self, chunks: Sequence[bytes | memoryview]) -> None:
        self._chunks = [memoryview(chunk).cast("B") for chunk in chunks]
        self._index = 0
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        parts: list[memoryview] = []
        wanted = size if size >= 0 else sum(chunk.nbytes for chunk in self._chunks)
        while wanted > 0 and self._index < len(self._chunks):
            chunk = self._chunks[self._index]
            part = chunk[self._offset : self._offset + wanted]
            parts.append(part)
            wanted -= part.nbytes
            self._offset += part.nbytes
            if self._offset == chunk.nbytes:
                self._index, self._offset = self._index + 1, 0
        return b"".join(parts)


def abort_abandoned_uploads(
    client: Minio, bucket: str, *, older_than: float = ABANDONED_AFTER
) -> None:
    """Abort the incomplete uploads of blobs in ``bucket`` begun over ``older_than`` seconds ago.

    Best effort: a server or a key that may not list or abort uploads leaves them.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
    marker: tuple[str | None, str | None] = (None, None)
    try:
        while True:
            page = client._list_multipart_uploads(
                bucket, prefix="blobs/", key_marker=marker[0], upload_id_marker=marker[1]
            )
            for upload in page.uploads:
                begun = upload.initiated_time
                name = str(upload.object_name)
                if _BLOB_KEY.fullmatch(name) and begun is not None and begun < cutoff:
                    client._abort_multipart_upload(bucket, name, str(upload.upload_id))
            if not page.is_truncated or not page.uploads:
                return
            marker = (page.uploads[-1].object_name, page.uploads[-1].upload_id)
    except _UNANSWERED:
        return


__all__ = ["ChunksReader", "abort_abandoned_uploads"]
