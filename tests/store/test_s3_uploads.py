"""An incomplete multipart upload left by a killed process is aborted by a later `check`.

S3 keeps the parts of an upload that was never completed nor aborted (and bills them) for ever.
The SDK aborts a failed upload while the server can be reached; an upload whose process was
killed (here: a real SIGKILL), or cut off by an outage (test_s3.py), stays. `S3Store.check`
aborts those of blobs older than ``abandoned_after``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.servers.s3 import S3Server
from tests.store.conftest import SMALL_PART, incomplete_uploads, s3_store
from tests.store.cutting_proxy import CuttingProxy
from tests.store.s3_env import REPO

UPLOADER = """
import sys
from argosy.store import S3Store
endpoint, bucket, access, secret = sys.argv[1:5]
store = S3Store(endpoint, bucket, access_key=access, secret_key=secret, secure=False,
                part_size=5 << 20, parallel=2, retries=0)
data = bytes(range(256)) * (6 * (5 << 20) // 256)
store.put_bytes(data)
"""


def test_an_upload_whose_process_was_killed_is_aborted_by_a_later_check(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    with CuttingProxy(("127.0.0.1", s3_server.ports["s3"]), 2 * SMALL_PART, stall=True) as proxy:
        credentials = (s3_server.access_key, s3_server.secret_key)
        uploader = subprocess.Popen(
            [sys.executable, "-c", UPLOADER, proxy.endpoint, s3_bucket, *credentials], cwd=REPO
        )
        deadline = time.monotonic() + 60
        while not incomplete_uploads(s3_server, s3_bucket):
            assert uploader.poll() is None, "the upload ended early"
            assert time.monotonic() < deadline, "no upload started"
            time.sleep(0.05)
        uploader.send_signal(signal.SIGKILL)
        uploader.wait()
    [key] = incomplete_uploads(s3_server, s3_bucket)
    assert key.startswith("blobs/")

    s3_store(s3_server, s3_bucket, tmp_path / "cache", abandoned_after=0).check()
    assert incomplete_uploads(s3_server, s3_bucket) == []
