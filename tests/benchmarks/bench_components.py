"""Benchmark: the four co-occurrence variants on the same synthetic 10,000 documents.

    python tests/benchmarks/bench_components.py [--docs 10000] [--vocab 2000] [--repeats 5]

Prints each variant's time (the median of ``--repeats`` runs, taken in turns so that a burst of
load elsewhere on the machine hits every variant alike; plain Python runs fewer times, it is
slow and steady), the numba variant's speed-up over plain Python (target: at least 20x) and the
numba-parallel variant's speed-up over single-threaded numba on this machine's threads, with
the load average at the start. numba's compilation (or loading its on-disk cache) is timed
apart, before the runs. The four results are checked to be identical before any figure is
printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numba

from components.cooccurrence import VARIANTS, same_counts
from components.data import bag_of_words

TARGET_NUMBA_SPEEDUP = 20.0


def _timed(function, argument) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(argument)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--vocab", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args(argv)

    counts = bag_of_words(n_docs=options.docs, vocab_size=options.vocab, seed=0)
    print(
        f"corpus: {counts.shape[0]:,} documents, {counts.shape[1]:,} words, "
        f"{counts.nnz:,} distinct (document, word) pairs; numba threads: "
        f"{numba.get_num_threads()} ({numba.config.THREADING_LAYER} threading layer requested)"
    )
    print(f"load average at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    warmups = {name: _timed(variant, counts[:50])[0] for name, variant in VARIANTS.items()}
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    results = {}
    for turn in range(options.repeats):
        for name, variant in VARIANTS.items():
            if name == "python" and turn >= max(1, options.repeats // 2):
                continue
            elapsed, results[name] = _timed(variant, counts)
            times[name].append(elapsed)
    seconds = {name: statistics.median(values) for name, values in times.items()}
    for name in VARIANTS:
        print(
            f"  {name:<15} {seconds[name] * 1000:10.1f} ms  median of {len(times[name])}, "
            f"best {min(times[name]) * 1000:.1f} ms   (warm-up {warmups[name] * 1000:.0f} ms)"
        )

    reference = results["python"]
    disagree = [name for name, result in results.items() if not same_counts(reference, result)]
    if disagree:
        print(f"FAIL: {', '.join(disagree)} disagree with plain Python", file=sys.stderr)
        return 1
    print(f"all four agree exactly: {reference.nnz:,} non-zero co-occurrence counts")

    numba_speedup = seconds["python"] / seconds["numba"]
    parallel_speedup = seconds["numba"] / seconds["numba_parallel"]
    verdict = "meets" if numba_speedup >= TARGET_NUMBA_SPEEDUP else "MISSES"
    print(
        f"numba over plain Python: {numba_speedup:.1f}x "
        f"({verdict} the {TARGET_NUMBA_SPEEDUP:.0f}x target)"
    )
    print(f"sparse product over plain Python: {seconds['python'] / seconds['sparse']:.1f}x")
    print(
        f"numba parallel over numba, {numba.get_num_threads()} threads "
        f"({numba.threading_layer()} layer): {parallel_speedup:.2f}x"
    )
    return 0 if numba_speedup >= TARGET_NUMBA_SPEEDUP else 1


if __name__ == "__main__":
    sys.exit(main())
