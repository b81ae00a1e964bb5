"""Reuse of earlier work: resume clones finished tasks by reference; the cache hits are recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.backends.local import resume_run, run_pipeline
from argosy.config import Settings
from argosy.errors import NotFound
from argosy.metadata import open_reader
from argosy.metadata.schemas import RunStatus, RunTagsChange, TaskStatus
from argosy.ownership import Ownership
from argosy.runtime import read_output
from argosy.store import open_store
from tests.backends.local import flows
from tests.backends.local.conftest import output, runs_of, tasks


def test_resume_clones_finished_tasks_and_reruns_the_failed_one_and_its_downstream(
    settings: Settings, marks: Path
) -> None:
    failed = run_pipeline(flows.resumable, {"marks": str(marks)}, settings, progress=False)
    assert failed.status is RunStatus.FAILED
    assert failed.steps["compute"].failed == 1
    assert failed.steps["combine"].state == "skipped"
    assert tasks(settings, failed.run_id)["combine", 0].status is TaskStatus.SKIPPED
    (marks / "fixed").touch()

    resumed = resume_run(failed.run_id, settings, progress=False)

    assert resumed.status is RunStatus.SUCCEEDED
    assert resumed.resumed_from == failed.run_id
    assert output(settings, resumed, "combine") == 60
    # prepare and compute x=1, x=3 ran once (in the origin); x=2 and combine ran again
    assert [runs_of(marks, n) for n in ("prepare", "compute1", "compute3")] == [1, 1, 1]
    assert [runs_of(marks, n) for n in ("compute2", "combine")] == [2, 1]
    recorded = tasks(settings, resumed.run_id)
    assert recorded["prepare", 0].cloned_from == f"{failed.run_id}.prepare.0"
    assert recorded["compute", 1].cloned_from is None  # x=2 ran again
    assert [resumed.steps[s].cloned for s in ("prepare", "compute", "combine")] == [1, 2, 0]
    store = open_store(settings)
    for index in (0, 2):  # a clone points at the origin's artifact: no bytes copied
        origin = read_output(store, failed.run_id, "compute", index).artifact
        assert read_output(store, resumed.run_id, "compute", index).artifact == origin
    run = open_reader(settings).get_run(resumed.run_id)
    assert (run.resumed_from, run.parameters) == (failed.run_id, {"marks": str(marks)})


def test_a_resumed_run_keeps_the_project_owner_and_tags_of_the_one_it_resumes(
    settings: Settings, marks: Path
) -> None:
    owned = Ownership("fraud", "production", ("nightly",))
    failed = run_pipeline(
        flows.resumable, {"marks": str(marks)}, settings, progress=False, ownership=owned
    )
    reader = open_reader(settings)
    reader.update_tags(failed.run_id, RunTagsChange(add=["investigated"]))
    (marks / "fixed").touch()

    resumed = resume_run(failed.run_id, settings.model_copy(update={"user": "bob"}), progress=False)

    run = reader.get_run(resumed.run_id)
    assert (run.project, run.owner, run.tags) == (
        "fraud",
        "production",
        ["investigated", "nightly"],
    )


def test_resuming_an_unknown_run_says_so(settings: Settings) -> None:
    with pytest.raises(NotFound):
        resume_run("nope-20260101-000000-0000", settings, progress=False)


def test_a_cached_step_hits_on_the_second_run_and_the_hit_is_recorded(
    settings: Settings, marks: Path
) -> None:
    params = {"marks": str(marks), "x": 4}
    first = run_pipeline(flows.cached, params, settings, progress=False)
    second = run_pipeline(flows.cached, params, settings, progress=False)

    assert output(settings, second, "plain") == output(settings, first, "plain") == 10
    assert runs_of(marks, "costly") == 1  # declared cache=True: reused
    assert runs_of(marks, "plain") == 2  # not cached without --cache
    first_task = tasks(settings, first.run_id)["costly", 0]
    second_task = tasks(settings, second.run_id)["costly", 0]
    assert not first_task.cache_hit
    assert second_task.cache_hit
    assert second_task.cache_key == first_task.cache_key
    assert second_task.output == first_task.output


def test_run_level_caching_covers_every_step_and_a_new_parameter_misses(
    settings: Settings, marks: Path
) -> None:
    params = {"marks": str(marks), "x": 4}
    run_pipeline(flows.cached, params, settings, cache=True, progress=False)
    again = run_pipeline(flows.cached, params, settings, cache=True, progress=False)
    other = run_pipeline(flows.cached, params | {"x": 5}, settings, cache=True, progress=False)

    assert again.steps["plain"].cache_hits == 1
    assert runs_of(marks, "plain") == 2  # the first run, and x=5
    assert other.steps["costly"].cache_hits == 0
    assert output(settings, other, "plain") == 12


def test_resuming_a_succeeded_run_clones_every_task_and_computes_nothing(
    settings: Settings, marks: Path
) -> None:
    (marks / "fixed").parent.mkdir(parents=True)
    (marks / "fixed").touch()
    done = run_pipeline(flows.resumable, {"marks": str(marks)}, settings, progress=False)

    again = resume_run(done.run_id, settings, progress=False)

    assert again.succeeded
    assert {name: step.cloned for name, step in again.steps.items()} == {
        "prepare": 1,
        "compute": 3,
        "combine": 1,
    }
    assert runs_of(marks, "combine") == 1
    assert again.steps["combine"].outputs == done.steps["combine"].outputs
