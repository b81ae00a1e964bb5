"""PipelineDefinition.run(): a local run from Python returns the recorded run, or says why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy import Client
from argosy.config import Settings
from argosy.errors import TagError, TaskFailed
from tests.dsl.sample_pipelines import failing, squares


def test_run_returns_the_recorded_run_with_loadable_outputs(tmp_path: Path) -> None:
    run = squares.run(settings=Settings(home=tmp_path), n=4, offset=1)
    assert run.status == "succeeded"
    assert run.parameters == {"n": 4, "offset": 1}
    assert [artifact.load() for artifact in run.output("square")] == [1, 2, 5, 10]
    assert run.output("total").load() == 18


def test_a_failed_run_raises_with_the_resume_command(tmp_path: Path) -> None:
    with pytest.raises(TaskFailed, match=r"failed in step 'fail_when'.*asked to fail") as caught:
        failing.run(settings=Settings(home=tmp_path))
    assert caught.value.step == "fail_when"
    assert f"argosy resume {caught.value.run_id}" in str(caught.value)


def test_compile_defaults_to_the_components_image() -> None:
    from argosy.images import default_image

    def images(workflow: object) -> set[str]:
        return {t.image for t in workflow.templates if getattr(t, "image", None)}  # type: ignore[attr-defined]

    assert images(squares.compile()) == {default_image()}
    assert images(squares.compile(image="example/img:1")) == {"example/img:1"}


def test_a_run_belongs_to_the_current_user_or_production_with_its_tags(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, user="alice")
    mine = squares.run(settings=settings, project="fraud", tags=["nightly", "nightly"], n=2)
    assert (mine.project, mine.owner, mine.tags) == ("fraud", "user:alice", ("nightly",))
    released = squares.run(settings=settings, production=True, tags=["release"], n=2)
    assert (released.project, released.owner, released.tags) == (None, "production", ("release",))
    assert [run.id for run in Client(settings).runs()] == [mine.id]
    with pytest.raises(TagError, match=r"tag 'two\\nlines'"):
        squares.run(settings=settings, tags=["two\nlines"], n=2)
    with pytest.raises(TagError, match="project 'Fraud'"):
        squares.run(settings=settings, project="Fraud", n=2)
    assert len(Client(settings, owner=None).runs()) == 2  # nothing ran for the refused ones


def test_compile_takes_the_project_tags_and_production() -> None:
    workflow = squares.compile(image="example/img:1", project="fraud", tags=["v2"], production=True)
    assert workflow.labels["argosy.io/project"] == "fraud"  # type: ignore[attr-defined]
    assert workflow.labels["argosy.io/owner"] == "production"  # type: ignore[attr-defined]
    assert workflow.labels["tags.argosy.io/v2"] == "true"  # type: ignore[attr-defined]
