"""``argosy server`` as the Helm chart runs it (a real process on Postgres, migrating first), and
as a newcomer runs it: on the embedded database, saying how to get a token and query it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from pydantic import SecretStr

from argosy.cli.server import startup_help
from argosy.config import Settings

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


def _without_argosy_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ARGOSY_")}


def _wait_ready(server: subprocess.Popen, port: int) -> tuple[int, dict]:
    """``/readyz`` of ``server`` once it answers."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return _get(f"http://127.0.0.1:{port}/readyz")
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                output = server.stderr.read() if server.stderr else ""
                pytest.fail(f"argosy server did not start: {output}")
            time.sleep(0.2)


def _server(
    database_url: str, port: int, *flags: str, token: str = OPERATOR_TOKEN
) -> subprocess.Popen[str]:
    env = _without_argosy_settings() | {"ARGOSY_ADMIN_TOKEN": token, "ARGOSY_HOME": "/nonexistent"}
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
        assert _wait_ready(server, port) == (200, {"status": "ready"})
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


def test_embedded_server_prints_commands_that_get_a_token_and_query_it(
    settings: Settings, tmp_path: Path
) -> None:
    port = _free_port()
    log = tmp_path / "server.log"
    env = _without_argosy_settings() | {"ARGOSY_HOME": str(settings.home)}
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "argosy", "server", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        assert _wait_ready(server, port)[0] == 200
        printed = log.read_text()
        assert f"http://127.0.0.1:{port}/docs" in printed
        commands = [line.strip() for line in printed.splitlines() if line.startswith("  ")]
        assert len(commands) == 3, printed
        auth = '-H "Authorization: Bearer $ARGOSY_TOKEN"'
        check = f"echo; curl -sf {auth} $ARGOSY_METADATA_URL/api/v1/auth"
        shell = subprocess.run(  # another shell: no ARGOSY_ settings of its own
            ["bash", "-ec", "\n".join([*commands, check])],
            env=_without_argosy_settings(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shell.returncode == 0, shell.stderr
        runs, auth = shell.stdout.splitlines()
        assert json.loads(runs)["data"] == []
        assert json.loads(auth) == {"scope": "write"}
    finally:
        server.terminate()
        server.wait(20)


def test_startup_help_names_the_database_and_a_host_clients_reach() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://argosy:s3cret@db:5432/argosy",
        admin_token=SecretStr("x" * 32),
        anonymous_reads=True,
    )
    shown = startup_help(settings, "0.0.0.0", 8000)
    assert "s3cret" not in shown
    assert "--database-url 'postgresql+psycopg://argosy:***@db:5432/argosy')" in shown
    assert "password where the URL shows ***" in shown
    assert (
        'curl -H "Authorization: Bearer $ARGOSY_TOKEN" http://127.0.0.1:8000/api/v1/runs' in shown
    )
    assert "Reads need no token here" in shown and "ARGOSY_ADMIN_TOKEN" in shown
    assert "http://[::1]:9000/docs" in startup_help(Settings(), "::1", 9000)
