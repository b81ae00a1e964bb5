"""Compile time and manifest size: fan-outs 10 to 100,000 wide, pipelines of 10 to 1,000 steps.

    python tests/benchmarks/bench_compile.py

Only task indices cross Argo, so a fan-out's width never enters the manifest: the fan-out below
is mapped over a literal list held in the pipeline (the count is the only trace of it in the
YAML, a few digits) and over an upstream step's output (its width is known at run time only).
Pipelines of many steps grow linearly; the target is 1,000 steps in under 2 s, YAML included.
Figures are medians of 3 runs.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from argosy import ir
from argosy.backends.argo import compile_pipeline, render_yaml

IMAGE = "argosy/components:bench"
WIDTHS = (10, 100, 1_000, 10_000, 100_000)
LENGTHS = (10, 100, 1_000)
TARGET_SECONDS = 2.0


def _step(name: str, inputs: dict[str, ir.Input] | None = None, **fields: object) -> ir.Step:
    return ir.Step(
        name=name, function=f"bench:{name}", code_digest="0" * 64, inputs=inputs or {}, **fields
    )  # type: ignore[arg-type]


def fan_out(width: int) -> ir.Pipeline:
    """A literal-list fan-out of ``width`` tasks, a dynamic one over its fan-in, and a join."""
    return ir.Pipeline(
        name="fan_out",
        steps=[
            _step("square", {"x": ir.LiteralInput(value=list(range(width)))}, mapped="x"),
            _step("double", {"x": ir.FanInInput(step="square")}, mapped="x"),
            _step("total", {"xs": ir.FanInInput(step="double")}),
        ],
    )


def chain(length: int) -> ir.Pipeline:
    """``length`` steps in a line, each reading the one before; every tenth fans out and joins."""
    steps = [_step("s0", {"n": ir.ParameterInput(name="n")})]
    while len(steps) < length:
        before, i = steps[-1].name, len(steps)
        if i % 10 == 9 and len(steps) + 2 <= length:
            steps.append(_step(f"s{i}", {"x": ir.OutputInput(step=before)}, mapped="x"))
            steps.append(_step(f"s{i + 1}", {"xs": ir.FanInInput(step=f"s{i}")}))
        else:
            steps.append(_step(f"s{i}", {"x": ir.OutputInput(step=before)}))
    return ir.Pipeline(name="chain", parameters=[ir.Parameter(name="n", default=3)], steps=steps)


def measure(build: Callable[[], ir.Pipeline]) -> tuple[float, int, int]:
    """Median seconds to compile and render, YAML bytes, and steps."""
    pipeline = build()
    times, size = [], 0
    for _ in range(3):
        start = time.perf_counter()
        text = render_yaml(compile_pipeline(pipeline, ref="bench.py", image=IMAGE))
        times.append(time.perf_counter() - start)
        size = len(text.encode())
    return statistics.median(times), size, len(pipeline.steps)


def main() -> int:
    print("fan-out width     compile      YAML bytes")
    sizes = []
    for width in WIDTHS:
        seconds, size, _ = measure(lambda w=width: fan_out(w))
        sizes.append(size)
        print(f"{width:>13,}  {seconds * 1000:>7.1f} ms  {size:>12,}")
    print(f"size spread over widths: {max(sizes) - min(sizes)} bytes (the count's digits)")
    print()
    print("steps    compile      YAML bytes")
    slowest = 0.0
    for length in LENGTHS:
        seconds, size, steps = measure(lambda n=length: chain(n))
        slowest = seconds if length == LENGTHS[-1] else slowest
        print(f"{steps:>5,}  {seconds * 1000:>8.1f} ms  {size:>12,}")
    verdict = "ok" if slowest < TARGET_SECONDS else "TOO SLOW"
    print(f"\n{LENGTHS[-1]:,} steps: {slowest:.2f} s (target < {TARGET_SECONDS:g} s): {verdict}")
    digits = len(str(WIDTHS[-1])) - len(str(WIDTHS[0]))
    width_ok = max(sizes) - min(sizes) <= 2 * digits  # two counts in the YAML
    return 0 if slowest < TARGET_SECONDS and width_ok else 1


if __name__ == "__main__":
    sys.exit(main())
