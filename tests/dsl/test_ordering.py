"""Ordering without data (.after, >>), a name per call (.named), and lists of handles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from argosy import pipeline, step
from argosy.errors import PipelineError


@step
def echo(text: str) -> str:
    return text


@step
def shout(texts: list[str]) -> str:
    return "!".join(texts)


def test_after_and_shift_record_ordering_edges_but_no_inputs() -> None:
    @pipeline
    def ordered():
        first = echo.named("first")("a")
        second = echo.named("second")("b")
        many = echo.map(["c", "d"])
        first >> second
        [first, many] >> echo.named("join")("e")
        first >> [echo.named("left")("f"), echo.named("right")("g")]
        return shout([]).after(second, many)

    steps = ordered.ir.steps_by_name
    assert steps["second"].after == ["first"]
    assert steps["join"].after == ["first", "echo"]
    assert steps["left"].after == steps["right"].after == ["first"]
    assert steps["shout"].after == ["second", "echo"]
    assert steps["shout"].inputs.keys() == {"texts"}
    assert ordered.ir.downstream("first") == ["second", "join", "left", "right"]
    assert "after" not in ordered.ir.model_dump()["steps"][0]  # first waits for nothing


def test_a_step_ordered_after_a_later_call_moves_before_it() -> None:
    @pipeline
    def backwards():
        late = echo.named("late")("a")
        early = echo.named("early")("b")
        late.after(early)

    assert [s.name for s in backwards.ir.steps] == ["early", "late"]


def test_named_calls_replace_numbered_names_and_keep_the_plain_function() -> None:
    @pipeline
    def greetings():
        echo.named("hello")("hi")
        echo.named("goodbye").map(["bye", "ciao"])
        echo("plain")

    assert [s.name for s in greetings.ir.steps] == ["hello", "goodbye", "echo"]
    assert greetings.ir.step("goodbye").mapped == "text"
    assert echo.named("hello")("outside") == "outside"
    assert echo.name == "echo"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Greet", "is not a valid step name"),
        ("taken", "is already the name of a step"),
    ],
)
def test_a_bad_or_taken_name_is_named(name: str, message: str) -> None:
    @pipeline
    def names():
        echo.named("taken")("a")
        echo.named(name)("b")

    with pytest.raises(PipelineError, match=message) as caught:
        names.ir
    assert (caught.value.pipeline, caught.value.step) == ("names", name)


def test_a_cycle_of_orderings_is_refused_naming_it() -> None:
    @pipeline
    def circle():
        a = echo.named("a")("x")
        b = echo.named("b")(a)
        a.after(b)

    with pytest.raises(PipelineError, match="a -> b -> a would be a cycle") as caught:
        circle.ir
    assert (caught.value.pipeline, caught.value.step) == ("circle", "a")


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (lambda n: n, "cannot run after pipeline parameter 'n'"),
        (lambda n: "text", "cannot run after 'text'"),
    ],
)
def test_only_step_handles_can_be_waited_for(other: Callable[[Any], Any], message: str) -> None:
    @pipeline
    def odd(n: int = 1):
        echo("a").after(other(n))

    with pytest.raises(PipelineError, match=message) as caught:
        odd.ir
    assert (caught.value.pipeline, caught.value.step) == ("odd", "echo")


def test_a_list_of_handles_for_one_argument_says_what_to_do() -> None:
    @pipeline
    def gather():
        a, b = echo("a"), echo("b")
        return shout([a, b])

    with pytest.raises(
        PipelineError, match=r"list holding the output of step 'echo'.*map"
    ) as caught:
        gather.ir
    assert (caught.value.pipeline, caught.value.step, caught.value.argument) == (
        "gather",
        "shout",
        "texts",
    )


def test_shifting_onto_a_parameter_names_it() -> None:
    @pipeline
    def onto(n: int = 1):
        echo("a") >> n

    with pytest.raises(
        PipelineError, match="cannot order pipeline parameter 'n' after step 'echo'"
    ):
        onto.ir
