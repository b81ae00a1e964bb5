"""Running the ``argosy`` command against an S3 test server, as a user would from a shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.servers.s3 import S3Server

REPO = Path(__file__).resolve().parents[2]


def s3_environment(server: S3Server, bucket: str, home: Path) -> dict[str, str]:
    """This process's environment plus the ``ARGOSY_*`` variables of an S3 run."""
    return os.environ | {
        "ARGOSY_HOME": str(home),
        "ARGOSY_S3_ENDPOINT": server.endpoint,
        "ARGOSY_S3_BUCKET": bucket,
        "ARGOSY_S3_ACCESS_KEY": server.access_key,
        "ARGOSY_S3_SECRET_KEY": server.secret_key,
        "ARGOSY_S3_SECURE": "false",
    }


def argosy(
    env: dict[str, str], *args: str, timeout: float = 300
) -> tuple[int, dict[str, Any], str]:
    """Run ``argosy ARGS --json``; its exit code, its JSON object and its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "argosy", *args, "--json"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON from argosy {args}: {done.stdout}\n{done.stderr}") from None
    return done.returncode, result, done.stderr


__all__ = ["REPO", "argosy", "s3_environment"]
