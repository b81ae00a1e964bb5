"""Benchmark: the local backend against plain baselines measured in the same process.

    python tests/benchmarks/bench_local.py [--width 1000] [--array-mb 100] [--repeats 3]

Prints, each as the median of ``--repeats`` runs on 2 workers (every task recorded in the
embedded SQLite metadata, every output in the local store, under a temporary ARGOSY_HOME):

* a ``--width``-wide fan-out of trivial tasks (then a fan-in checking the total): wall time per
  task, and the marginal cost per task over a 10-wide run of the same pipeline, against a
  ``concurrent.futures.ProcessPoolExecutor`` with 2 workers doing the same work (target: at
  most 2 ms per task);
* the fixed cost of a 3-step pipeline of trivial steps, in this process and as the ``argosy
  run`` command (interpreter start and imports included), against plain Python calling the
  same functions (target: at most 0.5 s);
* a ``--array-mb`` float64 array made by one step and summed by the next, against ``np.save`` +
  ``np.load`` of the same array between the same two computations (target: at most 1.5x);
* an 8-setting random-forest sweep (3-fold CV each) on scikit-learn's digits, against the same
  work under ``joblib`` with 2 workers (target: at most 1.2x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits  # a pipeline file imports its libraries at the top
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from argosy import load_pipeline, pipeline, step
from argosy.backends.local import run_pipeline
from argosy.config import Settings

WORKERS = 2
SWEEP = [
    {"n_estimators": n, "max_depth": d, "max_features": f}
    for n in (50, 100)
    for d in (8, None)
    for f in ("sqrt", 0.3)
]


def increment(x: int) -> int:
    return x + 1


@step
def items(n: int) -> list[int]:
    return list(range(n))


@step
def bump(x: int) -> int:
    return increment(x)


@step
def check(values: list[int], n: int) -> int:
    total = sum(values)
    assert total == n * (n + 1) // 2, f"total {total} is wrong"
    return total


@pipeline
def wide(n: int = 1000):
    """items -> bump (one task per item) -> check the exact total."""
    return check(bump.map(x=items(n)), n)


TRIVIAL = """
from argosy import load_pipeline, pipeline, step


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
"""Three trivial steps in a row, in a file of their own: the command line imports only this."""


