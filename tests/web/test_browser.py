"""The web UI in a real headless Chromium (Debian's ``chromium``, driven by Playwright), over the
real service (uvicorn in a thread) and real recorded runs: log in, click from the runs list to a
run, a step, a task's log, an artifact's lineage and a diff, and watch a live run and its log
change without reloading.

Playwright never downloads a browser here: it starts the system's ``chromium`` (or
``ARGOSY_CHROMIUM``). Where it cannot start, these tests are skipped, or fail when ``CI`` is
set. With ``ARGOSY_SCREENSHOTS=1`` they also write the README's screenshots under ``docs/``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argosy.metadata.schemas import RunStatus, RunUpdate, TaskRecord, TaskStatus
from argosy.metadata.service import create_app
from argosy.store import save
from argosy.store.addresses import log_key
from argosy.web import urls
from tests.metadata.service_thread import ServiceThread
from tests.pipelines.recorded import Recorded
from tests.web.conftest import Made, Tokens, make_runs, ui_settings

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError as error:  # the `browser` fixture says so: a skip here, a failure in CI
    not_installed: ImportError | None = error
else:
    not_installed = None

DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEWPORT = {"width": 1280, "height": 800}
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    executable = os.environ.get("ARGOSY_CHROMIUM") or shutil.which("chromium")
    try:
        if not_installed is not None:
            raise not_installed
        if executable is None:
            raise FileNotFoundError("no chromium on PATH (Debian: apt-get install chromium)")
        driver = sync_playwright().start()
    except (ImportError, OSError) as error:
        _unavailable(error)
    try:
        chromium = driver.chromium.launch(executable_path=executable)
    except Exception as error:  # Playwright's own error type: the browser did not start
        driver.stop()
        _unavailable(error)
    yield chromium
    chromium.close()
    driver.stop()


def _unavailable(error: BaseException) -> None:
    reason = f"cannot start headless Chromium with Playwright: {error}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def served(runs: Recorded, tokens: Tokens) -> Iterator[ServiceThread]:
    """The service over the recorded runs, tokens required."""
    service = ServiceThread(create_app(ui_settings(runs.home)))
    service.start()
    yield service
    service.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


def _screenshot(page: Any, name: str, at: str | None = None) -> None:
    """Write ``docs/web-NAME.png`` (the viewport, scrolled to the element ``at``) when asked."""
    if os.environ.get("ARGOSY_SCREENSHOTS"):
        DOCS.mkdir(exist_ok=True)
        if at is not None:
            page.locator(at).evaluate("element => element.scrollIntoView()")
        page.screenshot(path=str(DOCS / f"web-{name}.png"))


def _log_in(page: Any, served: ServiceThread, tokens: Tokens, path: str) -> None:
    page.goto(served.url + path)
    page.get_by_label("Token").fill(tokens.read)
    page.get_by_label("Token").press("Enter")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_from_the_runs_list_to_a_task_log(
    page: Any, served: ServiceThread, runs: Recorded, tokens: Tokens
) -> None:
    _log_in(page, served, tokens, "/ui/runs")
    assert page.locator("table.runs tbody tr").count() == 6
    _screenshot(page, "runs")
    page.get_by_role("link", name=runs.failed, exact=True).click()
    page.wait_for_url(f"**{urls.run_url('', runs.failed)}")
    nodes = page.locator("svg [data-node]")
    assert nodes.count() == 4
    assert page.locator("svg rect.node.failed").count() == 1
    shout = page.locator('svg [data-node="shout"]')
    shout.focus()  # the graph's steps are links, reachable from the keyboard
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?step=shout#tasks$"))
    assert page.locator("table.tasks tbody tr").count() == 4
    page.get_by_role("link", name="shout[2]", exact=True).click()
    log = page.locator("pre.log")
    expect(log).to_have_attribute("aria-label", "Log of attempt 1")
    expect(log).to_contain_text("shouting new")
    expect(log).to_contain_text("stderr of new")
    expect(page.locator("pre.error")).to_contain_text("refusing to shout 'new'")
    page.get_by_role("link", name="0", exact=True).click()
    expect(log).to_have_attribute("aria-label", "Log of attempt 0")
    expect(log).to_contain_text("shouting new")


def test_an_artifact_lineage_drawn_both_ways(
    page: Any, served: ServiceThread, runs: Recorded, tokens: Tokens
) -> None:
    _log_in(page, served, tokens, urls.run_url("", runs.ok))
    _screenshot(page, "run")
    sentence = page.locator("table.steps tr", has_text="sentence")
    sentence.locator("a.digest").click()
    page.wait_for_url("**/ui/artifacts/**")
    assert "HELLO BRAVE NEW WORLD" in page.locator("pre.value").inner_text()
    assert page.locator("svg [data-node]").count() >= 10
    assert page.locator("svg rect.node.artifact.root").count() == 1
    _screenshot(page, "lineage", at="#lineage")
    page.locator("table.lineage").get_by_role("link", name="shout[1]").first.click()
    page.wait_for_url("**/tasks/shout/1")
    page.locator("table.inputs a.digest").click()  # the words it mapped over
    page.get_by_label("downstream: what it fed").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"direction=downstream"))
    drawn = page.locator("svg [data-node]").evaluate_all("nodes => nodes.map(n => n.dataset.node)")
    assert len([node for node in drawn if ".shout." in node]) >= 4


def test_ticking_two_runs_shows_their_diff(
    page: Any, served: ServiceThread, runs: Recorded, tokens: Tokens
) -> None:
    _log_in(page, served, tokens, "/ui/runs")
    page.get_by_label(f"compare run {runs.ok}").check()
    page.get_by_label(f"compare run {runs.failed}").check()
    page.get_by_role("button", name="Compare the two ticked runs").click()
    page.wait_for_url(f"**{urls.diff_url('', runs.ok, runs.failed)}")
    changed = page.locator("table.parameters tr.changed th").all_inner_texts()
    assert [text.split()[0] for text in changed] == ["fail_on"]
    assert page.locator("table.metrics").get_by_text("sentence[0].words").count() == 1
    _screenshot(page, "diff")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Made, ServiceThread]]:
    made = make_runs(tmp_path_factory.mktemp("live"))
    app = create_app(ui_settings(made.home, anonymous_reads=True), repository=made.repository)
    service = ServiceThread(app)
    service.start()
    yield made, service
    service.stop()
    made.repository.close()


def test_a_live_run_and_its_log_follow_without_reloading(
    page: Any, live: tuple[Made, ServiceThread]
) -> None:
    made, service = live
    made.repository.heartbeat(made.live)
    page.goto(service.url + urls.task_url("", made.live, "shout", 0))
    log = page.locator("pre.log")
    key = log_key(made.live, "shout", 0, 0)
    made.store.put_record(key, b"first line\n")
    expect(log).to_contain_text("first line")
    made.store.put_record(key, b"first line\nsecond line\n")
    made.repository.record_tasks(
        [
            TaskRecord(
                run_id=made.live,
                step="shout",
                status=TaskStatus.SUCCEEDED,
                output=save(made.store, "HELLO"),
                log_key=key,
            )
        ]
    )
    expect(log).to_have_attribute("data-ended", "succeeded")
    expect(log).to_have_text("first line\nsecond line\n")
    page.goto(service.url + urls.run_url("", made.live))
    expect(page.locator("#run-facts .status")).to_have_text("running")
    made.repository.update_run(made.live, RunUpdate(status=RunStatus.SUCCEEDED))
    expect(page.locator("#run-facts .status")).to_have_text("succeeded")
    expect(page.locator("main")).to_have_attribute("data-settled", "true")
