"""Control flow in the DSL: conditions (``when``), joins (``one_of``), ``catch``, outcomes of
``after``, exit handlers, zipped, crossed and limited maps, resources decided at run time, and
the errors that name what is wrong where."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pytest

from argosy import ir, one_of, pipeline, run_status, step, when
from argosy.errors import PipelineError


@step
def flip(seed: int) -> str:
    return "heads" if seed % 2 == 0 else "tails"


@step
def echo(text: str) -> str:
    return text


@step
def pair(letter: str, number: int) -> str:
    return f"{letter}{number}"


@step(catch=True)
def risky(text: str) -> str:
    return text


def test_when_blocks_condition_their_steps_nest_as_and_and_invert_negates() -> None:
    @pipeline
    def branches(seed: int = 0, size: int = 1):
        side = flip(seed)
        with when(side == "heads"):
            echo.named("heads")("h")
            with when(~(size < 10)):
                echo.named("big_heads")("hb")
            echo.named("heads_again")("h2")
        with when(~(side == "heads")):
            echo.named("tails")("t")
        echo.named("always")("a")

    steps = branches.ir.steps_by_name
    heads = ir.Condition(subject=ir.OutputInput(step="flip"), op="==", value="heads")
    big = ir.Condition(subject=ir.ParameterInput(name="size"), op=">=", value=10)
    assert steps["heads"].when == steps["heads_again"].when == [heads]
    assert steps["big_heads"].when == [heads, big]
    assert steps["tails"].when == [heads.negated()]
    assert steps["tails"].when[0].describe() == "flip != 'heads'"
    assert steps["always"].when == []
    assert steps["tails"].upstream == ["flip"]  # the condition's subject is waited for
    assert "when" not in branches.ir.model_dump()["steps"][-1]  # no condition, no field


@pytest.mark.parametrize(
    ("compare", "op"),
    [
        (operator.eq, "=="),
        (operator.ne, "!="),
        (operator.lt, "<"),
        (operator.le, "<="),
        (operator.gt, ">"),
        (operator.ge, ">="),
    ],
)
def test_each_comparison_with_a_constant_is_a_condition(
    compare: Callable[[Any, Any], Any], op: str
) -> None:
    @pipeline
    def compared(n: int = 3):
        with when(compare(n, 2)):
            echo("x")

    (condition,) = compared.ir.step("echo").when
    assert (condition.subject, condition.op, condition.value) == (
        ir.ParameterInput(name="n"),
        op,
        2,
    )
    assert condition.holds(3) is compare(3, 2)
    assert condition.negated().holds(3) is not compare(3, 2)


def test_one_of_catch_outcomes_and_exit_handlers_are_recorded_in_the_ir() -> None:
    @pipeline
    def handled(seed: int = 0):
        side = flip(seed)
        with when(side == "heads"):
            heads = echo.named("heads")("h")
        with when(side != "heads"):
            tails = echo.named("tails")("t")
        joined = echo.named("joined")(one_of(heads, tails))
        caught = risky(joined)
        many = echo.named("many").map(["a", "b"])
        echo.named("on_failure")("f").after(joined, on="failed")
        echo.named("some")("s").after(many, on="any_succeeded")
        echo.named("none")("n").after(many, caught, on="all_failed")
        pair(run_status(), 1).on_exit()
        return caught

    steps = handled.ir.steps_by_name
    assert steps["joined"].inputs == {"text": ir.OneOfInput(steps=["heads", "tails"])}
    assert steps["joined"].outcome("heads") == steps["joined"].outcome("tails") == "one_of"
    assert steps["risky"].catch and not steps["joined"].catch
    assert steps["on_failure"].runs_on == {"joined": "failed"}
    assert steps["on_failure"].outcome("joined") == "failed"
    assert steps["on_failure"].after == []
    assert steps["some"].runs_on == {"many": "any_succeeded"}
    assert steps["none"].runs_on == {"many": "all_failed", "risky": "all_failed"}
    assert steps["pair"].exit and steps["pair"].inputs["letter"] == ir.RunStatusInput()
    assert not any(s.exit for s in handled.ir.steps if s.name != "pair")


def test_zipped_crossed_and_limited_maps_record_their_arguments() -> None:
    @pipeline
    def grids(letters: list[str] = ["a", "b"], numbers: list[int] = [1, 2, 3]):
        pair.named("zipped").map(letters, numbers, over=["letter", "number"], max_parallel=2)
        pair.named("crossed").map(letters, numbers, over=["number", "letter"], product=True)

    zipped, crossed = grids.ir.steps
    assert (zipped.mapped, zipped.map_with, zipped.map_product) == ("letter", ["number"], False)
    assert zipped.max_parallel == 2
    assert (crossed.mapped, crossed.map_with, crossed.map_product) == ("number", ["letter"], True)
    assert crossed.max_parallel is None
    # row-major: the last argument varies fastest
    assert [crossed.items(i, [3, 2]) for i in range(3)] == [
        {"number": 0, "letter": 0},
        {"number": 0, "letter": 1},
        {"number": 1, "letter": 0},
    ]
    assert zipped.items(1, [2, 2]) == {"letter": 1, "number": 1}


def test_with_resources_takes_constants_as_they_are_and_handles_at_run_time() -> None:
    @pipeline
    def sized(memory: str = "1Gi", parts: list[int] = [0, 1]):
        cores = echo.named("cores")("2")
        memories = echo.named("memories").map(parts)
        echo.named("unmapped")("u").with_resources(cpu=cores, memory=memory, gpu=1)
        pair.map(["a", "b"], parts, over=["letter", "number"]).with_resources(
            memory=memories, cpu="500m"
        )

    steps = sized.ir.steps_by_name
    assert steps["unmapped"].resources_from == {
        "cpu": ir.OutputInput(step="cores"),
        "memory": ir.ParameterInput(name="memory"),
    }
    assert steps["unmapped"].resources.gpu == 1
    assert steps["pair"].resources_from == {"memory": ir.FanInInput(step="memories")}
    assert steps["pair"].resources.cpu == 0.5
    assert steps["pair"].upstream == ["memories"]


def if_on_a_condition(seed: int = 0):
    if flip(seed) == "heads":
        echo("h")


def when_on_an_output(seed: int = 0):
    with when(flip(seed)):
        echo("h")


def one_of_a_single_output(seed: int = 0):
    echo(one_of(flip(seed)))


def one_of_a_fan_in(seed: int = 0):
    echo(one_of(flip(seed), echo.named("many").map(["a", "b"])))


def after_a_bogus_outcome(seed: int = 0):
    echo("e").after(flip(seed), on="bogus")


def exit_handler_waited_for(seed: int = 0):
    side = flip(seed)
    echo(side)
    side.on_exit()


def step_after_an_exit_handler(seed: int = 0):
    side = flip(seed).on_exit()
    echo("e").after(side)


def run_status_outside_an_exit_handler(seed: int = 0):
    echo(run_status())


def no_tasks_at_once(seed: int = 0):
    echo.map(["a", "b"], max_parallel=0)


def product_of_one_argument(seed: int = 0):
    echo.map(["a", "b"], over=["text"], product=True)


def output_compared_with_a_parameter(seed: int = 0):
    with when(flip(seed) == seed):
        echo("h")


def resources_from_a_join(seed: int = 0):
    side = flip(seed)
    echo("e").with_resources(memory=one_of(side, echo.named("other")("o")))


MISUSES = [
    (if_on_a_condition, (None, None), r"flip == 'heads' has no value.*`with argosy.when"),
    (when_on_an_output, (None, None), r"when\(\) takes a comparison.*not the output of step"),
    (one_of_a_single_output, (None, None), r"one_of\(\) joins two or more step outputs"),
    (one_of_a_fan_in, (None, None), r"unmapped steps.*not the outputs of mapped step 'many'"),
    (after_a_bogus_outcome, ("echo", None), r"on='bogus'\) is not an outcome; use one of"),
    (exit_handler_waited_for, ("flip", None), r"cannot become an exit handler: step 'echo'"),
    (step_after_an_exit_handler, ("echo", None), r"waits for exit handler 'flip'"),
    (run_status_outside_an_exit_handler, ("echo", "text"), r"run's status.*\.on_exit\(\)"),
    (no_tasks_at_once, ("echo", None), r"max_parallel=\.\.\.\) must be 1 or more"),
    (product_of_one_argument, ("echo", None), r"product=True\) crosses two or more"),
    (output_compared_with_a_parameter, (None, None), r"'flip' with pipeline parameter 'seed'"),
    (resources_from_a_join, ("echo", "memory"), r"cannot take memory from the output of one"),
]


@pytest.mark.parametrize(
    ("body", "where", "message"),
    MISUSES,
    ids=[case[0].__name__ for case in MISUSES],
)
def test_misused_control_flow_is_refused_naming_where(
    body: Callable[..., None], where: tuple[str | None, str | None], message: str
) -> None:
    definition = pipeline(body)

    with pytest.raises(PipelineError, match=message) as caught:
        definition.ir
    error = caught.value
    assert (error.pipeline, error.step, error.argument) == (body.__name__, *where)
    assert str(error).startswith(f"pipeline {body.__name__!r}")


def test_a_condition_on_a_constant_that_is_not_json_is_refused() -> None:
    @pipeline
    def odd(seed: int = 0):
        with when(flip(seed) == {1, 2}):
            echo("h")

    with pytest.raises(PipelineError, match=r"compares with \{1, 2\}, which is not a JSON value"):
        odd.ir


def test_a_condition_cannot_be_used_outside_its_pipeline() -> None:
    conditions = []

    @pipeline
    def first(seed: int = 0):
        conditions.append(flip(seed) == "heads")
        echo("e")

    @pipeline
    def second(seed: int = 0):
        with when(conditions[0]):
            echo("e")

    first.ir
    with pytest.raises(PipelineError, match=r"while their @pipeline function is defined") as caught:
        second.ir
    assert caught.value.pipeline == "first"
