"""Control flow compiled for Argo: ``when`` expressions, ``depends`` for outcomes and joins,
``catch`` without ``continueOn``, limited and crossed maps, resources decided at run time, and the
exit-handler DAG; every document must pass Argo's strict schema."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from argosy import one_of, pipeline, run_status, step, when
from argosy.backends.argo.compiler import compile_pipeline
from argosy.errors import CompileError
from tests.backends.argo import compiled

VALUE_OUTPUT = {"name": "value", "valueFrom": {"path": "/tmp/argosy-out/value"}}


@step
def flip(seed: int) -> str:
    return "heads" if seed % 2 == 0 else "tails"


@step
def echo(text: str) -> str:
    return text


@step(catch=True)
def risky(text: str) -> str:
    return text


@step
def pair(letter: str, number: int) -> str:
    return f"{letter}{number}"


@step
def size(part: int) -> str:
    return f"{256 * (part + 1)}Mi"


@pipeline
def branching(seed: int = 0, big: int = 0):
    """Two branches on a step's output, one nested on a parameter, a join, a reader."""
    side = flip(seed)
    with when(side == "heads"):
        heads = echo.named("heads")("h")
        with when(big >= 10):
            echo.named("big_heads")("hb")
    with when(side != "heads"):
        tails = echo.named("tails")("t")
    echo.named("loud")(heads)
    return echo.named("joined")(one_of(heads, tails))


@pipeline
def outcomes(texts: list[str] = ["a", "b"]):
    """Steps waiting for each outcome of a map, and readers of catch steps."""
    many = echo.named("many").map(texts)
    echo.named("on_failure")("f").after(many, on="failed")
    echo.named("some")("s").after(many, on="any_succeeded")
    echo.named("none")("n").after(many, on="all_failed")
    echo.named("ended")("e").after(many, on="finished")
    echo.named("after_risky")(risky("r"))
    with when(texts != []):
        guarded = risky.named("guarded")("g")
    echo.named("after_guarded")(guarded)


@pipeline
def grids(letters: list[str] = ["a", "b"], numbers: list[int] = [1, 2, 3]):
    """Zipped, crossed and limited maps."""
    pair.named("zipped").map(letters, numbers, over=["letter", "number"])
    pair.named("crossed").map(["x", "y"], [1, 2, 3], over=["letter", "number"], product=True)
    pair.named("crossed_params").map(letters, numbers, over=["letter", "number"], product=True)
    pair.named("limited").map(letters, numbers, over=["letter", "number"], max_parallel=2)


@pipeline
def sized(parts: list[int] = [0, 1], memory: str = "1Gi"):
    """Resources from a parameter, a step's output and, item by item, another map."""
    memories = size.map(parts)
    cores = echo.named("cores")("2")
    echo.named("sized_one")("x").with_resources(cpu=cores, memory=memory)
    pair.named("sized_map").map(["a", "b"], parts, over=["letter", "number"]).with_resources(
        memory=memories
    )
    pair.named("sized_limited").map(
        ["a", "b"], parts, over=["letter", "number"], max_parallel=1
    ).with_resources(memory=memory)


@pipeline
def finishing(seed: int = 0, channel: str = "email"):
    """A step, then two exit handlers: one told the run's status, one on a condition."""
    flip(seed)
    echo.named("report")(run_status()).on_exit()
    with when(channel != "none"):
        echo.named("cleanup")("c").on_exit()


def test_conditions_become_when_expressions_over_parameters_and_reported_values() -> None:
    tasks = compiled.tasks(compiled.document(branching))

    flip_value = "tasks['flip'].outputs.parameters['value']"
    assert tasks["heads"]["when"] == f'{{{{={flip_value} == "heads"}}}}'
    assert tasks["tails"]["when"] == f'{{{{={flip_value} != "heads"}}}}'
    assert tasks["big-heads"]["when"] == (
        f"{{{{={flip_value} == \"heads\" && asFloat(workflow.parameters['big']) >= 10}}}}"
    )
    assert tasks["heads"]["depends"] == tasks["big-heads"]["depends"] == "flip"
    assert "when" not in tasks["flip"] and "when" not in tasks["joined"]


def test_a_step_a_condition_reads_reports_its_value_and_no_other_does() -> None:
    templates = compiled.templates(compiled.document(branching))

    assert "--write-value" in templates["flip"]["container"]["args"]
    assert templates["flip"]["outputs"]["parameters"] == [VALUE_OUTPUT]
    assert "--write-value" not in templates["heads"]["container"]["args"]
    assert "outputs" not in templates["heads"]


