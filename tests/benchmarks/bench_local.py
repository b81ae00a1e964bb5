"""Benchmark: the local backend as a user runs it, against plain baselines measured in the same run.

    python tests/benchmarks/bench_local.py [--repeats 3] [--width 1000] [--array-mb 100]
                                           [--sweep]

End to end, each figure the median wall time of ``--repeats`` processes started from the
shell (interpreter start and imports included, their bytecode cached as a user's Python caches
it), on a warm ARGOSY_HOME of its own, with 2 workers (`local_commands` holds the pipeline files
and the plain scripts):

* ``argosy --help`` and ``argosy runs``, against ``python -c "import typer"`` (target: 1.5x);
  and Typer's own part of a command: a bare Typer app whose one command takes `argosy runs`'
  options and does nothing, against the same baseline, and `argosy runs` against that app;
* ``argosy run`` of three trivial steps in a row, against a plain ``multiprocessing`` script
  making the same three calls (targets: at most 0.4 s, and 1.5x), and that Typer app against
  the same script;
* ``argosy run`` of a ``--width``-wide fan-out of trivial tasks (and a fan-in checking the
  total), against joblib with 2 workers (target: 1.3x);
* a ``--array-mb`` float64 array made by one step and summed by the next: what the array adds
  to the run (the same pipeline with a 1-element array subtracted), against what it adds to a
  script that makes it, ``np.save``s it to a new file, ``np.load``s and sums it (target: 1.5x);
  and the peak memory the array adds to the run, all its processes together (target: under
  twice the array).

In this process (``run_pipeline``): the fan-out's cost per task and its marginal cost over a
10-wide run, against a ``ProcessPoolExecutor`` with 2 workers (target: 2 ms per task), its
CPU time per task; with ``--sweep``, an 8-setting random-forest sweep (3-fold CV each) on
scikit-learn's digits against joblib with 2 workers (target: 1.2x).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "platform"))  # run from anywhere

from local_commands import (
    HANDOFF,
    HANDOFF_PLAIN,
    TRIVIAL,
    TRIVIAL_PLAIN,
    TYPER_RUNS,
    WIDE,
    WIDE_JOBLIB,
    WORKERS,
    argosy_command,
    clean_environment,
    medians,
    peak_memory,
    run,
)

from argosy import load_pipeline, pipeline, step
from argosy.backends.local import run_pipeline
from argosy.config import Settings

Row = tuple[str, str, str, str, str, bool]
"""What, Argosy's figure, the baseline's, their ratio, the target, whether it is met."""

SWEEP = [
    {"n_estimators": n, "max_depth": d, "max_features": f}
    for n in (50, 100)
    for d in (8, None)
    for f in ("sqrt", 0.3)
]


def evaluate(setting: dict) -> float:
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import cross_val_score

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


def end_to_end(folder: Path, options: argparse.Namespace) -> list[Row]:
    """The rows measured through processes started as a user starts them."""
    for name, text in [
        ("trivial.py", TRIVIAL), ("trivial_plain.py", TRIVIAL_PLAIN), ("wide.py", WIDE),
        ("wide_joblib.py", WIDE_JOBLIB), ("handoff.py", HANDOFF),
        ("handoff_plain.py", HANDOFF_PLAIN), ("typer_runs.py", TYPER_RUNS),
    ]:  # fmt: skip
        (folder / name).write_text(text)
    env = clean_environment(folder / "home")
    argosy = argosy_command()
    python = [sys.executable]
    workers = ["--max-workers", str(WORKERS)]
    elements = options.array_mb * 1_000_000 // 8

    def argosy_run(pipeline: str, *params: str) -> Callable[[], float]:
        arguments = [p for param in params for p in ("--param", param)]
        return lambda: run([*argosy, "run", str(folder / pipeline), *arguments, *workers], env)

    def plain(script: str, *arguments: object) -> Callable[[], float]:
        return lambda: run([*python, str(folder / script), *map(str, arguments)], env)

    argosy_run("trivial.py")()  # a warm ARGOSY_HOME (the database made), bytecode cached
    typer, typer_runs, help_, runs = medians(
        options.repeats,
        lambda: run([*python, "-c", "import typer"], env),
        plain("typer_runs.py", "runs"),
        lambda: run([*argosy, "--help"], env),
        lambda: run([*argosy, "runs"], env),
    )
    trivial, trivial_plain = medians(
        options.repeats, argosy_run("trivial.py"), plain("trivial_plain.py")
    )
    wide, joblib = medians(
        options.repeats,
        argosy_run("wide.py", f"n={options.width}"),
        plain("wide_joblib.py", options.width),
    )
    big, small, big_plain, small_plain = medians(
        options.repeats,
        argosy_run("handoff.py", f"n={elements}"),
        argosy_run("handoff.py", "n=1"),
        plain("handoff_plain.py", elements),
        plain("handoff_plain.py", 1),
    )
    handoff, handoff_plain = big - small, big_plain - small_plain
    run_command = [*argosy, "run", str(folder / "handoff.py"), *workers, "--param"]
    memory = peak_memory([*run_command, f"n={elements}"], env) - peak_memory(
        [*run_command, "n=1"], env
    )
    memory_plain = peak_memory([*python, str(folder / "handoff_plain.py"), str(elements)])
    memory_plain -= peak_memory([*python, str(folder / "handoff_plain.py"), "1"])
    array = elements * 8
    mb = 1e6
    return [
        ("`argosy --help`", f"{help_:.3f} s", f"import typer {typer:.3f} s",
         f"{help_ / typer:.2f}x", "<= 1.5x", help_ <= 1.5 * typer),
        ("`argosy runs`", f"{runs:.3f} s", f"import typer {typer:.3f} s",
         f"{runs / typer:.2f}x", "<= 1.5x", runs <= 1.5 * typer),
        ("  a bare Typer app, the same options", f"{typer_runs:.3f} s",
         f"import typer {typer:.3f} s", f"{typer_runs / typer:.2f}x", "", True),
        ("  `argosy runs` vs the bare Typer app", f"{runs:.3f} s", f"Typer app {typer_runs:.3f} s",
         f"{runs / typer_runs:.2f}x", "", True),
        ("`argosy run`, 3 trivial steps", f"{trivial:.3f} s",
         f"multiprocessing {trivial_plain:.3f} s", f"{trivial / trivial_plain:.2f}x",
         "<= 1.5x", trivial <= 1.5 * trivial_plain),
        ("  the same, absolute", f"{trivial:.3f} s", "", "", "<= 0.4 s", trivial <= 0.4),
        ("  the bare Typer app", f"{typer_runs:.3f} s",
         f"multiprocessing {trivial_plain:.3f} s", f"{typer_runs / trivial_plain:.2f}x", "",
         True),
        (f"`argosy run`, {options.width}-task fan-out", f"{wide:.3f} s",
         f"joblib {joblib:.3f} s", f"{wide / joblib:.2f}x", "<= 1.3x", wide <= 1.3 * joblib),
        (f"{options.array_mb} MB array, step to step", f"+{handoff:.3f} s "
         f"({big:.2f} s - {small:.2f} s)", f"np.save+load +{handoff_plain:.3f} s",
         f"{handoff / handoff_plain:.2f}x", "<= 1.5x", handoff <= 1.5 * handoff_plain),
        ("  peak memory the array adds", f"{memory / mb:.0f} MB",
         f"np.save+load {memory_plain / mb:.0f} MB", f"{memory / array:.2f}x array",
         "< 2x array", memory < 2 * array),
    ]  # fmt: skip


def cpu_seconds(work: Callable[[], object]) -> float:
    """CPU time ``work`` takes in this process and the child processes it waits for: a figure
    that load from other programs on the machine changes much less than wall time."""
    before = os.times()
    work()
    after = os.times()
    fields = ("user", "system", "children_user", "children_system")
    return sum(getattr(after, f) - getattr(before, f) for f in fields)


def increment(x: int) -> int:
    return x + 1


def in_process(folder: Path, options: argparse.Namespace) -> list[Row]:
    """The rows measured by ``run_pipeline`` in this process."""
    settings = Settings(home=folder / "home")
    (folder / "wide.py").write_text(WIDE)
    wide = load_pipeline(str(folder / "wide.py"))

    def local(definition, **params) -> Callable[[], float]:
        def timed() -> float:
            started = time.perf_counter()
            result = run_pipeline(definition, params, settings, max_workers=WORKERS, progress=False)
            assert result.succeeded, result.to_json()
            return time.perf_counter() - started

        return timed

    def pool() -> float:
        started = time.perf_counter()
        with ProcessPoolExecutor(WORKERS) as executor:
            values = list(executor.map(increment, range(width), chunksize=1))
        assert sum(values) == width * (width + 1) // 2
        return time.perf_counter() - started

    width = options.width
    base, small, full = medians(options.repeats, pool, local(wide, n=10), local(wide, n=width))
    cpu = 1000 * cpu_seconds(local(wide, n=width)) / width
    cpu_pool = 1000 * cpu_seconds(pool) / width
    per_task, marginal = 1000 * full / width, 1000 * (full - small) / (width - 10)
    rows: list[Row] = [
        (f"{width}-wide fan-out, per task", f"{per_task:.2f} ms (marginal {marginal:.2f} ms)",
         f"process pool {1000 * base / width:.2f} ms", f"{full / base:.1f}x", "<= 2 ms",
         marginal <= 2.0),
        ("  the same, CPU time per task", f"{cpu:.2f} ms", f"process pool {cpu_pool:.2f} ms",
         f"{cpu / cpu_pool:.1f}x", "", True),
    ]  # fmt: skip
    if options.sweep:
        rows.append(bench_sweep(settings, options.repeats))
    return rows


def bench_sweep(settings: Settings, repeats: int) -> Row:
    from joblib import Parallel, delayed

    def joblib_sweep() -> float:
        started = time.perf_counter()
        max(Parallel(n_jobs=WORKERS)(delayed(evaluate)(s) for s in SWEEP))
        return time.perf_counter() - started

    def argosy_sweep() -> float:
        started = time.perf_counter()
        result = run_pipeline(sweep, {}, settings, max_workers=WORKERS, progress=False)
        assert result.succeeded, json.dumps(result.to_json())
        return time.perf_counter() - started

    joblib_sweep()  # start joblib's workers, as a warm baseline
    base, argosy = medians(repeats, joblib_sweep, argosy_sweep)
    return (
        "8-setting random-forest sweep, 3-fold CV", f"{argosy:.2f} s", f"joblib {base:.2f} s",
        f"{argosy / base:.2f}x", "<= 1.2x", argosy <= 1.2 * base,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--array-mb", type=int, default=100)
    parser.add_argument("--sweep", action="store_true", help="add the random-forest sweep")
    options = parser.parse_args()
    before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="argosy-bench-") as scratch:
        (Path(scratch) / "e2e").mkdir()
        (Path(scratch) / "here").mkdir()
        shell = end_to_end(Path(scratch) / "e2e", options)
        here = in_process(Path(scratch) / "here", options)
    load = ", ".join(f"{a:.1f} -> {b:.1f}" for a, b in zip(before, os.getloadavg(), strict=True))
    print(
        f"local backend, {WORKERS} workers, {os.cpu_count()} CPUs, medians of {options.repeats}"
        f" (load average 1/5/15 min: {load})"
    )
    for title, rows in [("as a user runs it (a process started from the shell)", shell),
                        ("in this process (run_pipeline)", here)]:  # fmt: skip
        print(title)
        for what, argosy, baseline, ratio, target, met in rows:
            verdict = ("met" if met else "MISSED") if target else ""
            print(f"  {what:<40} {argosy:<34} {baseline:<30} {ratio:>13}  {target:<10} {verdict}")


if __name__ == "__main__":
    main()
