"""Named outputs, fields of mapped items and imports while a pipeline is defined: the IR they
give and the errors that misuse gets."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from argosy import each, importer, ir, pipeline, step
from argosy.errors import PipelineError


class Pair(NamedTuple):
    left: int
    right: list[int]


@step
def pair() -> Pair:
    return Pair(1, [2])


@step
def one() -> int:
    return 1


@step
def take(x: int) -> int:
    return x


@step
def configs() -> list[dict[str, int]]:
    return [{"a": 1}]


def _step(definition: object, name: str) -> ir.Step:
    return definition.ir.step(name)  # type: ignore[attr-defined]


def test_a_field_of_a_named_output_is_read_alone() -> None:
    @pipeline
    def fields():
        p = pair()
        take(p.left)
        take.map(x=p["right"])

    assert _step(fields, "pair").outputs == ["left", "right"]
    assert _step(fields, "take").inputs["x"] == ir.OutputInput(step="pair", field="left")
    mapped = _step(fields, "take_2")
    assert mapped.mapped == "x"
    assert mapped.inputs["x"] == ir.OutputInput(step="pair", field="right")


def test_an_unknown_output_names_the_outputs_there_are() -> None:
    @pipeline
    def unknown():
        take(pair().middle)

    with pytest.raises(PipelineError, match="has no output 'middle'; its outputs are left, right"):
        unknown.ir


def test_a_step_returning_one_value_has_no_named_outputs() -> None:
    @pipeline
    def single():
        take(one().value)

    with pytest.raises(PipelineError, match="returns one value, so it has no output 'value'"):
        single.ir


def test_a_field_of_each_item_maps_the_step() -> None:
    @pipeline
    def items(rows: list[dict[str, int]]):
        take.map(x=each(rows).a)
        take.map(x=each(configs())["a"])

    first, second = _step(items, "take"), _step(items, "take_2")
    assert first.item_fields == {"x": "a"} and first.mapped == "x"
    assert first.inputs["x"] == ir.ParameterInput(name="rows")
    assert second.inputs["x"] == ir.OutputInput(step="configs")


def test_a_field_of_each_item_needs_map() -> None:
    @pipeline
    def unmapped(rows: list[dict[str, int]]):
        take(each(rows).a)

    with pytest.raises(PipelineError, match=r"call it with \.map"):
        unmapped.ir


def test_imports_are_recorded_by_name() -> None:
    @pipeline
    def imported(location: str = "s3://bucket/data/"):
        take(importer("data/raw.csv"))
        take(importer(location, name="corpus"))
        take(importer("other/raw.csv"))

    assert imported.ir.imports == [
        ir.Import(name="raw", uri="data/raw.csv"),
        ir.Import(name="corpus", parameter="location"),
        ir.Import(name="raw_2", uri="other/raw.csv"),
    ]
    assert _step(imported, "take").inputs["x"] == ir.ImportInput(name="raw")


def test_importer_outside_a_pipeline_says_where_it_belongs() -> None:
    with pytest.raises(PipelineError, match="inside @pipeline"):
        importer("data.csv")


def test_the_ir_refuses_unknown_fields_and_imports() -> None:
    good = pair.__wrapped__  # the IR is checked on its own too
    assert good() == Pair(1, [2])
    steps = [
        ir.Step(name="pair", function="m:pair", code_digest="0", outputs=["left"]),
        ir.Step(
            name="take",
            function="m:take",
            code_digest="0",
            inputs={"x": ir.OutputInput(step="pair", field="right")},
        ),
    ]
    with pytest.raises(PipelineError, match="reads output 'right' of step 'pair'"):
        ir.Pipeline(name="p", steps=steps)
    reads_import = ir.Step(
        name="take", function="m:take", code_digest="0", inputs={"x": ir.ImportInput(name="nope")}
    )
    with pytest.raises(PipelineError, match="reads unknown import 'nope'"):
        ir.Pipeline(name="p", steps=[reads_import])


def test_pipelines_without_the_new_fields_keep_their_json() -> None:
    @pipeline
    def plain():
        take(one())

    document = plain.ir.canonical_json()
    assert "outputs" not in document and "item_fields" not in document
    assert "imports" not in document and "field" not in document


def test_a_dataclass_with_derived_fields_is_one_output() -> None:
    from dataclasses import dataclass, field

    from argosy.dsl.step import named_outputs

    @dataclass
    class Plain:
        a: int
        b: str

    @dataclass
    class Derived:
        a: int
        twice: int = field(init=False)

    assert named_outputs(Plain) == ("a", "b")
    assert named_outputs(Derived) == ()
    assert named_outputs(Pair) == ("left", "right")
    assert named_outputs(tuple) == () and named_outputs(dict) == ()


class Summary(NamedTuple):
    score: float
    description: str


@step
def summarize() -> Summary:
    return Summary(1.0, "fine")


def test_fields_of_items_are_not_crossed() -> None:
    @step
    def fit(x: int, seed: int) -> int:
        return x + seed

    @pipeline
    def crossed(rows: list[dict[str, int]], seeds: list[int]):
        fit.map(x=each(rows).a, seed=seeds, over=["seed"], product=True)

    with pytest.raises(PipelineError, match=r"fields of each item \(each\(...\)\) go together"):
        crossed.ir


def test_an_output_cannot_take_the_name_of_a_handle_attribute() -> None:
    @pipeline
    def clashing():
        take(summarize().score)

    with pytest.raises(PipelineError, match="named outputs called description, which step handles"):
        clashing.ir


def test_a_join_and_a_pipeline_result_take_whole_outputs() -> None:
    from argosy import one_of, when

    @pipeline
    def joined(flag: int = 0):
        with when(flag == 0):
            a = pair()
        with when(flag != 0):
            b = pair()
        take(one_of(a.left, b.left))

    with pytest.raises(PipelineError, match=r"one_of\(\) joins whole outputs of steps"):
        joined.ir

    @pipeline
    def returns_a_field():
        return pair().left

    with pytest.raises(PipelineError, match="a pipeline's result is a whole step output"):
        returns_a_field.ir
