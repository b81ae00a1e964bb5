"""The web UI's pages over HTTP (in-process): what each page shows of real recorded runs,
its status codes, 404s that name what is missing, and escaping of user text."""

from __future__ import annotations

import re

import numpy as np
from fastapi.testclient import TestClient

from argosy.metadata.schemas import RunStatus, RunUpdate, TaskRecord, TaskStatus
from argosy.store import save
from argosy.store.addresses import log_key
from argosy.web import urls
from argosy.web.graph import TIMES
from tests.pipelines.recorded import Recorded
from tests.web.conftest import WIDE, Made


def _artifact_links(html: str) -> list[str]:
    return re.findall(r'href="(/ui/artifacts/[0-9a-f]{64})"', html)


def test_the_urls_the_cli_prints_are_stable() -> None:
    base = "http://argosy.example:8000/"
    assert urls.run_url(base, "20261203-ab.c") == "http://argosy.example:8000/ui/runs/20261203-ab.c"
    assert urls.task_url("", "r1", "fit", 3) == "/ui/runs/r1/tasks/fit/3"
    assert urls.task_id_url("", "r.1.fit.12") == "/ui/runs/r.1/tasks/fit/12"
    assert urls.artifact_url("", "ab" * 32) == f"/ui/artifacts/{'ab' * 32}"
    assert urls.diff_url("", "a/b", "c") == "/ui/diff/a%2Fb/c"
    assert urls.runs_url("", pipeline="p q", status=None, tag="") == "/ui/runs?pipeline=p+q"
    assert urls.argo_workflow_url("https://argo/", "ns", "wf-1") == "https://argo/workflows/ns/wf-1"


def test_the_runs_list_filters(reader: TestClient, runs: Recorded) -> None:
    every = reader.get("/ui/runs").text
    for run_id in (runs.ok, runs.failed, runs.resumed, runs.cached, runs.sweep):
        assert f'href="/ui/runs/{run_id}"' in every
    assert "6 runs" in every
    failed = reader.get("/ui/runs", params={"status": "failed"}).text
    assert set(re.findall(r'class="run-id">([^<]+)<', failed)) == {runs.failed, runs.resumed}
    sweep = reader.get("/ui/runs", params={"pipeline": "kmeans_sweep", "age": "1h"}).text
    assert re.findall(r'class="run-id">([^<]+)<', sweep) == [runs.sweep]
    assert reader.get("/ui/runs", params={"age": "30d", "tag": "none"}).status_code == 200


def test_a_bad_runs_filter_is_a_page_that_says_what_to_give(reader: TestClient) -> None:
    answer = reader.get("/ui/runs", params={"status": "finished"})
    assert answer.status_code == 400 and "text/html" in answer.headers["content-type"]
    assert "no run status &#39;finished&#39;" in answer.text and "succeeded" in answer.text
    assert reader.get("/ui/runs", params={"age": "2y"}).status_code == 400


