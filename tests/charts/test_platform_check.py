"""The chart's containers, run here for real: the commands and environments of the rendered
metadata Deployment, bucket Job and `helm test` pod, against a real Postgres and S3 server
(SeaweedFS, which speaks MinIO's S3 API) on 127.0.0.1. Only what a cluster supplies is
swapped: Service host names for local ports, Secret references for test values, and the
ConfigMap mount for the chart's files/ directory."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.charts.chart import BY_NAME, CHART, find, render

TOKEN = "chart-test-admin-token-" + "x" * 16  # the service wants 32 characters or more
SECRETS = {
    ("argosy-metadata-token", "token"): TOKEN,
    ("argosy-postgres", "password"): "chart-test-password",
    ("argosy-s3", "access-key"): "unused-by-the-probes",
    ("argosy-s3", "secret-key"): "unused-by-the-probes",
}
"""What the chart's Secrets hold, for the test. The metadata service opens the bucket only when
a web page previews an artifact; clients get the real S3 server's keys (`_client_env`)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _container(kind: str, name: str, init: bool = False) -> dict[str, Any]:
    obj = find(render(BY_NAME["defaults"]), kind, name)
    spec = obj["spec"] if kind == "Pod" else obj["spec"]["template"]["spec"]
    return spec["initContainers" if init else "containers"][0]


def _argv(container: dict[str, Any]) -> list[str]:
    """The container's command and args, with the chart's ConfigMap mount mapped to files/."""
    argv = [*container["command"], *container.get("args", [])]
    argv = [arg.replace("/opt/argosy-chart", str(CHART / "files")) for arg in argv]
    return [sys.executable if arg == "python" else arg for arg in argv]


def _env(container: dict[str, Any], secrets: dict[tuple[str, str], str], **local: str) -> dict:
    """The container's environment: Secret references resolved from `secrets`, $(VAR)
    expanded as the kubelet does, then the cluster addresses replaced by `local` values."""
    env: dict[str, str] = {}
    for entry in container["env"]:
        if "valueFrom" in entry:
            ref = entry["valueFrom"]["secretKeyRef"]
            env[entry["name"]] = secrets[(ref["name"], ref["key"])]
        else:
            env[entry["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m[1]], entry["value"])
    return {**os.environ, **env, **local}


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """The chart's own ARGOSY_DATABASE_URL, pointed at the test database."""
    container = _container("Deployment", "argosy-metadata")
    rendered = _env(container, SECRETS)["ARGOSY_DATABASE_URL"]
    local = urlsplit(postgres_url)
    assert urlsplit(rendered).scheme == local.scheme == "postgresql+psycopg"
    return _moved(rendered, f"{local.hostname}:{local.port}", local.path)


def _moved(url: str, address: str, path: str | None = None) -> str:
    """`url` with its host:port (and path) replaced, user and password kept."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{address}" if credentials else address
    return parts._replace(netloc=netloc, path=path if path is not None else parts.path).geturl()


@pytest.fixture
def metadata_service(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The metadata Deployment's container command, serving on a local port."""
    container = _container("Deployment", "argosy-metadata")
    port = _free_port()
    argv = [{"0.0.0.0": "127.0.0.1", "8000": str(port)}.get(arg, arg) for arg in _argv(container)]
    env = _env(
        container,
        SECRETS,
        ARGOSY_DATABASE_URL=database_url,
        HOME=str(tmp_path),
    )
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}{container['readinessProbe']['httpGet']['path']}", server, tmp_path)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_for(url: str, server: subprocess.Popen[bytes], tmp_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer 200 within 60 s")


def _check(
    container: dict[str, Any], env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_argv(container), *extra], env=env, capture_output=True, text=True, timeout=120
    )


def _client_env(
    container: dict[str, Any], s3_server: Any, bucket: str, metadata_url: str, home: Path
) -> dict:
    secrets = {
        **SECRETS,
        ("argosy-s3", "access-key"): s3_server.access_key,
        ("argosy-s3", "secret-key"): s3_server.secret_key,
    }
    return _env(
        container,
        secrets,
        ARGOSY_METADATA_URL=metadata_url,
        ARGOSY_S3_ENDPOINT=s3_server.endpoint,
        ARGOSY_S3_BUCKET=bucket,
        HOME=str(home),
    )


def test_the_init_container_waits_for_the_database(database_url: str, tmp_path: Path) -> None:
    container = _container("Deployment", "argosy-metadata", init=True)
    env = _env(
        container,
        SECRETS,
        ARGOSY_DATABASE_URL=database_url,
    )
    result = _check(container, env)
    assert result.returncode == 0, result.stderr
    assert "database" in result.stdout

    unreachable = _moved(database_url, f"127.0.0.1:{_free_port()}")
    result = _check(container, {**env, "ARGOSY_DATABASE_URL": unreachable}, "--wait", "1")
    assert result.returncode == 1
    assert "FAILED database" in result.stderr


def test_the_bucket_job_creates_the_bucket(s3_server: Any, tmp_path: Path) -> None:
    container = _container("Job", "argosy-create-bucket")
    bucket = f"chart-{os.getpid()}-{time.monotonic_ns()}"
    env = _client_env(container, s3_server, bucket, "http://127.0.0.1:9", tmp_path)
    assert not s3_server.client().bucket_exists(bucket)
    result = _check(container, env)
    assert result.returncode == 0, result.stderr
    assert s3_server.client().bucket_exists(bucket)


def test_helm_test_checks_the_metadata_service_and_the_bucket(
    s3_server: Any, s3_bucket: str, metadata_service: str, tmp_path: Path
) -> None:
    container = _container("Pod", "argosy-test-platform")
    env = _client_env(container, s3_server, s3_bucket, metadata_service, tmp_path)
    result = _check(container, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == 2


def test_helm_test_fails_on_a_wrong_token_or_a_missing_bucket(
    s3_server: Any, s3_bucket: str, metadata_service: str, tmp_path: Path
) -> None:
    container = _container("Pod", "argosy-test-platform")
    env = _client_env(container, s3_server, s3_bucket, metadata_service, tmp_path)
    result = _check(container, {**env, "ARGOSY_TOKEN": "not-the-token"})
    assert result.returncode == 1
    assert "FAILED metadata" in result.stderr
    result = _check(container, {**env, "ARGOSY_S3_BUCKET": f"{s3_bucket}-missing"})
    assert result.returncode == 1
    assert "FAILED store" in result.stderr


def test_the_metadata_probes_answer(metadata_service: str) -> None:
    container = _container("Deployment", "argosy-metadata")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        path = container[probe]["httpGet"]["path"]
        with urllib.request.urlopen(f"{metadata_service}{path}", timeout=5) as response:
            assert response.status == 200, f"{probe} {path}"
