"""Pipelines whose steps pass values that only pickle can store, for the pickle tests.

`Planted` is what an attacker would store: unpickling it runs ``os.makedirs(marker)`` (any code
would do), so a marker directory that appears means code ran on load. `Box` is an ordinary
object a step returns to the next one, as a fitted model would be.
"""

from __future__ import annotations

import os
from typing import Any

from argosy import pipeline, step


class Planted:
    """A value whose unpickling creates the directory ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.makedirs, (self.marker,)


class Box:
    """An object only pickle stores (a dataclass would be named outputs)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Box) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


@step
def plant(marker: str) -> Planted:
    return Planted(marker)


@step
def make_box(n: int) -> Box:
    return Box(n)


@step
def open_box(box: Box) -> int:
    return box.value * 2


@pipeline
def planted(marker: str):
    return plant(marker)


@pipeline
def boxes(n: int = 21):
    return open_box(make_box(n))


@pipeline(allow_pickle=True)
def trusted_boxes(n: int = 21):
    return open_box(make_box(n))
