"""@step: plain functions outside pipelines, recorded steps and clear errors inside."""

from __future__ import annotations

import pytest

from argosy import Resources, pipeline, step
from argosy.dsl.step import parse_duration
from argosy.errors import PipelineError
from tests.dsl.sample_pipelines import add, square, squares


def test_a_step_outside_a_pipeline_is_the_plain_function() -> None:
    assert square(3, offset=1) == 10
    assert add(2, 3) == 5


def test_step_options_reach_the_ir() -> None:
    fit = squares.ir.step("square")
    assert fit.resources == Resources(cpu=2, memory="1Gi")
    assert fit.retry.limit == 2
    assert fit.retry.backoff_seconds == 2.0
    assert fit.timeout_seconds == 90.0
    assert fit.cache is True
    assert fit.function == "tests.dsl.sample_pipelines:square"


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("10m", 600), ("1h30m", 5400), (12, 12.0), ("250ms", 0.25)]
)
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10 minutes", "m10", "", "5x"])
def test_parse_duration_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_map_outside_a_pipeline_says_what_to_do() -> None:
    with pytest.raises(PipelineError, match=r"only inside a @pipeline.*in a loop"):
        square.map(x=[1, 2])


def test_unknown_argument_names_pipeline_and_step() -> None:
    @pipeline
    def broken():
        return add(1, c=2)

    with pytest.raises(PipelineError) as caught:
        broken.ir
    assert caught.value.pipeline == "broken"
    assert caught.value.step == "add"
    assert caught.value.argument == "c"
    assert "its arguments are: a, b" in str(caught.value)


def test_missing_argument_is_an_error() -> None:
    @pipeline
    def broken():
        return add(1)

    with pytest.raises(PipelineError, match="missing a required argument: 'b'"):
        broken.ir


def test_mapping_a_scalar_literal_is_an_error() -> None:
    @pipeline
    def broken():
        return square.map(x=3)

    with pytest.raises(PipelineError) as caught:
        broken.ir
    assert caught.value.argument == "x"
    assert "not a list" in str(caught.value)


def test_mapping_a_scalar_parameter_is_an_error() -> None:
    @pipeline
    def broken(n: int = 3):
        return square.map(x=n)

    with pytest.raises(PipelineError, match="not a list"):
        broken.ir


def test_an_unresolvable_annotation_is_named_not_called_an_ambiguous_map() -> None:
    @step
    def scale(xs: list[int], factor: Factor) -> int:  # type: ignore[name-defined]  # noqa: F821
        return len(xs)

    @pipeline
    def broken():
        return scale.map(xs=[[1], [2]], factor=[3])

    with pytest.raises(PipelineError, match=r"annotation 'Factor' cannot be resolved") as caught:
        broken.ir
    assert (caught.value.pipeline, caught.value.step, caught.value.argument) == (
        "broken",
        "scale",
        "factor",
    )
    assert "NameError" in str(caught.value)


def test_ambiguous_map_asks_for_over() -> None:
    @step
    def pair(a: int, b: int) -> int:
        return a + b

    @pipeline
    def broken():
        return pair.map(a=[1, 2], b=[3, 4])

    with pytest.raises(PipelineError, match=r"ambiguous.*over='a'"):
        broken.ir

    @pipeline
    def fixed():
        return pair.map(a=[1, 2], b=[3, 4], over="b")

    assert fixed.ir.step("pair").mapped == "b"


def test_a_list_typed_argument_is_broadcast_not_mapped() -> None:
    @step
    def scale(xs: list[int], factor: int) -> list[int]:
        return [x * factor for x in xs]

    @pipeline
    def p(factors: list[int] = [1, 2]):
        return scale.map(xs=[1, 2, 3], factor=factors)

    assert p.ir.step("scale").mapped == "factor"


def test_non_json_constant_is_an_error() -> None:
    @pipeline
    def broken():
        return add(object(), 1)

    with pytest.raises(PipelineError, match="must be JSON values") as caught:
        broken.ir
    assert caught.value.argument == "a"


def test_handle_used_outside_its_pipeline_is_an_error() -> None:
    leaked = []

    @pipeline
    def first():
        value = add(1, 2)
        leaked.append(value)
        return value

    first.ir
    with pytest.raises(PipelineError, match="outside the pipeline"):
        add(leaked[0], 1)

    @pipeline
    def second():
        return add(leaked[0], 1)

    with pytest.raises(PipelineError, match="from pipeline 'first'"):
        second.ir


def test_handles_cannot_be_branched_on_or_iterated() -> None:
    @pipeline
    def branchy():
        value = add(1, 2)
        if value:
            return value
        return None

    with pytest.raises(PipelineError, match="tested with if"):
        branchy.ir

    @pipeline
    def loopy():
        return [add(v, 1) for v in add(1, 2)]

    with pytest.raises(PipelineError, match="iterated"):
        loopy.ir
