"""Control flow as ported pipelines need it: a condition with a join, crossed and zipped maps,
a map limited in parallelism, a step that may fail without failing the run, resources decided
at run time, a failure handler and an exit handler.

``choose_mode`` decides, from the seed, whether the model is fitted the ``fast`` way or the
``thorough`` way: ``with when(...)`` runs one branch, the other is recorded skipped, and
``one_of`` joins them. ``tune`` tries every (alpha, depth) pair, at most two at a time;
``probe`` checks each tuned setting and fails on purpose for one of them: it is a ``catch``
step, so that task is recorded ``caught``, its output is None, and the run goes on. ``score``
zips the folds with their weights. ``crunch`` asks for the memory ``size_for`` decided for each
part. ``alert`` runs only if ``pick`` failed; ``report`` always runs last, told how the run went.

    argosy run pipelines/control_flow.py
    argosy run pipelines/control_flow.py --param seed=1   # the thorough branch runs instead
"""

from __future__ import annotations

import random

from argosy import one_of, pipeline, run_status, step, when


@step
def make_data(n: int, seed: int) -> list[float]:
    """``n`` numbers drawn from a normal distribution around 3."""
    draw = random.Random(seed)
    return [draw.gauss(3.0, 1.0) for _ in range(n)]


@step
def choose_mode(seed: int) -> str:
    """``fast`` for an even seed, ``thorough`` for an odd one: the run's coin flip."""
    return "fast" if seed % 2 == 0 else "thorough"


@step
def fit_fast(values: list[float]) -> dict[str, float]:
    """The mean of the first hundred values."""
    head = values[:100]
    return {"center": sum(head) / len(head), "seen": float(len(head))}


@step
def fit_thorough(values: list[float]) -> dict[str, float]:
    """The median of all the values."""
    ordered = sorted(values)
    return {"center": ordered[len(ordered) // 2], "seen": float(len(ordered))}


@step
def tune(alpha: float, depth: int) -> dict[str, float]:
    """One point of the grid: a made-up loss that is smallest at alpha 0.1, depth 3."""
    return {"alpha": alpha, "depth": depth, "loss": abs(alpha - 0.1) + abs(depth - 3) / 10}


@step(catch=True)
def probe(setting: dict[str, float]) -> float:
    """The setting's loss, after a check that rejects depth 4 (it fails on purpose)."""
    if setting["depth"] == 4:
        raise ValueError(f"depth 4 is not supported yet (setting {setting})")
    return setting["loss"]


@step
def score(model: dict[str, float], values: list[float], fold: int, weight: float) -> float:
    """The weighted mean absolute error of the model on every third value, from ``fold``."""
    part = values[fold::3]
    return weight * sum(abs(v - model["center"]) for v in part) / len(part)


@step
def size_for(part: int) -> str:
    """The memory a part needs: more for later parts."""
    return f"{256 + 64 * part}Mi"


@step
def crunch(values: list[float], part: int) -> float:
    """The sum of one quarter of the values."""
    return sum(values[part::4])


@step
def pick(losses: list[float | None], scores: list[float], sums: list[float]) -> dict[str, float]:
    """The best probed loss (caught probes gave None), the total score and the data's sum."""
    tried = [loss for loss in losses if loss is not None]
    return {"best_loss": min(tried), "score": sum(scores), "total": sum(sums)}


@step
def alert(reason: str) -> str:
    print(f"ALERT: {reason}")
    return reason


@step
def report(status: str, mode: str) -> str:
    """What a notification would say when the run ends."""
    message = f"control_flow {status} (mode {mode})"
    print(message)
    return message


@pipeline
def control_flow(n: int = 600, seed: int = 0):
    values = make_data(n, seed)
    mode = choose_mode(seed)
    with when(mode == "fast"):
        fast = fit_fast(values)
    with when(mode != "fast"):
        thorough = fit_thorough(values)
    model = one_of(fast, thorough)

    grid = {"alpha": [0.1, 1.0], "depth": [2, 3, 4]}
    settings = tune.map(**grid, over=["alpha", "depth"], product=True, max_parallel=2)
    losses = probe.map(settings)
    scores = score.map(model, values, [0, 1, 2], [1.0, 0.5, 0.25], over=["fold", "weight"])
    parts = [0, 1, 2, 3]
    sums = crunch.map(values, parts, over="part").with_resources(memory=size_for.map(parts))

    best = pick(losses, scores, sums)
    alert("pick failed").after(best, on="failed")
    report(run_status(), mode).on_exit()
    return best
