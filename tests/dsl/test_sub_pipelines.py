"""Sub-pipelines in the DSL: a @pipeline called inside another joins its steps to the
caller's under the call's name, returns what it returns, carries its retries as an `ir.Group`,
and misuse is an error that names what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy import ir, pipeline, step
from argosy.dsl import load_pipeline
from argosy.errors import PipelineError


@step
def inc(x: int) -> int:
    return x + 1


@step
def notify(x: int) -> int:
    return x


@pipeline(retries=2, backoff="5s")
def twice(x: int, extra: int = 0):
    return inc.named("second")(inc(x))


@pipeline
def outer(x: int = 1):
    first = twice(x)
    return twice(first, extra=3)


def test_a_call_joins_its_steps_under_its_name_and_returns_its_result() -> None:
    built = outer.ir
    names = [s.name for s in built.steps]
    assert names == ["twice__inc", "twice__second", "twice_2__inc", "twice_2__second"]
    assert built.output == "twice_2__second"
    assert built.step("twice_2__inc").inputs["x"] == ir.OutputInput(step="twice__second")
    assert [s.group for s in built.steps] == ["twice", "twice", "twice_2", "twice_2"]
    retry = ir.Retry(limit=2, backoff_seconds=5.0)
    assert built.groups == [
        ir.Group(name="twice", pipeline="twice", retry=retry),
        ir.Group(name="twice_2", pipeline="twice", retry=retry),
    ]


def test_a_pipeline_without_calls_keeps_its_digest_fields() -> None:
    @pipeline
    def plain(x: int = 1):
        return inc(x)

    dumped = plain.ir.model_dump()
    assert "groups" not in dumped
    assert all("group" not in s for s in dumped["steps"])


def test_a_call_inside_a_call_runs_as_part_of_the_outer_one() -> None:
    @pipeline
    def wrapper(x: int):
        return twice(x)

    @pipeline
    def top(x: int = 1):
        return wrapper(x)

    built = top.ir
    assert [s.name for s in built.steps] == ["wrapper__twice__inc", "wrapper__twice__second"]
    assert {s.group for s in built.steps} == {"wrapper"}
    assert [g.name for g in built.groups] == ["wrapper"]


def test_calling_a_pipeline_outside_a_pipeline_says_how_to_run_it() -> None:
    with pytest.raises(PipelineError, match=r"pipeline 'twice': a pipeline is not called"):
        twice(1)


def test_a_call_with_bad_arguments_names_the_sub_pipeline() -> None:
    @pipeline
    def bad(x: int = 1):
        return twice(x, 2, 3)

    with pytest.raises(PipelineError, match=r"pipeline 'bad', step 'twice'.*bad arguments"):
        _ = bad.ir


def test_an_exit_handler_inside_a_sub_pipeline_is_refused() -> None:
    @pipeline
    def with_exit(x: int):
        notify(x).on_exit()

    @pipeline
    def calls_it(x: int = 1):
        with_exit(x)

    with pytest.raises(PipelineError, match=r"exit handler inside a sub-pipeline"):
        _ = calls_it.ir


def test_arithmetic_on_a_value_of_the_definition_is_refused() -> None:
    @pipeline
    def sums(x: int = 1):
        return inc(x + 1)

    with pytest.raises(PipelineError, match=r"parameter 'x' has no value.*computed with"):
        _ = sums.ir


def test_a_file_with_a_pipeline_and_its_sub_pipeline_loads_the_caller(tmp_path: Path) -> None:
    source = tmp_path / "two_pipelines.py"
    source.write_text(
        "from argosy import pipeline, step\n\n"
        "@step\ndef inc(x: int) -> int:\n    return x + 1\n\n"
        "@pipeline\ndef part(x: int):\n    return inc(x)\n\n"
        "@pipeline\ndef whole(x: int = 1):\n    return part(x)\n"
    )
    assert load_pipeline(str(source)).name == "whole"
