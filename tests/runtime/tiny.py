"""A tiny pipeline the runtime tests execute task by task."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import numpy  # noqa: F401  (loaded with the pipeline, as steps' libraries are: a BLAS pool)

from argosy import Resources, log_metric, pipeline, step


@step
def produce(n: int) -> list[int]:
    return list(range(n))


@step
def shout(x: int, word: str) -> str:
    print(f"python says {word} {x}")
    sys.stdout.flush()
    ctypes.CDLL(None).printf(b"libc says %d\n", x)
    subprocess.run(["echo", f"a subprocess says {x}"], check=True)
    print("stderr says bye", file=sys.stderr)
    log_metric("loudness", x * 1.5)
    return f"{word.upper()} {x}"


@step
def gather(words: list[str]) -> str:
    return ", ".join(words)


@pipeline
def tiny(n: int = 3, word: str = "hi"):
    """produce -> shout (mapped over produce's list) -> gather."""
    return gather(shout.map(x=produce(n), word=word))


@step
def explode(n: int) -> int:
    print("about to fail")
    raise ValueError(f"cannot handle n={n}")


@step
def scalar(n: int) -> int:
    return n


@step
def after(x: int) -> int:
    return x


@pipeline
def broken(n: int = 1):
    """A step that raises, and a mapping over a value with no length."""
    explode(n)
    return after.map(x=scalar(n))


@step(resources=Resources(cpu=1))
def one_core() -> list[int]:
    """The thread counts of the native thread pools (numpy's BLAS, OpenMP) while it runs."""
    from threadpoolctl import threadpool_info

    return sorted({pool["num_threads"] for pool in threadpool_info()})


@pipeline
def threads():
    return one_core()


@step
def leave(code: int | None) -> None:
    print("leaving early")
    sys.exit(code)


@pipeline
def exits(code: int | None = 0):
    """A step that ends with ``sys.exit(code)``."""
    leave(code)
