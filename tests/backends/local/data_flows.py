"""Pipelines of the named-output, item-field and import tests (local runs and compiles)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from argosy import each, importer, pipeline, step, when


class Trained(NamedTuple):
    weights: np.ndarray
    accuracy: float
    notes: list[str]


@dataclass
class Split:
    train: list[int]
    test: list[int]


@step
def train(size: int) -> Trained:
    return Trained(np.arange(size, dtype=np.float64), 0.5 + size / 100, [f"size {size}"])


@step
def split(size: int) -> Split:
    return Split(list(range(size)), [size, size + 1])


@step
def norm(weights: np.ndarray) -> float:
    return float(np.linalg.norm(weights))


@step
def describe(model: Trained, parts: Split) -> str:
    return f"{type(model).__name__} {model.accuracy} {type(parts).__name__} {parts.test}"


@step
def square(x: int) -> int:
    return x * x


@step
def deploy(accuracy: float) -> str:
    return f"deployed at {accuracy}"


@pipeline
def named_outputs(size: int = 30):
    """Named outputs read alone, whole, mapped over and tested by a condition."""
    model = train(size)
    parts = split(size)
    norm(model.weights)
    describe(model, parts)
    square.map(x=parts.test)
    with when(model.accuracy > 0.7):
        deploy(model["accuracy"])


@step
def fit(lr: float, depth: int) -> Trained:
    return Trained(np.full(depth, lr), lr * depth, [f"lr={lr}"])


@step
def best(accuracies: list[float], notes: list[list[str]]) -> dict[str, object]:
    top = int(np.argmax(accuracies))
    return {"accuracy": accuracies[top], "notes": notes[top]}


GRID = [{"lr": 0.1, "depth": 2}, {"lr": 0.3, "depth": 4}, {"lr": 0.2, "depth": 3}]


@step
def grid(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return configs


@pipeline
def sweep(configs: list[dict[str, Any]] = GRID):
    """A map taking fields of each item (of a parameter and of an output); fan-in fields."""
    fits = fit.map(lr=each(configs).lr, depth=each(configs).depth)
    best(fits.accuracy, fits.notes)
    made = grid(configs)
    again = fit.named("refit").map(lr=each(made).lr, depth=each(made)["depth"])
    best.named("best_again")(again.accuracy, again.notes)


@step
def count_lines(data: Path) -> int:
    return len(data.read_text().splitlines())


@step
def list_files(data: Path) -> list[str]:
    return sorted(str(p.relative_to(data)) for p in data.rglob("*") if p.is_file())


@pipeline
def imports(table: str = "table.csv"):
    """Outside data: a file given by parameter and a folder given in the code."""
    count_lines(importer(table, name="table"))
    list_files(importer("corpus"))


@step(cache=True)
def cached_count(data: Path) -> int:
    return len(data.read_text().splitlines())


@pipeline
def cached_import():
    cached_count(importer("table.csv"))


@step
def half_trained() -> Trained:
    return {"weights": np.zeros(2), "accuracy": 0.1}  # type: ignore[return-value]


@pipeline
def wrong_outputs():
    half_trained()


@step
def gated_count(data: Path, gate: str) -> int:
    if Path(gate).exists():
        raise RuntimeError(f"the gate {gate} is closed")
    return len(data.read_text().splitlines())


@pipeline
def gated_import(gate: str):
    """Fails while the file ``gate`` exists: a run to resume."""
    gated_count(importer("table.csv"), gate)


@step(catch=True)
def fragile() -> Trained:
    raise RuntimeError("breaks on purpose")


@step
def say_accuracy(accuracy: float | None) -> str:
    return f"accuracy {accuracy}"


@pipeline
def caught_outputs():
    """A caught step's named outputs are each None, as its whole output is."""
    model = fragile()
    say_accuracy(model.accuracy)
    with when(model.accuracy == None):  # noqa: E711 (a condition, not a comparison)
        say_accuracy.named("no_model")(model.accuracy)


@step(cache=True)
def echo(value: Any) -> Any:
    return value


@pipeline
def cached_fields(configs: list[dict[str, Any]] = GRID, field: str = "lr"):
    """The same cached step over the same items, taking one field or another."""
    with when(field == "lr"):
        echo.map(value=each(configs).lr)
    with when(field == "depth"):
        echo.named("echo_depth").map(value=each(configs).depth)
