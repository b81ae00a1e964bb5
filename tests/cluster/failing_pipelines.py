"""Pipelines whose steps fail on purpose, for the failure tests on the cluster.

Pods share nothing but the store, so a step decides whether to fail by a marker object in the
artifact bucket (``markers/NAME``): the test, or an earlier attempt, puts it there. Each test
passes a fresh marker name, so runs never see each other's markers.
"""

from __future__ import annotations

import io
import os
import time

from minio import Minio
from minio.error import S3Error

from argosy import pipeline, run_status, step

MARKERS = "markers/"


def _bucket() -> tuple[Minio, str]:
    """The artifact bucket, from the ``ARGOSY_S3_*`` variables every pod gets."""
    client = Minio(
        os.environ["ARGOSY_S3_ENDPOINT"],
        access_key=os.environ["ARGOSY_S3_ACCESS_KEY"],
        secret_key=os.environ["ARGOSY_S3_SECRET_KEY"],
        secure=os.environ.get("ARGOSY_S3_SECURE", "true") == "true",
    )
    return client, os.environ["ARGOSY_S3_BUCKET"]


def marker_exists(name: str) -> bool:
    client, bucket = _bucket()
    try:
        client.stat_object(bucket, MARKERS + name)
    except S3Error as error:
        if error.code in {"NoSuchKey", "NoSuchObject"}:
            return False
        raise
    return True


def put_marker(name: str) -> None:
    client, bucket = _bucket()
    client.put_object(bucket, MARKERS + name, io.BytesIO(b""), 0)


@step(retries=2)
def fails_once(marker: str) -> str:
    """Fails on its first attempt (which leaves the marker), succeeds on the next."""
    if marker_exists(marker):
        return "succeeded on a later attempt"
    put_marker(marker)
    raise RuntimeError("the first attempt fails on purpose")


@pipeline
def retried(marker: str = "unset"):
    return fails_once(marker)


@step(timeout="15s")
def too_slow(seconds: int) -> int:
    time.sleep(seconds)
    return seconds


@step
def after_slow(seconds: int) -> int:
    return seconds


@pipeline
def deadline(seconds: int = 600):
    return after_slow(too_slow(seconds))


@step
def numbers(width: int) -> list[int]:
    return list(range(width))


@step
def square(x: int) -> int:
    return x * x


@step
def total(squares: list[int], marker: str) -> int:
    """Fails until the marker exists: the run fails here, and a resume after the marker runs."""
    if not marker_exists(marker):
        raise RuntimeError(f"marker {marker!r} is not in the bucket yet")
    return sum(squares)


@step
def report(total: int) -> str:
    return f"the squares add up to {total}"


@pipeline
def flaky(width: int = 4, marker: str = "unset"):
    return report(total(square.map(x=numbers(width)), marker))


@step
def hello(name: str) -> str:
    return f"hello, {name}"


@pipeline
def greeting(name: str = "cron"):
    return hello(name)


@step
def breaks(marker: str) -> int:
    raise RuntimeError(f"breaks on purpose ({marker})")


@step
def uses(value: int) -> int:
    return value


@step
def recover(note: str) -> str:
    """A failure handler: runs only because ``breaks`` failed."""
    return note


@step
def notify(status: str) -> str:
    """The exit handler: what a notification would say."""
    return f"the run {status}"


@pipeline
def guarded(marker: str = "unset"):
    broken = breaks(marker)
    uses(broken)
    recover("recovered").after(broken, on="failed")
    notify(run_status()).on_exit()
