"""pipelines/wide_foreach.py: the items, the mapped step and the join's exact check."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def wide(example):
    return example("wide_foreach")


def test_steps_as_plain_functions(wide):
    width = 1000
    squares = [wide.function("square")(x) for x in wide.function("numbers")(width)]
    assert wide.function("total")(squares, width) == 332_833_500


@pytest.mark.parametrize(
    ("squares", "message"),
    [
        ([0, 1, 4], "expected 4 squares"),
        ([0, 1, 4, 10], "sum to 15, not 14"),
        ([0, 4, 1, 9], "out of map order at indices [1, 2]"),
    ],
)
def test_total_raises_on_a_lost_wrong_or_misordered_task(wide, squares, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        wide.function("total")(squares, 4)


def test_the_fan_out_is_over_an_upstream_output(wide):
    steps = {step.name: step for step in wide.ir.steps}
    assert steps["square"].mapped == "x"
    assert steps["square"].inputs["x"].kind == "output"
    assert steps["total"].inputs["squares"].kind == "fan_in"
    assert wide.resolve_parameters({}) == {"width": 1000}
