"""Sub-pipelines compiled: a DAG template per call, run by one task of the main DAG, retried
as a whole, with the values that cross its border as its input and output parameters; every
document valid against Argo's schema."""

from __future__ import annotations

from argosy import pipeline, step, when
from argosy.dsl import load_pipeline
from tests.backends.argo import compiled
from tests.backends.local import sub_flows


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


def test_a_call_is_a_dag_template_retried_as_a_whole_and_told_its_run() -> None:
    document = compiled.document(sub_flows.retried)
    templates = compiled.templates(document)

    main = compiled.tasks(document)
    assert main["prepare"]["template"] == "prepare"
    assert main["double"]["depends"] == "prepare"  # the call's task stands for its steps
    call = templates["prepare"]
    assert call["retryStrategy"]["limit"] == 1
    inner = compiled.tasks(document, "prepare")
    assert set(inner) == {"prepare--add-one", "prepare--flaky", "prepare--combine"}
    assert inner["prepare--combine"]["depends"] == "prepare--add-one"
    assert all(compiled.arguments(t) == {"group-attempt": "{{retries}}"} for t in inner.values())
    container = templates["prepare--flaky"]
    assert container["inputs"] == {"parameters": [{"name": "group-attempt"}]}
    args = container["container"]["args"]
    assert args[args.index("--group-attempt") + 1] == "{{inputs.parameters.group-attempt}}"


def test_a_call_without_retries_gets_no_attempt_count() -> None:
    templates = compiled.templates(compiled.document(sub_flows.not_retried))

    assert "retryStrategy" not in templates["prepare-once"]
    assert "--group-attempt" not in templates["prepare-once--flaky"]["container"]["args"]


def test_values_cross_the_border_of_a_call_as_its_inputs_and_outputs() -> None:
    document = compiled.document(judged)
    call, main = compiled.templates(document)["judge"], compiled.tasks(document)
    width = "{{inputs.parameters.numbers-length}}"
    assert compiled.tasks(document, "judge")["judge--square"]["withSequence"] == {"count": width}
    assert call["inputs"] == {"parameters": [{"name": "numbers-length"}]}
    assert compiled.arguments(main["judge"]) == {
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
    document = compiled.document(load_pipeline("pipelines/sub_pipelines.py"))

    assert {"prepare", "prepare-2"} <= set(compiled.templates(document))
    main = compiled.tasks(document)
    assert main["compare"]["depends"] == "prepare && prepare-2"
