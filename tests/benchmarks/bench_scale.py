"""Benchmark: a 100,000-wide run, what it costs on disk, and how fast ``argosy show`` answers.

    python tests/benchmarks/bench_scale.py [--width 100000] [--repeats 3]

Runs ``start -> map over --width items -> sum`` with ``argosy run`` (2 workers) on a fresh
ARGOSY_HOME, then prints, each next to a plain baseline measured in the same run:

* disk bytes per task of the whole ARGOSY_HOME (metadata, store, logs: everything), and of the
  metadata database alone, against a plain script doing the same work in a 2-process pool and
  keeping each task's result in a file of its own (the simplest durable per-task record), and
  against the bare results in one JSON-lines file;
* the wall time of ``argosy show RUN`` and ``argosy show RUN --json`` (a process started from
  the shell, as a user runs it; median of ``--repeats``), against a plain Python process that
  opens the same metadata database and counts the run's tasks per step and status;
* the wall time of the run itself, against the plain pool script.

Targets (issue 14): a few KB per task all included; ``argosy show`` under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PIPELINE = """
from argosy import pipeline, step


@step
def items(n: int) -> list[int]:
    return list(range(n))


@step
def inc(x: int) -> int:
    return x + 1


@step
def total(xs: list[int]) -> int:
    return sum(xs)


@pipeline
def wide(n: int = 1000) -> int:
    return total(inc.map(items(n)))
"""

PLAIN = """
import json, os, sys
from multiprocessing import Pool

def inc(x):
    return x + 1

def keep(args):
    folder, index, value = args
    with open(os.path.join(folder, f"{index}.json"), "w") as file:
        json.dump({"task": index, "value": value}, file)

if __name__ == "__main__":
    width, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder)
    with Pool(2) as pool:
        values = pool.map(inc, range(width), chunksize=256)
        pool.map(keep, [(folder, i, v) for i, v in enumerate(values)], chunksize=256)
    with open(os.path.join(os.path.dirname(folder), "results.jsonl"), "w") as lines:
        lines.writelines(json.dumps({"task": i, "value": v}) + "\\n" for i, v in enumerate(values))
    print(sum(values))
"""

COUNT = """
import sqlite3, sys
database = sqlite3.connect(sys.argv[1])
rows = database.execute(
    "SELECT step, status, count(*) FROM tasks WHERE run_id = ? GROUP BY step, status",
    (sys.argv[2],),
).fetchall()
print(rows)
"""


def disk_bytes(root: Path) -> int:
    """Bytes the files under ``root`` take on disk (allocated blocks, not apparent sizes)."""
    return sum(path.lstat().st_blocks * 512 for path in root.rglob("*") if path.is_file())


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - start


def median_of(repeats: int, work: Callable[[], float]) -> float:
    return statistics.median(work() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    width = options.width
    tasks = width + 2
    with tempfile.TemporaryDirectory(prefix="argosy-bench-scale-") as scratch:
        root = Path(scratch)
        home = root / "home"
        flow = root / "wide.py"
        flow.write_text(PIPELINE)
        env = {name: value for name, value in os.environ.items() if not name.startswith("ARGOSY_")}
        env["ARGOSY_HOME"] = str(home)
        argosy = [sys.executable, "-m", "argosy"]

        start = time.perf_counter()
        done = subprocess.run(
            [*argosy, "run", str(flow), "-p", f"n={width}", "--max-workers", "2", "--json"],
            env=env, capture_output=True, text=True, check=True, cwd=REPO,
        )  # fmt: skip
        run_seconds = time.perf_counter() - start
        run_id = json.loads(done.stdout)["run_id"]

        (root / "plain").mkdir()
        plain_script = root / "plain.py"
        plain_script.write_text(PLAIN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, str(plain_script), str(width), str(root / "plain" / "tasks")],
            check=True, capture_output=True,
        )  # fmt: skip
        plain_seconds = time.perf_counter() - start

        home_bytes = disk_bytes(home)
        metadata_bytes = sum(path.lstat().st_blocks * 512 for path in home.glob("metadata.db*"))
        files_bytes = disk_bytes(root / "plain" / "tasks")
        lines_bytes = (root / "plain" / "results.jsonl").lstat().st_blocks * 512

        show = median_of(options.repeats, lambda: timed([*argosy, "show", run_id], env))
        show_json = median_of(
            options.repeats, lambda: timed([*argosy, "show", run_id, "--json"], env)
        )
        database = str(home / "metadata.db")
        count = median_of(
            options.repeats, lambda: timed([sys.executable, "-c", COUNT, database, run_id], env)
        )

    print(f"{width:,}-wide run ({tasks:,} tasks), argosy run with 2 workers")
    print(
        f"  run wall time        {run_seconds:8.1f} s    plain pool + a file per task "
        f"{plain_seconds:6.1f} s   ratio {run_seconds / plain_seconds:5.1f}x"
    )
    print(
        f"  disk per task, all   {home_bytes / tasks:8.0f} B    a file per task "
        f"{files_bytes / tasks:8.0f} B   ratio {home_bytes / files_bytes:5.2f}x"
    )
    print(
        f"  metadata per task    {metadata_bytes / tasks:8.0f} B    "
        f"bare results (JSON lines) {lines_bytes / tasks:6.0f} B/task"
    )
    print(
        f"  argosy show          {show:8.3f} s    sqlite3 count per step in a new process "
        f"{count:6.3f} s   ratio {show / count:5.1f}x"
    )
    print(f"  argosy show --json   {show_json:8.3f} s    ratio {show_json / count:5.1f}x")


if __name__ == "__main__":
    main()
