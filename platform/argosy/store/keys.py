"""Validation of the names a store is asked about: blob digests and record keys.

Both backends check names here before touching a file or an object, so a malformed digest or a
key that would escape the store (``..``, an absolute path) is an error, never a stray write.
"""

from __future__ import annotations

import re

from argosy.errors import StoreError

_DIGEST = re.compile(r"[0-9a-f]{64}")


def is_digest(text: str) -> bool:
    """Whether ``text`` is a sha256 in lowercase hex (a blob's key)."""
    return _DIGEST.fullmatch(text) is not None


def check_digest(digest: str) -> str:
    """The digest itself if it is a sha256 in lowercase hex, else StoreError."""
    if not is_digest(digest):
        raise StoreError(f"{digest!r} is not an artifact digest (64 lowercase hex characters)")
    return digest


def blob_relpath(digest: str) -> str:
    """Where a blob lives below a local blob directory: ``ab/cdef...`` (fans out directories)."""
    return f"{digest[:2]}/{digest[2:]}"


def check_record_key(key: str) -> str:
    """The key itself if it is a relative ``a/b/c`` path with no empty, ``.`` or ``..`` part."""
    parts = key.split("/")
    if not key or "\\" in key or any(part in ("", ".", "..") for part in parts):
        raise StoreError(
            f"{key!r} is not a record key: use a relative path like 'runs/<run>/outputs/x/0.json'"
        )
    return key


__all__ = ["blob_relpath", "check_digest", "check_record_key", "is_digest"]
