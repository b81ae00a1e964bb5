"""A tiny pipeline the client and inspection tests record runs of (not an example for users).

Its steps print to stdout and stderr (logs), report a metric, fan out over an upstream output,
return JSON, a numpy array and a list, and fail on request (``fail_on``) after one retry.
"""

from __future__ import annotations

import sys

import numpy as np

from argosy import log_metric, pipeline, step


@step
def words(text: str) -> list[str]:
    print(f"splitting {text!r}")
    return text.split()


@step(retries=1, backoff=0.05)
def shout(word: str, fail_on: str) -> str:
    print(f"shouting {word}")
    print(f"stderr of {word}", file=sys.stderr)
    if word == fail_on:
        raise ValueError(f"refusing to shout {word!r}")
    return word.upper()


@step
def sentence(shouted: list[str]) -> str:
    log_metric("words", len(shouted))
    return " ".join(shouted)


@step
def lengths(shouted: list[str]) -> np.ndarray:
    return np.array([len(word) for word in shouted], dtype=np.int64)


@pipeline
def shouting(text: str = "hello brave new world", fail_on: str = ""):
    shouted = shout.map(word=words(text), fail_on=fail_on)
    lengths(shouted)
    return sentence(shouted)
