"""@pipeline: IR building, branches and joins, parameters and their errors."""

from __future__ import annotations

import pytest

from argosy import ir, pipeline, step
from argosy.errors import PipelineError
from tests.dsl.sample_pipelines import diamond, squares


def test_fan_out_and_fan_in_build_the_expected_ir() -> None:
    p = squares.ir
    assert [s.name for s in p.steps] == ["make_items", "square", "total"]
    assert p.step("square").mapped == "x"
    assert p.step("square").inputs == {
        "x": ir.OutputInput(step="make_items"),
        "offset": ir.ParameterInput(name="offset"),
    }
    assert p.step("total").inputs == {"values": ir.FanInInput(step="square")}
    assert p.output == "total"
    assert p.max_parallel == 4
    assert p.description == "Sum of squares over a dynamic fan-out."


def test_reused_steps_get_unique_names_and_branches_are_independent() -> None:
    p = diamond.ir
    assert [s.name for s in p.steps] == ["add", "add_2", "add_3"]
    assert p.step("add").upstream == []
    assert p.step("add_2").upstream == []
    assert p.step("add_3").upstream == ["add", "add_2"]
    assert diamond.function("add_3")(1, 2) == 3


def test_parameters_carry_types_defaults_and_json_schema() -> None:
    n, offset = squares.ir.parameters
    assert n == ir.Parameter(name="n", json_schema={"type": "integer"}, default=3, required=False)
    assert offset.name == "offset"


def test_resolve_parameters_fills_defaults_and_checks_types() -> None:
    assert squares.resolve_parameters({}) == {"n": 3, "offset": 0}
    assert squares.resolve_parameters({"n": "5"}) == {"n": 5, "offset": 0}
    with pytest.raises(
        PipelineError, match=r"unknown parameter\(s\) m; the parameters are: n, offset"
    ):
        squares.resolve_parameters({"m": 1})
    with pytest.raises(PipelineError) as caught:
        squares.resolve_parameters({"n": "many"})
    assert caught.value.argument == "n"


def test_parse_params_reads_json_and_falls_back_to_strings() -> None:
    @step
    def echo(text: str, ks: list[int]) -> str:
        return text

    @pipeline
    def p(text: str, ks: list[int] = [1]):
        return echo(text, ks)

    assert p.parse_params(["text=hello world", "ks=[2, 4]"]) == {
        "text": "hello world",
        "ks": [2, 4],
    }
    with pytest.raises(PipelineError, match="is required"):
        p.parse_params([])
    with pytest.raises(PipelineError, match="not NAME=VALUE"):
        p.parse_params(["text"])


def test_parse_params_reads_each_value_as_its_parameter_type() -> None:
    @step
    def describe(creature: str, legs: int, label: int | str, flags: dict[str, bool]) -> str:
        return creature

    @pipeline
    def p(creature: str, legs: int = 4, label: int | str = 0, flags: dict[str, bool] = {}):
        return describe(creature, legs, label, flags)

    assert p.parse_params(["creature=123", "legs=8", "label=7", 'flags={"wings": true}']) == {
        "creature": "123",
        "legs": 8,
        "label": 7,
        "flags": {"wings": True},
    }
    assert p.parse_params(["creature=true", "label=x"])["creature"] == "true"
    assert p.parse_params(['creature="quoted"'])["creature"] == "quoted"
    with pytest.raises(PipelineError, match="'many' is not valid") as caught:
        p.parse_params(["creature=cat", "legs=many"])
    assert (caught.value.pipeline, caught.value.argument) == ("p", "legs")


def test_an_unresolvable_parameter_annotation_is_named() -> None:
    with pytest.raises(PipelineError, match=r"annotation 'Mode' cannot be resolved") as caught:

        @pipeline
        def p(mode: Mode):  # type: ignore[name-defined]  # noqa: F821
            return None

    assert (caught.value.pipeline, caught.value.argument) == ("p", "mode")


def test_non_serializable_default_is_a_definition_error() -> None:
    with pytest.raises(PipelineError, match="not a JSON value") as caught:

        @pipeline
        def p(when: object = object()):
            return None

    assert caught.value.argument == "when"


def test_returning_a_plain_value_is_an_error() -> None:
    @pipeline
    def p():
        return 3

    with pytest.raises(PipelineError, match="returns the output of a step"):
        p.ir


def test_calling_a_pipeline_directly_points_to_run() -> None:
    with pytest.raises(PipelineError, match=r"\.run\(\*\*params\)"):
        squares()


def test_digest_is_stable_and_changes_with_the_definition() -> None:
    assert squares.ir.digest() == squares.ir.digest()
    assert squares.ir.digest() != diamond.ir.digest()


def test_a_pipeline_names_its_project() -> None:
    @step
    def one() -> int:
        return 1

    @pipeline(project="fraud")
    def scored():
        one()

    assert scored.ir.project == "fraud"
    assert squares.ir.project is None

    @pipeline(project="fraud-models")
    def misnamed():
        one()

    with pytest.raises(PipelineError, match="project 'fraud-models' is not a project name"):
        misnamed.ir
