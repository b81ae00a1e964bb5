"""Small pipelines with control flow that the local-backend tests run; workers load them by
reference.

Conditions and a join (`coin`), a ``catch`` step (`catching`), a failure handler with and
without a reader of the failed step (`handled`, `unhandled`), outcomes of a partly failing map
(`partial`), an exit handler (`exiting`), zipped and crossed maps (`maps`), a limited map
(`limited`) and resources decided at run time (`sized`, `one_size`).
"""

from __future__ import annotations

import os
import time

from argosy import one_of, pipeline, run_status, step, when

_MOST_MEMORY = f"{int(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') * 0.6)}"
"""60% of this machine's memory, in bytes: two tasks asking for it cannot run side by side."""


@step
def flip(seed: int) -> str:
    return ["heads", "tails", "edge"][seed % 3]


@step
def label(text: str) -> str:
    return text


@step
def shout(text: str) -> str:
    return text.upper()


@pipeline
def coin(seed: int = 0, big: int = 0):
    """One branch per side of a coin, joined; a nested condition; a reader of one branch."""
    side = flip(seed)
    with when(side == "heads"):
        heads = label.named("heads")("H")
        with when(~(big < 10)):
            label.named("heads_and_big")("HB")
    with when(side == "tails"):
        tails = label.named("tails")("T")
    shout.named("loud_heads")(heads)
    return label.named("joined")(one_of(heads, tails))


@step(catch=True, retries=1, backoff=0.05)
def fragile(x: int) -> int:
    if x == 2:
        raise ValueError("two is too fragile")
    return 10 * x


@step
def gather(values: list[int | None]) -> list[int | None]:
    return values


@pipeline
def catching(xs: list[int] = [1, 2, 3]):
    """A map whose task for 2 fails for good in a catch step; the fan-in still runs."""
    return gather(fragile.map(xs))


@step
def work(fail: bool) -> str:
    if fail:
        raise RuntimeError("work fails on purpose")
    return "worked"


@pipeline
def handled(fail: bool = False):
    """A step with a failure handler and nothing else after it."""
    done = work(fail)
    label.named("cleanup")("work failed").after(done, on="failed")


@pipeline
def unhandled(fail: bool = True):
    """A step with a failure handler and a reader: the reader is skipped when it fails."""
    done = work(fail)
    label.named("cleanup")("work failed").after(done, on="failed")
    return shout(done)


@step
def attempt(x: int) -> int:
    if x < 0:
        raise ValueError(f"{x} is negative")
    return x


@pipeline
def partial(xs: list[int] = [1, -1]):
    """A map with steps waiting for some, none or any end of its tasks."""
    tries = attempt.map(xs)
    label.named("some_worked")("some").after(tries, on="any_succeeded")
    label.named("none_worked")("none").after(tries, on="all_failed")
    label.named("whatever")("ended").after(tries, on="finished")


@step
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@step
def notify(status: str, fail: bool) -> str:
    if fail:
        raise RuntimeError(f"notify fails on purpose (the run {status})")
    return status


@pipeline
def exiting(fail: bool = False, fail_exit: bool = False):
    """Work beside a short map, then an exit handler told how the run went."""
    work(fail)
    nap.map([0.2, 0.2])
    notify(run_status(), fail_exit).on_exit()


@step
def pair(letter: str, number: int) -> str:
    return f"{letter}{number}"


@step
def collect(texts: list[str]) -> list[str]:
    return texts


@pipeline
def maps(letters: list[str] = ["a", "b", "c"], numbers: list[int] = [1, 2, 3]):
    """The same two lists zipped and crossed, each read as a fan-in."""
    zipped = pair.named("zipped").map(letters, numbers, over=["letter", "number"])
    crossed = pair.named("crossed").map(letters, numbers, over=["letter", "number"], product=True)
    collect.named("zipped_all")(zipped)
    return collect.named("crossed_all")(crossed)


@pipeline
def limited(seconds: list[float] = [0.25, 0.25, 0.25, 0.25, 0.25]):
    """Sleeping tasks, at most two at a time."""
    return nap.map(seconds, max_parallel=2)


@step
def memory_for(part: int, big: str) -> str:
    return "256Mi" if part == 1 else big


@step
def sized_nap(part: int, seconds: float) -> int:
    time.sleep(seconds)
    return part


@pipeline
def sized(parts: list[int] = [0, 1, 2], big: str = _MOST_MEMORY, seconds: float = 0.4):
    """Tasks whose memory another map over the same parts decides: most of the machine for
    parts 0 and 2, 256 MiB for part 1."""
    memories = memory_for.map(parts, big, over="part")
    return sized_nap.map(parts, seconds, over="part").with_resources(memory=memories)


@pipeline
def one_size(memory: str = "256Mi"):
    """A task whose memory an upstream step's output decides."""
    return label.named("sized")("fits").with_resources(memory=label.named("decide")(memory))


@step
def hog(mib: int) -> int:
    """Holds ``mib`` MiB for a moment."""
    block = b"\x01" * (mib * 2**20)
    time.sleep(0.5)
    return len(block)


@pipeline
def decided_limit(mib: int = 384, memory: str = "64Mi"):
    """A task over the memory limit a parameter decided for it."""
    return hog(mib).with_resources(memory=memory)


@pipeline
def decided_gpus(gpus: int = 1):
    return label("x").with_resources(gpu=gpus)


@step(catch=True)
def risky(text: str) -> str:
    raise RuntimeError(f"{text} fails on purpose")


@pipeline
def caught_then_handled():
    """A failure handler of a catch step: a caught failure is no failure to it (on Argo the
    caught task's pod ends well)."""
    return label.named("alert")("risky failed").after(risky("risky"), on="failed")


@pipeline
def caught_join(go: str = "risky"):
    """A join whose only branch that ran was caught: it gets the caught task's None."""
    with when(go == "risky"):
        caught = risky("branch")
    with when(go != "risky"):
        other = label.named("other")("other")
    return label.named("joined")(one_of(caught, other))
