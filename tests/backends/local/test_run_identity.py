"""Two runs never share a record: a run id drawn twice is refused, and the runner draws anew."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from argosy.backends.local import run_pipeline, runner
from argosy.config import Settings
from argosy.metadata import open_reader
from tests.backends.local import flows
from tests.backends.local.conftest import output

TAKEN = "fan-20261203-000000-aaaaaaaaaa"


def test_a_run_that_draws_a_taken_id_draws_again_and_merges_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "new_run_id", lambda _: TAKEN)
    first = run_pipeline(flows.fan, {"n": 3}, settings, progress=False)
    drawn: Iterator[str] = iter([TAKEN, "fan-20261203-000000-bbbbbbbbbb"])
    monkeypatch.setattr(runner, "new_run_id", lambda _: next(drawn))
    second = run_pipeline(flows.fan, {"n": 3}, settings, progress=False)  # the same content

    assert (first.run_id, second.run_id) == (TAKEN, "fan-20261203-000000-bbbbbbbbbb")
    reader = open_reader(settings)
    for run in (first, second):
        assert [t.attempts for t in reader.list_tasks(run.run_id) if t.step == "square"] == [1] * 3
        assert output(settings, run, "collect") == [0, 1, 4]
