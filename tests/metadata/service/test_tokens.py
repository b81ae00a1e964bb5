"""Token lifecycle: list and revoke (CLI and API), admin token rotation and strength, and the
throttling of failed authentication per client address. Real servers throughout: uvicorn in a
thread on Postgres, the CLI on the same database."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from argosy.cli import main
from argosy.config import Settings
from argosy.errors import ConfigError
from argosy.metadata.repository import Repository
from argosy.metadata.service import create_app
from argosy.metadata.service.throttle import AuthThrottle
from argosy.metadata.tokens import hash_token
from tests.metadata.conftest import ADMIN_TOKEN, service_settings
from tests.metadata.service_thread import ServiceThread

AUTH = "/api/v1/auth"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``argosy ARGS``: (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _mint(capsys: pytest.CaptureFixture[str], url: str, scope: str, name: str) -> str:
    code, out, _ = _cli(
        capsys, "token", "create", "--scope", scope, "--name", name, "--database-url", url, "--json"
    )
    assert code == 0
    return json.loads(out)["token"]


@pytest.fixture
def served(tmp_path: Path, fresh_postgres_url: str) -> Iterator[tuple[ServiceThread, str]]:
    """The service on Postgres (uvicorn on a free port), and that database's URL."""
    repository = Repository(fresh_postgres_url)
    service = ServiceThread(create_app(service_settings(tmp_path), repository=repository))
    service.start()
    try:
        yield service, fresh_postgres_url
    finally:
        service.stop()
        repository.close()


def test_cli_lists_and_revokes_tokens_without_showing_them(
    served: tuple[ServiceThread, str], capsys: pytest.CaptureFixture[str]
) -> None:
    service, url = served
    reader = _mint(capsys, url, "read", "dashboard")
    first, second = _mint(capsys, url, "write", "ci"), _mint(capsys, url, "write", "ci")

    code, out, _ = _cli(capsys, "token", "list", "--database-url", url, "--json")
    listed = json.loads(out)["tokens"]
    assert code == 0 and {(t["name"], t["scope"]) for t in listed} == {
        ("admin", "write"), ("dashboard", "read"), ("ci", "write"),
    }  # fmt: skip
    assert len(listed) == 4 and set(listed[0]) == {"id", "name", "scope", "created_at"}
    assert not any(secret in out for secret in (reader, first, second, ADMIN_TOKEN))
    assert not any(hash_token(secret) in out for secret in (reader, first))
    code, table, _ = _cli(capsys, "token", "list", "--database-url", url)
    assert code == 0 and "dashboard" in table and hash_token(reader)[:8] in table

    code, _, err = _cli(capsys, "token", "revoke", "ci", "--database-url", url)
    assert code == 1 and "2 tokens match 'ci'" in err and hash_token(first)[:8] in err
    code, _, err = _cli(capsys, "token", "revoke", "nobody", "--database-url", url)
    assert code == 1 and "no token has id or name 'nobody'" in err
    code, _, err = _cli(capsys, "token", "create", "--name", "admin", "--database-url", url)
    assert code == 1 and "kept for ARGOSY_ADMIN_TOKEN" in err

    assert _cli(capsys, "token", "revoke", hash_token(first)[:8], "--database-url", url)[0] == 0
    assert _cli(capsys, "token", "revoke", "dashboard", "--database-url", url)[0] == 0
    with httpx.Client(base_url=service.url) as http:  # never used, so never cached: refused now
        assert http.get(AUTH, headers=_bearer(first)).status_code == 401
        assert http.get(AUTH, headers=_bearer(reader)).status_code == 401
        assert http.get(AUTH, headers=_bearer(second)).json() == {"scope": "write"}