def test_ticking_two_runs_opens_their_diff(reader: TestClient, runs: Recorded) -> None:
    answer = reader.get(
        "/ui/diff", params=[("run", runs.ok), ("run", runs.failed)], follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == urls.diff_url("", runs.ok, runs.failed)
    assert reader.get("/ui/diff", params={"run": runs.ok}).status_code == 400


def test_a_run_page_draws_its_steps(reader: TestClient, runs: Recorded) -> None:
    html = reader.get(urls.run_url("", runs.ok)).text
    assert re.findall(r'data-node="([^"]+)"', html) == ["words", "shout", "lengths", "sentence"]
    assert re.search(r'<rect class="node succeeded"[^>]*>', html)
    assert f"{TIMES}4" in html  # the map's width
    assert len(re.findall(r'<path class="edge"', html)) == 3
    assert "&#34;hello brave new world&#34;" in html  # a parameter, as JSON
    for index in range(4):
        assert f'href="/ui/runs/{runs.ok}/tasks/shout/{index}"' in html
    assert "data-refresh" not in html  # a finished run does not refresh itself


def test_a_failed_run_shows_its_failure_and_a_resume_its_clones(
    reader: TestClient, runs: Recorded
) -> None:
    failed = reader.get(urls.run_url("", runs.failed)).text
    assert re.search(r'<rect class="node failed"[^>]*>', failed)
    assert "1 retried" in failed
    resumed = reader.get(urls.run_url("", runs.resumed)).text
    assert "cloned" in resumed and f'href="/ui/runs/{runs.failed}"' in resumed
    assert "cloned from" in resumed
    cached = reader.get(urls.run_url("", runs.cached)).text
    assert f"{TIMES}2 · " in cached and "2 cached" in cached and "cache hit" in cached


def test_a_run_page_filters_its_tasks(reader: TestClient, runs: Recorded) -> None:
    html = reader.get(urls.run_url("", runs.failed), params={"step": "shout", "status": "failed"})
    rows = re.findall(r'<th scope="row"><a href="/ui/runs/[^/]+/tasks/([^"]+)">', html.text)
    assert rows == ["shout/2"]
    assert "1 task" in html.text


def test_a_run_page_names_what_is_missing(reader: TestClient, runs: Recorded) -> None:
    missing = reader.get("/ui/runs/no-such-run")
    assert missing.status_code == 404 and "no run no-such-run" in missing.text
    step = reader.get(urls.run_url("", runs.ok), params={"step": "nope"})
    assert step.status_code == 404
    assert "has no step &#39;nope&#39;; its steps are words, shout, lengths, sentence" in step.text
    assert reader.get(urls.run_url("", runs.ok), params={"status": "done"}).status_code == 400
    assert reader.get(urls.run_url("", runs.ok), params={"page": 0}).status_code == 422


def test_a_task_page_shows_attempts_error_and_log(reader: TestClient, runs: Recorded) -> None:
    url = urls.task_url("", runs.failed, "shout", 2)
    html = reader.get(url).text
    assert len(re.findall(r'<tr[^>]*>\s*<th scope="row"><a href="\?attempt=', html)) == 2
    assert "refusing to shout &#39;new&#39;" in html
    assert "shouting new" in html and "stderr of new" in html
    first = reader.get(url, params={"attempt": 0}).text
    assert "Log of attempt 0" in first and "shouting new" in first
    whole = reader.get(f"{url}/log", params={"attempt": 1})
    assert whole.headers["content-type"].startswith("text/plain")
    assert "shouting new" in whole.text
    missing = reader.get(url, params={"attempt": 7})
    assert missing.status_code == 404 and "has no attempt 7; it has 0, 1" in missing.text


def test_a_cloned_task_shows_where_it_came_from(reader: TestClient, runs: Recorded) -> None:
    html = reader.get(urls.task_url("", runs.resumed, "shout", 0)).text
    assert f'href="/ui/runs/{runs.failed}/tasks/shout/0"' in html
    assert "shouting hello" in html  # the log of the task it was cloned from
    cached = reader.get(urls.task_url("", runs.cached, "shout", 0)).text
    assert "hit: the output was taken from an earlier task" in cached


def test_a_task_page_names_a_missing_task(reader: TestClient, runs: Recorded) -> None:
    answer = reader.get(urls.task_url("", runs.ok, "shout", 9))
    assert answer.status_code == 404 and f"no task shout[9] in run {runs.ok}" in answer.text
    assert reader.get(f"/ui/runs/{runs.ok}/tasks/shout/-1").status_code == 422


def test_an_artifact_page_previews_and_draws_lineage(reader: TestClient, runs: Recorded) -> None:
    run_page = reader.get(urls.run_url("", runs.ok)).text
    digests = _artifact_links(run_page)
    pages = {url: reader.get(url).text for url in dict.fromkeys(digests)}
    url, sentence = next((u, html) for u, html in pages.items() if "HELLO BRAVE NEW WORLD" in html)
    drawn = re.findall(r'data-node="([^"]+)"', sentence)
    assert len(drawn) >= 10  # itself, sentence[0], 4 shout outputs and their tasks (of any run)
    assert ">sentence[0]</a>" in sentence and ">shout[3]</a>" in sentence
    assert ">words[0]</a>" not in sentence  # three tasks away
    assert ">words[0]</a>" in reader.get(url, params={"depth": 3}).text
    lengths = next(html for html in pages.values() if "int64 array (4,)" in html)
    assert re.findall(r"<td>(\d+)</td>", lengths)[:4] == ["5", "5", "3", "5"]  # the head


def test_lineage_downstream_and_by_prefix(reader: TestClient, runs: Recorded) -> None:
    words = _artifact_links(reader.get(urls.task_url("", runs.ok, "words", 0)).text)[0]
    down = reader.get(words, params={"direction": "downstream", "depth": 1}).text
    assert all(f">shout[{i}]</a>" in down for i in range(4))
    digest = words.rsplit("/", 1)[1]
    short = reader.get(f"/ui/artifacts/{digest[:12]}", follow_redirects=False)
    assert short.status_code == 303 and short.headers["location"].startswith(words)
    missing = reader.get(f"/ui/artifacts/{'0' * 64}")
    assert missing.status_code == 404 and "0" * 64 in missing.text
    assert reader.get(words, params={"depth": 99}).status_code == 422


def test_the_diff_of_two_runs(reader: TestClient, runs: Recorded) -> None:
    html = reader.get(urls.diff_url("", runs.ok, runs.failed)).text
    changed = re.findall(r'<tr class="changed"><th scope="row">([^<]+)', html)
    assert changed == ["fail_on "]  # text is the same, fail_on differs
    assert "sentence[0].words" in html  # the failed run has no such metric
    assert '<th scope="row">shout[2]</th>' in html  # the failed task has no output
    assert reader.get(urls.diff_url("", runs.ok, "nope")).status_code == 404


def test_user_text_is_escaped_everywhere(made_http: TestClient, made: Made) -> None:
    pages = [
        made_http.get("/ui/runs").text,
        made_http.get(urls.run_url("", made.hostile)).text,
        made_http.get(urls.task_url("", made.hostile, "words", 0)).text,
        made_http.get(urls.diff_url("", made.hostile, made.wide)).text,
    ]
    for html in pages:
        assert "<script>alert" not in html
    assert all("&lt;script&gt;alert" in html for html in pages)
    answer = made_http.get(urls.run_url("", made.hostile))
    assert "script-src 'self'" in answer.headers["content-security-policy"]


def test_a_wide_run_is_paged(made_http: TestClient, made: Made) -> None:
    url = urls.run_url("", made.wide)
    first = made_http.get(url).text
    assert f"{WIDE} tasks · page 1 of 3" in first and f"{TIMES}120" in first
    last = made_http.get(url, params={"page": 3}).text
    rows = re.findall(r"tasks/shout/(\d+)\"", last)
    assert rows == [str(i) for i in range(100, WIDE)]
    assert made_http.get(url, params={"page": 4}).status_code == 200  # past the end: empty


def test_a_live_run_refreshes_and_its_log_follows(made_http: TestClient, made: Made) -> None:
    run_page = made_http.get(urls.run_url("", made.live)).text
    assert 'data-refresh="2000"' in run_page
    task = urls.task_url("", made.live, "shout", 0)
    html = made_http.get(task).text
    assert f'data-log-url="{task}/log.json?attempt=0"' in html
    tail = made_http.get(f"{task}/log.json", params={"attempt": 0, "offset": 0}).json()
    assert tail == {"text": "", "offset": 0, "restart": False, "running": True, "status": "running"}
    made.store.put_record(log_key(made.live, "shout", 0, 0), b"line one\n")
    tail = made_http.get(f"{task}/log.json", params={"attempt": 0, "offset": 0}).json()
    assert tail["text"] == "line one\n" and tail["offset"] == 9
    made.store.put_record(log_key(made.live, "shout", 0, 0), b"line one\nline two\n")
    made.repository.record_tasks(
        [
            TaskRecord(
                run_id=made.live,
                step="shout",
                index=0,
                status=TaskStatus.SUCCEEDED,
                output=save(made.store, "HELLO"),
                log_key=log_key(made.live, "shout", 0, 0),
            )
        ]
    )
    tail = made_http.get(f"{task}/log.json", params={"attempt": 0, "offset": 9}).json()
    assert tail["text"] == "line two\n" and not tail["running"]
    made.repository.update_run(made.live, RunUpdate(status=RunStatus.SUCCEEDED))
    assert "data-refresh" not in made_http.get(urls.run_url("", made.live)).text


def test_arrays_and_tables_preview_their_head(made_http: TestClient, made: Made) -> None:
    table = np.zeros(3, dtype=[("name", "U8"), ("score", "f8")])
    table["name"], table["score"] = ["a", "<b>", "c"], [0.5, 1.5, 2.5]
    matrix = np.arange(12).reshape(3, 4)
    for value in (table, matrix):
        made.repository.put_artifacts([save(made.store, value)])
    html = made_http.get(urls.artifact_url("", save(made.store, table).digest)).text
    assert "The first 3 rows" in html and '<th scope="col">score</th>' in html
    assert "<td>&lt;b&gt;</td><td>1.5</td>" in html
    html = made_http.get(urls.artifact_url("", save(made.store, matrix).digest)).text
    assert "int64 array (3, 4)" in html and "<td>11</td>" in html
