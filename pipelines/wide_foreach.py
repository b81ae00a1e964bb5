"""A wide, dynamic fan-out of small tasks, and a join that checks their exact total.

``numbers`` makes the list ``0 .. width-1``; ``square`` is mapped over that *output*, so the
fan-out's width is known only when ``numbers`` has run (a dynamic fan-out, one task per item);
``total`` receives every square in map order and raises unless their sum is exactly
``(width - 1) * width * (2 * width - 1) / 6``, so one lost, repeated or misordered task fails
the run. A measure of the per-task overhead of a scheduler:

    argosy run pipelines/wide_foreach.py
    argosy run pipelines/wide_foreach.py --param width=10000
"""

from __future__ import annotations

from argosy import pipeline, step


@step
def numbers(width: int) -> list[int]:
    """The items to fan out over: ``0, 1, ..., width - 1``."""
    return list(range(width))


@step
def square(x: int) -> int:
    return x * x


@step
def total(squares: list[int], width: int) -> int:
    """The sum of the squares, checked against the closed form and the map order."""
    if len(squares) != width:
        raise ValueError(f"expected {width} squares from the fan-out, got {len(squares)}")
    result, expected = sum(squares), (width - 1) * width * (2 * width - 1) // 6
    if result != expected:
        raise ValueError(f"the squares sum to {result}, not {expected}")
    misplaced = [i for i, value in enumerate(squares) if value != i * i]
    if misplaced:
        raise ValueError(f"squares out of map order at indices {misplaced[:10]}")
    print(f"{width} squares sum to {result}, as they should")
    return result


@pipeline
def wide_foreach(width: int = 1000):
    items = numbers(width)
    squares = square.map(x=items)
    return total(squares, width)
