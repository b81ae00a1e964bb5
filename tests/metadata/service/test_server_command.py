"""``argosy server`` as the Helm chart runs it: a real process on Postgres, migrating first."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

OPERATOR_TOKEN = "operator-token-0123456789abcdefgh"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _server(
    database_url: str, port: int, *flags: str, token: str = OPERATOR_TOKEN
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGOSY_")}
    env |= {"ARGOSY_ADMIN_TOKEN": token, "ARGOSY_HOME": "/nonexistent"}
    command = [sys.executable, "-m", "argosy", "server", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--database-url", database_url, *flags],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_server_migrates_serves_and_refuses_an_unmigrated_database(postgres_url: str) -> None:
    port = _free_port()
    refused = _server(postgres_url, port)
    _, stderr = refused.communicate(timeout=60)
    assert refused.returncode == 1
    assert "argosy server --migrate" in stderr and "Traceback" not in stderr

    server = _server(postgres_url, port, "--migrate")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/readyz")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"argosy server did not start: {server.stderr.read()}")
                time.sleep(0.2)
        assert (status, body) == (200, {"status": "ready"})
        url = f"http://127.0.0.1:{port}/api/v1/auth"
        assert _get(url, OPERATOR_TOKEN) == (200, {"scope": "write"})
        assert _get(url)[0] == 401
    finally:
        server.terminate()
        server.wait(20)


def test_server_refuses_a_short_admin_token(postgres_url: str) -> None:
    refused = _server(postgres_url, _free_port(), "--migrate", token="admin")
    _, stderr = refused.communicate(timeout=60)
    assert refused.returncode == 1 and "Traceback" not in stderr
    assert "ARGOSY_ADMIN_TOKEN has 5 characters; it needs at least 32" in stderr
    assert "secrets.token_urlsafe(32)" in stderr
