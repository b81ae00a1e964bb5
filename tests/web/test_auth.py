"""Who may see the web UI: the API's tokens, in the header or in the UI's login cookie.

Without a token a page sends the browser to the login form (and the JSON the pages fetch
answers 401); a known token logs in and sets an HttpOnly, SameSite=Strict cookie that only the
UI reads (the REST API still wants the header); a form posted from another site is refused;
a revoked token's cookie sends the browser back to log in; anonymous reads open the UI as they
open the API.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from argosy.web import urls
from argosy.web.auth import COOKIE
from tests.pipelines.recorded import Recorded
from tests.web.conftest import Tokens


def _login(http: TestClient, token: str, next_page: str = "/ui/runs") -> object:
    return http.post("/ui/login", data={"token": token, "next": next_page}, follow_redirects=False)


def test_without_a_token_a_page_sends_you_to_log_in(http: TestClient, runs: Recorded) -> None:
    page = urls.run_url("", runs.ok)
    answer = http.get(page, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/ui/login?next=%2Fui%2Fruns%2F{runs.ok}"
    form = http.get(answer.headers["location"])
    assert form.status_code == 200 and 'name="token"' in form.text
    assert f'value="/ui/runs/{runs.ok}"' in form.text
    tail = http.get(f"{urls.task_url('', runs.ok, 'words')}/log.json")
    assert tail.status_code == 401 and "log in at /ui/login" in tail.json()["detail"]
    assert http.get("/", follow_redirects=False).headers["location"] == "/ui/runs"


def test_a_token_logs_in_with_a_strict_cookie(
    http: TestClient, runs: Recorded, tokens: Tokens
) -> None:
    page = urls.run_url("", runs.ok)
    answer = _login(http, tokens.read, page)
    assert answer.status_code == 303 and answer.headers["location"] == page
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={tokens.read};")
    for attribute in ("HttpOnly", "Path=/ui", "SameSite=strict"):
        assert attribute.lower() in cookie.lower()
    assert http.get(page).status_code == 200
    assert http.get(f"{urls.task_url('', runs.ok, 'words')}/log.json").status_code == 200
    assert http.get("/api/v1/runs").status_code == 401  # the API takes the header alone
    out = http.post("/ui/logout", follow_redirects=False)
    assert out.status_code == 303 and f'{COOKIE}=""' in out.headers["set-cookie"]


def test_an_unknown_token_is_refused_on_the_form(http: TestClient) -> None:
    answer = _login(http, "not-a-token")
    assert answer.status_code == 401 and "that token is unknown" in answer.text
    assert "set-cookie" not in answer.headers
    assert _login(http, "").status_code == 401


def test_the_login_form_only_returns_to_pages_of_the_ui(http: TestClient, tokens: Tokens) -> None:
    for elsewhere in ("https://evil.example/ui/runs", "//evil.example/ui/runs", "/api/v1/runs"):
        assert _login(http, tokens.read, elsewhere).headers["location"] == "/ui/runs"


def test_a_form_from_another_site_is_refused(http: TestClient, tokens: Tokens) -> None:
    answer = http.post(
        "/ui/login",
        data={"token": tokens.read},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "set-cookie" not in answer.headers
    same = http.post(
        "/ui/login",
        data={"token": tokens.read},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same.status_code == 303


def test_the_bearer_header_works_on_pages_as_on_the_api(
    http: TestClient, runs: Recorded, tokens: Tokens
) -> None:
    page = urls.run_url("", runs.ok)
    assert http.get(page, headers={"Authorization": f"Bearer {tokens.read}"}).status_code == 200
    wrong = http.get(page, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "unknown token" in wrong.text


def test_a_revoked_token_logs_you_out(http: TestClient, runs: Recorded, tokens: Tokens) -> None:
    from argosy.metadata.tokens import new_token

    token = new_token()
    repository = http.app.state.argosy.repository
    repository.add_token(token, "read", "to-revoke")
    _login(http, token)
    assert http.get("/ui/runs").status_code == 200
    revoked = repository.revoke_token("to-revoke")
    http.app.state.argosy.forget(revoked.id)
    answer = http.get("/ui/runs", follow_redirects=False)
    assert (
        answer.status_code == 303 and "no+longer+accepts+your+token" in answer.headers["location"]
    )


def test_anonymous_reads_open_the_ui(runs: Recorded) -> None:
    from argosy.metadata.service import create_app
    from tests.web.conftest import ui_settings

    with TestClient(create_app(ui_settings(runs.home, anonymous_reads=True))) as http:
        assert http.get(urls.run_url("", runs.ok)).status_code == 200
        assert http.get(urls.runs_url("")).status_code == 200


def test_assets_are_served_by_the_package(http: TestClient) -> None:
    for name, kind in (("ui.css", "text/css"), ("ui.js", "javascript")):
        answer = http.get(f"/ui/static/{name}")
        assert answer.status_code == 200 and kind in answer.headers["content-type"]
        assert "http://" not in answer.text and "https://" not in answer.text