def test_readers_of_conditional_steps_need_their_success_and_joins_one_branch() -> None:
    tasks = compiled.tasks(compiled.document(branching))

    assert tasks["loud"]["depends"] == "heads.Succeeded"  # a bare name would accept Skipped
    assert tasks["joined"]["depends"] == (
        "(heads.Succeeded || heads.Skipped || heads.Omitted)"
        " && (tails.Succeeded || tails.Skipped || tails.Omitted)"
        " && (heads.Succeeded || tails.Succeeded)"
    )


def test_outcomes_of_a_map_become_depends_and_catch_steps_need_no_continue_on() -> None:
    tasks = compiled.tasks(compiled.document(outcomes))

    assert tasks["on-failure"]["depends"] == "(many.Failed || many.Errored)"
    assert tasks["some"]["depends"] == "many.AnySucceeded"
    assert tasks["none"]["depends"] == "many.AllFailed"
    assert tasks["ended"]["depends"] == (
        "(many.Succeeded || many.Failed || many.Errored || many.Skipped || many.Omitted)"
    )
    # a caught task's pod ends well (Argo 4 refuses continueOn beside depends)
    assert not any("continueOn" in task for task in tasks.values())
    assert tasks["after-risky"]["depends"] == "risky"
    assert tasks["after-guarded"]["depends"] == "guarded.Succeeded"  # skipped by its when: no
    assert tasks["guarded"]["when"] == "{{=workflow.parameters['texts'] != \"[]\"}}"


def test_zipped_and_crossed_maps_count_their_tasks() -> None:
    tasks = compiled.tasks(compiled.document(grids))

    lengths = [
        f"len(jsonpath(workflow.parameters['{name}'], '$'))" for name in ("letters", "numbers")
    ]
    assert tasks["zipped"]["withSequence"] == {"count": f"{{{{={lengths[0]}}}}}"}
    assert tasks["crossed"]["withSequence"] == {"count": "{{=2 * 3}}"}
    assert tasks["crossed-params"]["withSequence"] == {"count": f"{{{{={' * '.join(lengths)}}}}}"}
    assert compiled.arguments(tasks["crossed"]) == {"index": "{{item}}"}


def test_a_limited_map_runs_in_a_wrapper_dag_with_parallelism_and_a_count_input() -> None:
    document = compiled.document(grids)
    templates, tasks = compiled.templates(document), compiled.tasks(document)

    assert tasks["limited"]["template"] == "limited-limited"
    assert "withSequence" not in tasks["limited"]
    assert compiled.arguments(tasks["limited"]) == {
        "count": "{{=len(jsonpath(workflow.parameters['letters'], '$'))}}"
    }
    wrapper = templates["limited-limited"]
    assert wrapper["parallelism"] == 2
    assert wrapper["inputs"] == {"parameters": [{"name": "count"}]}
    (inner,) = wrapper["dag"]["tasks"]
    assert inner["template"] == "limited"
    assert inner["withSequence"] == {"count": "{{inputs.parameters.count}}"}
    assert compiled.arguments(inner) == {"index": "{{item}}"}
    assert "container" in templates["limited"]


def test_resources_decided_at_run_time_are_template_inputs_and_a_pod_spec_patch() -> None:
    document = compiled.document(sized)
    templates, tasks = compiled.templates(document), compiled.tasks(document)

    one = templates["sized-one"]
    assert one["inputs"] == {"parameters": [{"name": "cpu"}, {"name": "memory"}]}
    wanted = {"cpu": "{{inputs.parameters.cpu}}", "memory": "{{inputs.parameters.memory}}"}
    resources = {"requests": wanted, "limits": wanted}
    assert json.loads(one["podSpecPatch"]) == {
        "containers": [{"name": "main", "resources": resources}]
    }
    assert compiled.arguments(tasks["sized-one"]) == {
        "cpu": "{{tasks.cores.outputs.parameters.value}}",
        "memory": "{{workflow.parameters.memory}}",
    }
    assert templates["cores"]["outputs"]["parameters"] == [VALUE_OUTPUT]
    assert tasks["sized-one"]["depends"] == "cores"
    assert "podSpecPatch" not in templates["cores"]


