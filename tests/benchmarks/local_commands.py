"""What `bench_local.py` runs from the shell: pipeline files, plain baselines, timing, memory.

Each figure is the wall time of a process started as a user starts it (``argosy ...`` or
``python script.py``), interpreter start and imports included, next to a plain script doing
the same work, measured in the same run. `peak_memory` samples the proportional set size of a
command's whole process tree (its workers included; pages they share counted once).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

WORKERS = 2

TRIVIAL = """
from argosy import pipeline, step


@step
def first(x: int) -> int:
    return x + 1


@step
def second(x: int) -> int:
    return x * 2


@step
def third(x: int) -> int:
    return x - 3


@pipeline
def trivial(x: int = 1):
    return third(second(first(x)))
"""
"""Three trivial steps in a row."""

TRIVIAL_PLAIN = """
from multiprocessing import Pool


def first(x):
    return x + 1


def second(x):
    return x * 2


def third(x):
    return x - 3


if __name__ == "__main__":
    with Pool(2) as pool:
        x = pool.apply(first, (1,))
        x = pool.apply(second, (x,))
        print(pool.apply(third, (x,)))
"""
"""The same three calls, one after the other, in a plain 2-process pool."""

WIDE = """
from argosy import pipeline, step


@step
def items(n: int) -> list[int]:
    return list(range(n))


@step
def bump(x: int) -> int:
    return x + 1


@step
def check(values: list[int], n: int) -> int:
    total = sum(values)
    assert total == n * (n + 1) // 2, f"total {total} is wrong"
    return total


@pipeline
def wide(n: int = 1000):
    return check(bump.map(x=items(n)), n)
"""
"""A fan-out of trivial tasks, and a fan-in checking the exact total."""

WIDE_JOBLIB = """
import sys

from joblib import Parallel, delayed


def bump(x):
    return x + 1


if __name__ == "__main__":
    n = int(sys.argv[1])
    total = sum(Parallel(n_jobs=2)(delayed(bump)(x) for x in range(n)))
    assert total == n * (n + 1) // 2
    print(total)
"""
"""The same fan-out with joblib on 2 workers."""

HANDOFF = """
import numpy as np

from argosy import pipeline, step


@step
def produce(n: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(n)


@step
def consume(array: np.ndarray) -> float:
    return float(array.sum())


@pipeline
def handoff(n: int = 1):
    return consume(produce(n))
"""
"""One step makes an array of ``n`` float64s, the next sums it."""

HANDOFF_PLAIN = """
import sys
import tempfile
from pathlib import Path

import numpy as np

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "array.npy"
        np.save(path, np.random.default_rng(0).standard_normal(int(sys.argv[1])))
        print(float(np.load(path).sum()))
"""
"""The same with ``np.save`` to a new file and ``np.load`` of it, in one process."""


TYPER_RUNS = """
from enum import Enum
from typing import Annotated

import typer

app = typer.Typer(add_completion=False)


class Status(str, Enum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


@app.command()
def runs(
    pipeline: Annotated[str | None, typer.Option()] = None,
    status: Annotated[Status | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    project: Annotated[str | None, typer.Option()] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t")] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    all_owners: Annotated[bool, typer.Option("--all-owners")] = False,
    json_: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    print("no runs yet")


@app.command()
def other() -> None:
    pass


if __name__ == "__main__":
    app()
"""
"""A Typer app whose ``runs`` command takes `argosy runs`' options and does nothing else: what
Typer itself costs a command that runs (it builds a pydantic validator for each option, from
Typer 0.29), before any of Argosy's work."""


def argosy_command() -> list[str]:
    """``argosy``, the console script beside this interpreter (else ``python -m argosy``)."""
    script = Path(sys.executable).parent / "argosy"
    if script.exists():
        return [sys.executable, str(script)]
    found = shutil.which("argosy")
    return [found] if found else [sys.executable, "-m", "argosy"]


def clean_environment(home: Path) -> dict[str, str]:
    """This environment as a user's shell has it: without ARGOSY_* settings, with ``home`` as
    ARGOSY_HOME, and without PYTHONDONTWRITEBYTECODE, so that Python caches the bytecode of
    what it imports (a user's does; without it, compiling Argosy's modules took a fifth of
    every command's time, measuring the set-up of the benchmark machine, not Argosy)."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ARGOSY_") and name != "PYTHONDONTWRITEBYTECODE"
    }
    return kept | {"ARGOSY_HOME": str(home)}


def run(command: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Seconds ``command`` takes, its output captured; it must succeed."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    spent = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return spent


def medians(repeats: int, *works: Callable[[], float]) -> list[float]:
    """The median of each of ``works`` (each returns seconds), run in turn ``repeats`` times,
    interleaved so that a burst of load on the shared machine falls on all of them alike."""
    times: list[list[float]] = [[] for _ in works]
    for _ in range(repeats):
        for work, spent in zip(works, times, strict=True):
            spent.append(work())
    return [statistics.median(spent) for spent in times]


def peak_memory(command: Sequence[str], env: dict[str, str] | None = None) -> int:
    """The most bytes ``command``'s process tree held at once (summed PSS, sampled)."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_pss(pid) for pid in _tree(process.pid)))
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        if process.wait():
            raise SystemExit(f"{' '.join(command)} failed")
    finally:
        done.set()
        sampler.join()
    return peak


def _tree(root: int) -> list[int]:
    pids, seen = [root], 0
    while seen < len(pids):
        pid = pids[seen]
        seen += 1
        for task in _listing(Path(f"/proc/{pid}/task")):
            children = Path(f"/proc/{pid}/task/{task}/children")
            try:
                pids.extend(int(child) for child in children.read_text().split())
            except OSError:
                continue
    return pids


def _listing(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _pss(pid: int) -> int:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:  # it ended between the listing and now
        return 0
    for line in lines:
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


__all__ = [
    "HANDOFF",
    "HANDOFF_PLAIN",
    "TRIVIAL",
    "TRIVIAL_PLAIN",
    "TYPER_RUNS",
    "WIDE",
    "WIDE_JOBLIB",
    "WORKERS",
    "argosy_command",
    "clean_environment",
    "medians",
    "peak_memory",
    "run",
]