def make_array(megabytes: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(megabytes * 1_000_000 // 8)


@step
def produce(megabytes: int) -> np.ndarray:
    return make_array(megabytes)


@step
def consume(array: np.ndarray) -> float:
    return float(array.sum())


@pipeline
def handoff(megabytes: int = 100):
    """One step makes a big array, the next sums it."""
    return consume(produce(megabytes))


def evaluate(setting: dict) -> float:
    X, y = load_digits(return_X_y=True)
    model = RandomForestClassifier(random_state=0, n_jobs=1, **setting)
    return float(cross_val_score(model, X, y, cv=3).mean())


@step
def fit(setting: dict) -> float:
    return evaluate(setting)


@step
def best(scores: list[float]) -> float:
    return max(scores)


@pipeline
def sweep(settings: list[dict] = SWEEP):
    """A random-forest sweep: one task per setting, then the best score."""
    return best(fit.map(setting=settings))


def medians(repeats: int, *works: Callable[[], object]) -> list[float]:
    """Median seconds of each of ``works``, run in turn ``repeats`` times (interleaved, so a
    burst of load on the shared machine falls on all of them alike)."""
    times: list[list[float]] = [[] for _ in works]
    for _ in range(repeats):
        for work, spent in zip(works, times, strict=True):
            started = time.perf_counter()
            work()
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def cpu_seconds(work: Callable[[], object]) -> float:
    """CPU time ``work`` takes in this process and the child processes it waits for: a figure
    that load from other programs on the machine changes much less than wall time."""
    before = os.times()
    work()
    after = os.times()
    fields = ("user", "system", "children_user", "children_system")
    return sum(getattr(after, f) - getattr(before, f) for f in fields)


def local(definition, settings: Settings, **params) -> Callable[[], None]:
    def run() -> None:
        result = run_pipeline(definition, params, settings, max_workers=WORKERS, progress=False)
        assert result.succeeded, result.to_json()

    return run


def bench_fan_out(settings: Settings, width: int, repeats: int) -> dict[str, float]:
    def pool() -> None:
        with ProcessPoolExecutor(WORKERS) as executor:
            values = list(executor.map(increment, range(width), chunksize=1))
        assert sum(values) == width * (width + 1) // 2

    base, small, full = medians(
        repeats, pool, local(wide, settings, n=10), local(wide, settings, n=width)
    )
    return {
        "cpu_ms": 1000 * cpu_seconds(local(wide, settings, n=width)) / width,
        "baseline_cpu_ms": 1000 * cpu_seconds(pool) / width,
        "per_task_ms": 1000 * full / width,
        "marginal_ms": 1000 * (full - small) / (width - 10),
        "baseline_ms": 1000 * base / width,
    }


def bench_fixed(settings: Settings, repeats: int) -> dict[str, float]:
    path = settings.home / "trivial_pipeline.py"
    path.write_text(TRIVIAL)
    trivial = load_pipeline(str(path))
    env = os.environ | {"ARGOSY_HOME": str(settings.home)}
    command = [sys.executable, "-m", "argosy", "run", str(path), "--json"]
    plain = [sys.executable, "-c", "f = lambda x: x + 1; g = lambda x: x * 2; print(f(g(1)) - 3)"]
    in_process, cli, python = medians(
        repeats,
        local(trivial, settings),
        lambda: subprocess.run(command, env=env, check=True, capture_output=True),
        lambda: subprocess.run(plain, check=True, capture_output=True),
    )
    return {"in_process_s": in_process, "cli_s": cli, "plain_python_s": python}


def bench_array(settings: Settings, megabytes: int, repeats: int) -> dict[str, float]:
    def plain() -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "array.npy"
            np.save(path, make_array(megabytes))
            float(np.load(path).sum())

    base, argosy = medians(repeats, plain, local(handoff, settings, megabytes=megabytes))
    return {"argosy_s": argosy, "baseline_s": base, "ratio": argosy / base}


def bench_sweep(settings: Settings, repeats: int) -> dict[str, float]:
    from joblib import Parallel, delayed

    def joblib_sweep() -> None:
        max(Parallel(n_jobs=WORKERS)(delayed(evaluate)(s) for s in SWEEP))

    joblib_sweep()  # start joblib's workers, as a warm baseline
    base, argosy = medians(repeats, joblib_sweep, local(sweep, settings))
    return {"argosy_s": argosy, "baseline_s": base, "ratio": argosy / base}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--array-mb", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-sweep", action="store_true", help="leave out the slow sweep")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="argosy-bench-") as home:
        settings = Settings(home=Path(home))
        local(handoff, settings, megabytes=1)()  # create and migrate the database once
        rows = []
        fan = bench_fan_out(settings, options.width, options.repeats)
        rows.append((
            f"{options.width}-wide fan-out, per task",
            f"{fan['per_task_ms']:.2f} ms (marginal {fan['marginal_ms']:.2f} ms)",
            f"process pool {fan['baseline_ms']:.2f} ms",
            f"{fan['per_task_ms'] / fan['baseline_ms']:.1f}x",
            "<= 2 ms", fan["marginal_ms"] <= 2.0,
        ))  # fmt: skip
        rows.append((
            "  the same, CPU time per task (all processes)",
            f"{fan['cpu_ms']:.2f} ms",
            f"process pool {fan['baseline_cpu_ms']:.2f} ms",
            f"{fan['cpu_ms'] / fan['baseline_cpu_ms']:.1f}x",
            "", True,
        ))  # fmt: skip
        fixed = bench_fixed(settings, options.repeats)
        rows.append((
            "3-step trivial pipeline, fixed cost",
            f"{fixed['in_process_s']:.3f} s (run_pipeline)",
            "plain calls ~0 s",
            f"+{fixed['in_process_s']:.3f} s",
            "<= 0.5 s", fixed["in_process_s"] <= 0.5,
        ))  # fmt: skip
        rows.append((
            "  the same as `argosy run` (start, imports)",
            f"{fixed['cli_s']:.3f} s",
            f"python -c {fixed['plain_python_s']:.3f} s",
            f"+{fixed['cli_s'] - fixed['plain_python_s']:.3f} s",
            "<= 0.5 s", fixed["cli_s"] - fixed["plain_python_s"] <= 0.5,
        ))  # fmt: skip
        array = bench_array(settings, options.array_mb, options.repeats)
        rows.append((
            f"{options.array_mb} MB float64 between two steps",
            f"{array['argosy_s']:.3f} s",
            f"np.save+np.load {array['baseline_s']:.3f} s",
            f"{array['ratio']:.2f}x",
            "<= 1.5x", array["ratio"] <= 1.5,
        ))  # fmt: skip
        if not options.skip_sweep:
            rf = bench_sweep(settings, options.repeats)
            rows.append((
                "8-setting random-forest sweep, 3-fold CV",
                f"{rf['argosy_s']:.2f} s",
                f"joblib {rf['baseline_s']:.2f} s",
                f"{rf['ratio']:.2f}x",
                "<= 1.2x", rf["ratio"] <= 1.2,
            ))  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"local backend, {WORKERS} workers, {os.cpu_count()} CPUs, medians of {options.repeats}"
        f" (load average {load})"
    )
    for what, argosy, baseline, ratio, target, met in rows:
        verdict = ("met" if met else "MISSED") if target else ""
        print(f"  {what:<42} {argosy:<52} {baseline:<26} {ratio:>7}  {target:<9} {verdict}")


if __name__ == "__main__":
    main()
