"""PipelineDefinition.run(): a local run from Python returns the recorded run, or says why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.config import Settings
from argosy.errors import TaskFailed
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
