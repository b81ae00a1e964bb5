"""Small pipelines the DSL tests build (importable, so `module:name` references work)."""

from __future__ import annotations

from argosy import Resources, pipeline, step


@step
def make_items(n: int) -> list[int]:
    return list(range(n))


@step(
    resources=Resources(cpu=2, memory="1Gi"), retries=2, backoff="2s", timeout="1m30s", cache=True
)
def square(x: int, offset: int = 0) -> int:
    return x * x + offset


@step
def total(values: list[int]) -> int:
    return sum(values)


@pipeline(max_parallel=4)
def squares(n: int = 3, offset: int = 0):
    """Sum of squares over a dynamic fan-out."""
    items = make_items(n)
    values = square.map(x=items, offset=offset)
    return total(values)


@step
def add(a: int, b: int) -> int:
    return a + b


@pipeline
def diamond(x: int = 1):
    left = add(x, 1)
    right = add(x, 2)
    return add(left, right)


@step
def fail_when(flag: bool) -> int:
    if flag:
        raise RuntimeError("asked to fail")
    return 1


@pipeline
def failing(flag: bool = True):
    return fail_when(flag)
