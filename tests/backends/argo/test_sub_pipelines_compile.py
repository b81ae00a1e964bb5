"""Sub-pipelines compiled: a DAG template per call, run by one task of the main DAG, retried
as a whole, with the values that cross its border as its input and output parameters; every
document valid against Argo's schema."""

from __future__ import annotations

from typing import Any

from argosy import pipeline, step, when
from argosy.backends.argo.compiler import compile_pipeline
from argosy.dsl import PipelineDefinition, load_pipeline
from tests.backends.argo.argo_schema import assert_valid
from tests.backends.local import sub_flows

IMAGE = "argosy/base:abc"


@step
def numbers(n: int) -> list[int]:
    return list(range(n))


@step
def square(x: int) -> int:
    return x * x


@step
def verdict(squares: list[int]) -> str:
    return "big" if sum(squares) > 10 else "small"


@step
def shout(text: str) -> str:
    return text.upper()


@pipeline
def judge(values: list[int]):
    return verdict(square.map(values))


@pipeline
def judged(n: int = 4):
    said = judge(numbers(n))
    with when(said == "big"):
        shout("big")


def _doc(definition: PipelineDefinition) -> dict[str, Any]:
    document = compile_pipeline(definition, image=IMAGE).to_dict()
    assert_valid(document)
    return document


def _templates(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {template["name"]: template for template in document["spec"]["templates"]}


def _tasks(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["name"]: task for task in template["dag"]["tasks"]}


def _arguments(task: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in task.get("arguments", {}).get("parameters", [])}


def test_a_call_is_a_dag_template_retried_as_a_whole_and_told_its_run() -> None:
    templates = _templates(_doc(sub_flows.retried))

    main = _tasks(templates["main"])
    assert main["prepare"]["template"] == "prepare"
    assert main["double"]["depends"] == "prepare"  # the call's task stands for its steps
    call = templates["prepare"]
    assert call["retryStrategy"]["limit"] == 1
    inner = _tasks(call)
    assert set(inner) == {"prepare--add-one", "prepare--flaky", "prepare--combine"}
    assert inner["prepare--combine"]["depends"] == "prepare--add-one"
    assert all(_arguments(t) == {"group-attempt": "{{retries}}"} for t in inner.values())
    container = templates["prepare--flaky"]
    assert container["inputs"] == {"parameters": [{"name": "group-attempt"}]}
    args = container["container"]["args"]
    assert args[args.index("--group-attempt") + 1] == "{{inputs.parameters.group-attempt}}"


def test_a_call_without_retries_gets_no_attempt_count() -> None:
    templates = _templates(_doc(sub_flows.not_retried))

    assert "retryStrategy" not in templates["prepare-once"]
    assert "--group-attempt" not in templates["prepare-once--flaky"]["container"]["args"]


def test_values_cross_the_border_of_a_call_as_its_inputs_and_outputs() -> None:
    templates = _templates(_doc(judged))

    call, main = templates["judge"], _tasks(templates["main"])
    width = "{{inputs.parameters.numbers-length}}"
    assert _tasks(call)["judge--square"]["withSequence"] == {"count": width}
    assert call["inputs"] == {"parameters": [{"name": "numbers-length"}]}
    assert _arguments(main["judge"]) == {
        "numbers-length": "{{tasks.numbers.outputs.parameters.length}}"
    }
    assert call["outputs"]["parameters"] == [
        {
            "name": "judge--verdict-value",
            "valueFrom": {"parameter": "{{tasks.judge--verdict.outputs.parameters.value}}"},
        }
    ]
    subject = "tasks['judge'].outputs.parameters['judge--verdict-value']"
    assert main["shout"]["when"] == f'{{{{={subject} == "big"}}}}'
    assert main["shout"]["depends"] == "judge"


def test_the_example_compiles_with_both_calls() -> None:
    templates = _templates(_doc(load_pipeline("pipelines/sub_pipelines.py")))

    assert {"prepare", "prepare-2"} <= set(templates)
    main = _tasks(templates["main"])
    assert main["compare"]["depends"] == "prepare && prepare-2"