def test_resources_from_a_map_take_the_item_of_each_task() -> None:
    document = compiled.document(sized)
    templates, tasks = compiled.templates(document), compiled.tasks(document)

    item = "jsonpath(inputs.parameters['memory'], '$')[asInt(inputs.parameters['index'])]"
    patch = json.loads(templates["sized-map"]["podSpecPatch"])
    assert patch["containers"][0]["resources"]["limits"] == {"memory": f"{{{{={item}}}}}"}
    assert templates["sized-map"]["inputs"] == {
        "parameters": [{"name": "index"}, {"name": "memory"}]
    }
    assert compiled.arguments(tasks["sized-map"]) == {
        "memory": "{{tasks.size.outputs.parameters.value}}",
        "index": "{{item}}",
    }
    assert templates["size"]["outputs"]["parameters"] == [VALUE_OUTPUT]
    assert "--write-value" in templates["size"]["container"]["args"]
    limited = templates["sized-limited-limited"]
    assert limited["inputs"] == {"parameters": [{"name": "count"}, {"name": "memory"}]}
    inner = limited["dag"]["tasks"][0]
    assert compiled.arguments(inner)["memory"] == "{{inputs.parameters.memory}}"
    assert compiled.arguments(tasks["sized-limited"])["memory"] == "{{workflow.parameters.memory}}"


def test_exit_handlers_form_the_on_exit_dag_that_records_the_run_last() -> None:
    document = compiled.document(finishing)
    templates = compiled.templates(document)

    assert document["spec"]["onExit"] == "exit-handler"
    assert set(compiled.tasks(document)) == {"flip"}
    exits = compiled.tasks(document, "exit-handler")
    assert set(exits) == {"report", "cleanup", "finish-run"}
    ended = "({0}.Succeeded || {0}.Failed || {0}.Errored || {0}.Skipped || {0}.Omitted)"
    assert (
        exits["finish-run"]["depends"] == f"{ended.format('report')} && {ended.format('cleanup')}"
    )
    assert compiled.arguments(exits["finish-run"]) == {
        "exit-statuses": "report={{tasks.report.status}},cleanup={{tasks.cleanup.status}}"
    }
    assert exits["cleanup"]["when"] == "{{=workflow.parameters['channel'] != \"none\"}}"
    assert "depends" not in exits["report"]
    args = templates["report"]["container"]["args"]
    assert args[args.index("--run-status") + 1] == "{{workflow.status}}"
    assert "--run-status" not in templates["flip"]["container"]["args"]
    finish = templates["finish-run"]["container"]["args"]
    assert finish[-2:] == ["--exit-statuses", "{{inputs.parameters.exit-statuses}}"]


def test_without_exit_handlers_the_run_is_recorded_by_finish_run_alone() -> None:
    document = compiled.document(branching)

    assert document["spec"]["onExit"] == "finish-run"
    assert "exit-handler" not in compiled.templates(document)
    assert "--exit-statuses" not in compiled.templates(document)["finish-run"]["container"]["args"]


def exit_condition_on_a_step(seed: int = 0):
    side = flip(seed)
    with when(side == "heads"):
        echo("h").on_exit()


def exit_resources_from_a_step(seed: int = 0):
    echo("h").with_resources(memory=flip(seed)).on_exit()


def any_success_of_a_limited_map(seed: int = 0):
    many = echo.map(["a", "b"], max_parallel=1)
    echo.named("some")("s").after(many, on="any_succeeded")


def resources_from_a_limited_map(seed: int = 0):
    memories = size.map([0, 1], max_parallel=1)
    echo.map(["a", "b"]).with_resources(memory=memories)


UNCOMPILABLE = [
    (exit_condition_on_a_step, r"step 'echo': an exit handler's conditions.*not step 'flip'"),
    (exit_resources_from_a_step, r"step 'echo': an exit handler's conditions.*not step 'flip'"),
    (any_success_of_a_limited_map, r"'some' waits for any_succeeded of map 'echo'.*parallel"),
    (resources_from_a_limited_map, r"'echo' takes resources item by item from map 'size'"),
]


@pytest.mark.parametrize(
    ("body", "message"),
    UNCOMPILABLE,
    ids=[case[0].__name__ for case in UNCOMPILABLE],
)
def test_what_argo_cannot_run_is_a_compile_error(body: Callable[..., None], message: str) -> None:
    definition = pipeline(body)

    with pytest.raises(CompileError, match=message):
        compile_pipeline(definition, image=compiled.IMAGE)