def test_api_revocation_takes_effect_at_once(
    served: tuple[ServiceThread, str], capsys: pytest.CaptureFixture[str]
) -> None:
    service, url = served
    writer, reader = _mint(capsys, url, "write", "pipeline"), _mint(capsys, url, "read", "r")
    with httpx.Client(base_url=service.url) as http:
        assert http.get(AUTH, headers=_bearer(writer)).status_code == 200  # now cached
        assert http.get("/api/v1/tokens", headers=_bearer(reader)).status_code == 403
        listed = http.get("/api/v1/tokens", headers=_bearer(ADMIN_TOKEN))
        assert listed.status_code == 200 and writer not in listed.text
        ids = {t["name"]: t["id"] for t in listed.json()}
        assert ids["pipeline"] == hash_token(writer)[:8]

        revoked = http.delete(f"/api/v1/tokens/{ids['pipeline']}", headers=_bearer(ADMIN_TOKEN))
        assert revoked.status_code == 200 and revoked.json()["name"] == "pipeline"
        refused = http.get(AUTH, headers=_bearer(writer))
        assert refused.status_code == 401 and "unknown token" in refused.json()["detail"]
        again = http.delete(f"/api/v1/tokens/{ids['pipeline']}", headers=_bearer(ADMIN_TOKEN))
        assert again.status_code == 404 and "argosy token list" in again.json()["detail"]
        paths = http.get("/openapi.json").json()["paths"]
        assert {"get"} <= set(paths["/api/v1/tokens"])
        assert {"404", "409"} <= set(paths["/api/v1/tokens/{id_or_name}"]["delete"]["responses"])


def test_restarting_with_a_new_admin_token_retires_the_old_one(
    tmp_path: Path, fresh_postgres_url: str
) -> None:
    rotated = "rotated-admin-token-0123456789abcdefgh"
    repository = Repository(fresh_postgres_url)
    service = ServiceThread(create_app(service_settings(tmp_path), repository=repository))
    service.start()
    try:
        with httpx.Client(base_url=service.url) as http:
            assert http.get(AUTH, headers=_bearer(ADMIN_TOKEN)).status_code == 200
            service.stop()
            settings = Settings(home=tmp_path / "home", admin_token=rotated)
            service.start(create_app(settings, repository=repository))
            assert http.get(AUTH, headers=_bearer(ADMIN_TOKEN)).status_code == 401
            assert http.get(AUTH, headers=_bearer(rotated)).json() == {"scope": "write"}
        admins = [t for t in repository.list_tokens() if t.name == "admin"]
        assert [t.id for t in admins] == [hash_token(rotated)[:8]]
    finally:
        service.stop()
        repository.close()


@pytest.mark.parametrize("weak", ["x", "short-operator-token", "a" * 31])
def test_a_short_admin_token_is_refused_at_start(tmp_path: Path, weak: str) -> None:
    settings = Settings(home=tmp_path / "home", admin_token=weak)
    with pytest.raises(ConfigError, match="at least 32") as refused:
        create_app(settings, repository=Repository(f"sqlite:///{tmp_path / 'weak.db'}"))
    assert "secrets.token_urlsafe(32)" in str(refused.value) and weak not in str(refused.value)


def test_failed_authentication_is_throttled_per_address(
    served: tuple[ServiceThread, str], capsys: pytest.CaptureFixture[str]
) -> None:
    service, url = served
    reader = _mint(capsys, url, "read", "r")
    guesser = httpx.Client(
        base_url=service.url, transport=httpx.HTTPTransport(local_address="127.0.0.2")
    )
    honest = httpx.Client(base_url=service.url)
    with guesser, honest:
        assert guesser.get(AUTH, headers=_bearer(ADMIN_TOKEN)).status_code == 200  # cached
        answers = [guesser.get(AUTH, headers=_bearer(f"guess-{n}")) for n in range(12)]
        assert [a.status_code for a in answers] == [401] * 10 + [429] * 2
        assert int(answers[-1].headers["Retry-After"]) in range(1, 61)
        assert "too many unknown tokens from 127.0.0.2" in answers[-1].json()["detail"]
        assert guesser.get(AUTH, headers=_bearer(ADMIN_TOKEN)).status_code == 200
        assert guesser.get(AUTH, headers=_bearer(reader)).status_code == 429  # not looked up
        assert honest.get(AUTH, headers=_bearer(reader)).json() == {"scope": "read"}
        assert honest.get(AUTH, headers=_bearer("one-typo")).status_code == 401


def test_a_throttled_address_may_try_again_after_the_window() -> None:
    throttle = AuthThrottle(max_failures=2, window=0.3)
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") is None
    throttle.failed("10.0.0.1")
    wait = throttle.retry_after("10.0.0.1")
    assert wait is not None and 0 < wait <= 0.3
    assert throttle.retry_after("10.0.0.2") is None
    time.sleep(wait)
    assert throttle.retry_after("10.0.0.1") is None
    throttle.failed("10.0.0.1")  # a new window, counted from one
    assert throttle.retry_after("10.0.0.1") is None
