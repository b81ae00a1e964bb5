"""What an S3 failure means, in words that say what to fix; which failures are worth a retry.

`S3Store` retries what `TRANSIENT_CODES` and `TRANSIENT_ERRORS` name (connection errors, 5xx,
SlowDown) with backoff; what is left becomes a `StoreError` through `translate` (an answer
the server gave) or `unreachable` (no answer).
"""

from __future__ import annotations

import urllib3
from minio.error import MinioException, S3Error

from argosy.errors import ArtifactNotFound, StoreError, StoreUnavailable

TRANSIENT_CODES = frozenset({"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"})
"""Error codes worth asking again for."""
CREDENTIAL_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken"}
)
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject"})
"""Error codes of a key the bucket does not hold."""
TRANSIENT_ERRORS = (urllib3.exceptions.HTTPError, MinioException, ConnectionError)
"""Failures to get an answer at all (S3Error, an answer, is a MinioException: catch it first)."""


def translate(exc: S3Error, what: str, *, endpoint: str, bucket: str) -> StoreError:
    """The error to raise for the server's answer ``exc`` to ``what``."""
    if exc.code in CREDENTIAL_CODES:
        return StoreUnavailable(
            f"S3 at {endpoint} refused the credentials while {what} ({exc.code}); "
            "check ARGOSY_S3_ACCESS_KEY and ARGOSY_S3_SECRET_KEY, and that this key may "
            f"read and write bucket {bucket!r}"
        )
    if exc.code == "NoSuchBucket":
        return StoreUnavailable(
            f"the S3 bucket {bucket!r} does not exist on {endpoint}: create it, "
            "or set ARGOSY_S3_CREATE_BUCKET=true to let Argosy create it"
        )
    if exc.code in MISSING_CODES:
        return ArtifactNotFound(f"no object {exc.object_name!r} in bucket {bucket!r}")
    return StoreError(f"S3 at {endpoint} failed while {what}: {exc.code}: {exc.message}")


def unreachable(exc: BaseException, what: str, *, endpoint: str, attempts: int) -> StoreUnavailable:
    """The error to raise when ``what`` got no answer after ``attempts`` tries."""
    hint = (
        "; the endpoint may speak plain HTTP: set ARGOSY_S3_SECURE=false"
        if isinstance(exc, urllib3.exceptions.SSLError)
        else ""
    )
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return StoreUnavailable(
        f"cannot reach S3 at {endpoint} while {what}{tries} ({type(exc).__name__}: "
        f"{exc}){hint}; check ARGOSY_S3_ENDPOINT and that the server is up, then retry"
    )


__all__ = [
    "CREDENTIAL_CODES",
    "MISSING_CODES",
    "TRANSIENT_CODES",
    "TRANSIENT_ERRORS",
    "translate",
    "unreachable",
]
