"""The IR validates itself, round-trips through JSON and has a stable digest."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from argosy import ir
from argosy.errors import PipelineError


def _step(name: str, **fields: object) -> ir.Step:
    return ir.Step(name=name, function=f"m:{name}", code_digest="0" * 64, **fields)


def _pipeline(*steps: ir.Step, **fields: object) -> ir.Pipeline:
    return ir.Pipeline(name="p", steps=list(steps), **fields)


FAN_OUT = _pipeline(
    _step("items", inputs={"n": ir.ParameterInput(name="n")}),
    _step("work", inputs={"x": ir.OutputInput(step="items")}, mapped="x"),
    _step("join", inputs={"xs": ir.FanInInput(step="work")}),
    parameters=[ir.Parameter(name="n", json_schema={"type": "integer"}, default=3)],
    output="join",
)


def test_json_round_trip_is_exact() -> None:
    again = ir.Pipeline.model_validate_json(FAN_OUT.model_dump_json())
    assert again == FAN_OUT
    assert again.digest() == FAN_OUT.digest()


def test_digest_is_canonical_json_sha256() -> None:
    canonical = json.dumps(FAN_OUT.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    assert FAN_OUT.canonical_json() == canonical
    assert len(FAN_OUT.digest()) == 64
    changed = FAN_OUT.model_copy(update={"max_parallel": 2})
    assert changed.digest() != FAN_OUT.digest()


def test_graph_helpers() -> None:
    assert FAN_OUT.step("work").upstream == ["items"]
    assert FAN_OUT.downstream("items") == ["work"]
    assert FAN_OUT.step("work").mapped_input == ir.OutputInput(step="items")
    with pytest.raises(PipelineError, match="no such step; steps are: items, work, join"):
        FAN_OUT.step("nope")


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([_step("a"), _step("a")], "two steps share this name"),
        ([_step("a", inputs={"x": ir.OutputInput(step="b")}), _step("b")], "not defined before it"),
        ([_step("a", inputs={"x": ir.ParameterInput(name="q")})], "unknown pipeline parameter 'q'"),
        ([_step("a", mapped="x")], "mapped argument is not one of the step's inputs"),
        ([_step("a", inputs={"x": ir.LiteralInput(value=3)}, mapped="x")], "not a list"),
        ([_step("a"), _step("b", inputs={"x": ir.FanInInput(step="a")})], "has no fan-in"),
        ([_step("Bad")], "lower-case"),
        ([], "at least one step"),
    ],
)
def test_invalid_graphs_are_refused_with_names(steps: list[ir.Step], message: str) -> None:
    with pytest.raises(PipelineError, match=message) as caught:
        _pipeline(*steps)
    assert caught.value.pipeline == "p"


def test_reading_a_mapped_step_without_fan_in_is_refused() -> None:
    with pytest.raises(PipelineError, match="is mapped; read it as a fan-in list") as caught:
        _pipeline(
            _step("a", inputs={"x": ir.LiteralInput(value=[1])}, mapped="x"),
            _step("b", inputs={"y": ir.OutputInput(step="a")}),
        )
    assert (caught.value.step, caught.value.argument) == ("b", "y")


def test_resources_validate_quantities() -> None:
    assert ir.Resources(memory="1Gi").memory_bytes == 2**30
    assert ir.Resources(memory="650M").memory_bytes == 650 * 10**6
    assert ir.Resources(cpu="500m").cpu == 0.5
    with pytest.raises(ValidationError, match="not a memory quantity"):
        ir.Resources(memory="lots")
    with pytest.raises(ValidationError, match="gpu_type='a100' given but gpu=0"):
        ir.Resources(gpu_type="a100")


def test_retry_backoff_grows_and_is_capped() -> None:
    retry = ir.Retry(limit=5, backoff_seconds=1, backoff_factor=3, max_backoff_seconds=10)
    assert [retry.delay(n) for n in range(5)] == [0.0, 1.0, 3.0, 9.0, 10.0]


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        FAN_OUT.name = "q"  # type: ignore[misc]


def test_ordering_edges_are_upstream_but_not_serialized_when_absent() -> None:
    ordered = _pipeline(_step("a"), _step("b", after=["a"]))
    assert ordered.step("b").upstream == ["a"]
    assert ordered.downstream("a") == ["b"]
    assert ir.Pipeline.model_validate_json(ordered.model_dump_json()) == ordered
    assert "after" not in FAN_OUT.canonical_json()


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([_step("a", after=["nope"])], "step 'a': runs after unknown step 'nope'"),
        ([_step("a", after=["a"])], r"a cycle \(a -> a,"),
        (
            [_step("a", after=["b"]), _step("b", inputs={"x": ir.OutputInput(step="a")})],
            r"step 'a': runs after step 'b', which itself waits for it: a cycle \(a -> b -> a,",
        ),
        ([_step("a", after=["b"]), _step("b")], "runs after step 'b', which is listed after it"),
    ],
)
def test_bad_ordering_edges_are_rejected(steps: list[ir.Step], message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        _pipeline(*steps)


def test_a_project_is_left_out_of_the_json_until_set_and_must_be_a_project_name() -> None:
    assert "project" not in FAN_OUT.model_dump(mode="json")  # digests of pipelines without one stay
    fraud = FAN_OUT.model_copy(update={"project": "fraud"})
    assert ir.Pipeline.model_validate_json(fraud.model_dump_json()).project == "fraud"
    assert fraud.digest() != FAN_OUT.digest()
    with pytest.raises(PipelineError, match="pipeline 'p': project 'Fraud' is not a project name"):
        _pipeline(_step("a"), project="Fraud")
