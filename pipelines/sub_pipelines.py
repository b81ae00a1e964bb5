"""A pipeline used as a step of another, with retries of its own.

``prepare`` cleans a split of the data and sums it up: it is a pipeline of three steps that
``evaluate`` calls twice, once per split, like a function. Each call's steps are named after it
(``prepare__clean``, ``prepare_2__clean``...), and when a branch of a call fails, all its steps
run again, up to ``retries`` times. A call's steps can read what came before the call (here
the width of ``split``'s output), and steps after it read what it returns. ``report`` runs
only when the held-out split kept enough rows.

    argosy run pipelines/sub_pipelines.py
    argosy run pipelines/sub_pipelines.py --param min_rows=500   # the report is skipped
"""

from __future__ import annotations

import random

from argosy import pipeline, step, when


@step
def make_rows(n: int, seed: int) -> list[float]:
    """``n`` readings, a tenth of them broken (negative)."""
    draw = random.Random(seed)
    return [draw.uniform(-1.0, 9.0) for _ in range(n)]


@step
def split(rows: list[float], parts: int) -> list[list[float]]:
    """The rows in ``parts`` interleaved chunks."""
    return [rows[i::parts] for i in range(parts)]


@step
def clean(chunk: list[float]) -> list[float]:
    """The chunk without its broken readings."""
    return [value for value in chunk if value >= 0]


@step
def describe(chunks: list[list[float]]) -> dict[str, float]:
    """How many rows the cleaned chunks hold, and their mean."""
    values = [value for chunk in chunks for value in chunk]
    return {"rows": len(values), "mean": sum(values) / len(values) if values else 0.0}


@step
def judge(summary: dict[str, float], min_rows: int) -> str:
    """``enough`` when the summary counts at least ``min_rows`` rows, else ``too few``."""
    return "enough" if summary["rows"] >= min_rows else "too few"


@pipeline(retries=1)
def prepare(chunks: list[list[float]]):
    """Clean every chunk and describe what is left."""
    return describe(clean.map(chunks))


@step
def compare(train: dict[str, float], held_out: dict[str, float]) -> float:
    """How far the held-out mean is from the training mean."""
    return abs(train["mean"] - held_out["mean"])


@step
def report(gap: float) -> str:
    message = f"the held-out mean is {gap:.3f} from the training mean"
    print(message)
    return message


@pipeline
def evaluate(n: int = 400, held_out_n: int = 100, seed: int = 0, min_rows: int = 50):
    train = prepare(split(make_rows(n, seed), 4))
    more = make_rows.named("make_held_out")(held_out_n, 1)
    held_out = prepare(split.named("split_held_out")(more, 2))
    gap = compare(train, held_out)
    with when(judge(held_out, min_rows) == "enough"):
        report(gap)
    return gap
