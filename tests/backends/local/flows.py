"""Small pipelines the local-backend tests run; workers load them by reference.

Steps that must be observed from outside (how often they ran, what they saw) write files into
a directory given as a parameter, since they run in other processes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

from argosy import Resources, log_metric, pipeline, step


def _count(directory: str, name: str) -> int:
    """Leave one more mark named ``name`` in ``directory``; how many there were before."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    before = len(list(folder.glob(f"{name}.*")))
    (folder / f"{name}.{before}.{os.getpid()}.{time.monotonic_ns()}").touch()
    return before


@step
def numbers(n: int) -> list[int]:
    return list(range(n))


@step
def square(x: int) -> int:
    print(f"squaring {x}")
    log_metric("x", x)
    return x * x


@step
def collect(values: list[int]) -> list[int]:
    return values


@pipeline
def fan(n: int = 5):
    """A fan-out whose width is the length of an upstream output, then a fan-in."""
    return collect(square.map(x=numbers(n)))


@step
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@pipeline
def naps(seconds: list[float] = [0.5, 0.5]):
    """Tasks that only sleep, one per item."""
    return nap.map(seconds=seconds)


@step(resources=Resources(cpu=2))
def big_nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@pipeline
def big_naps(seconds: list[float] = [0.4, 0.4]):
    """Sleeping tasks that each take two worker slots."""
    return big_nap.map(seconds=seconds)


_MOST_MEMORY = f"{int(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') * 0.6)}"


@step(resources=Resources(memory=_MOST_MEMORY))
def hungry_nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@pipeline
def hungry_naps(seconds: list[float] = [0.4, 0.4]):
    """Sleeping tasks that each ask for 60% of the machine's memory."""
    return hungry_nap.map(seconds=seconds)


@step(resources=Resources(memory="1Pi"))
def greedy() -> str:
    return "fed"


@pipeline
def greedy_one():
    """A step that asks for more memory than any machine has."""
    return greedy()


@step(retries=2, backoff=0.05)
def flaky(marks: str, failures: int) -> int:
    tried = _count(marks, "flaky")
    if tried < failures:
        raise RuntimeError(f"failing on purpose (attempt {tried})")
    return tried


@pipeline
def retrying(marks: str, failures: int = 1):
    """One step that fails its first ``failures`` attempts."""
    return flaky(marks, failures)


@step
def die(how: str) -> str:
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif how == "segfault":
        ctypes.string_at(0)
    elif how == "exit":
        os._exit(3)
    return how


@pipeline
def crashes(hows: list[str] = ["ok", "sigkill", "ok", "segfault", "ok", "exit", "ok"]):
    """Tasks that kill their own process in the ways a native library can."""
    return die.map(how=hows)


@step(retries=1, backoff=0.05)
def die_once(marks: str) -> str:
    if _count(marks, "die_once") == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


@pipeline
def crash_once(marks: str):
    """A task that is killed on its first attempt and succeeds on its retry."""
    return die_once(marks)


@step(timeout=1)
def hang(marks: str) -> int:
    child = subprocess.Popen(["sleep", "60"])
    Path(marks).mkdir(parents=True, exist_ok=True)
    (Path(marks) / "child.pid").write_text(str(child.pid))
    print(f"waiting for {child.pid}", flush=True)
    child.wait()
    return 0


@step
def quick() -> str:
    return "done"


@pipeline
def hanging(marks: str):
    """A task that overruns its timeout (with a subprocess of its own), beside a quick one."""
    hang(marks)
    return quick()


@step
def prepare(marks: str) -> list[int]:
    _count(marks, "prepare")
    return [1, 2, 3]


@step
def compute(x: int, marks: str) -> int:
    _count(marks, f"compute{x}")
    if x == 2 and not (Path(marks) / "fixed").exists():
        raise ValueError("x=2 is broken until the 'fixed' file exists")
    return 10 * x


@step
def combine(values: list[int], marks: str) -> int:
    _count(marks, "combine")
    return sum(values)


@pipeline
def resumable(marks: str):
    """prepare -> compute (fails for x=2 until fixed) -> combine."""
    values = compute.map(x=prepare(marks), marks=marks)
    return combine(values, marks)


@step(cache=True)
def costly(x: int, marks: str) -> int:
    _count(marks, "costly")
    return x + 1


@step
def plain(y: int, marks: str) -> int:
    _count(marks, "plain")
    return 2 * y


@pipeline
def cached(marks: str, x: int = 1):
    """A step cached by declaration, then one cached only with run-level caching."""
    return plain(costly(x, marks), marks)


@step(resources=Resources(gpu=1))
def gpu_step() -> str:
    return os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>")


@pipeline
def on_gpu():
    """One step that asks for a GPU and reports the devices it was given."""
    return gpu_step()


def _start_daemon(marks: str, text: str, delay: float) -> None:
    """Start a process as a daemon does (double fork, ``setsid``) that writes ``text`` to
    stdout after ``delay`` seconds; its pid is in ``marks/daemon.pid`` when this returns."""
    Path(marks).mkdir(parents=True, exist_ok=True)
    child = os.fork()
    if child == 0:
        daemon = os.fork()
        if daemon == 0:
            os.setsid()
            time.sleep(delay)
            os.write(1, text.encode())
            os._exit(0)
        (Path(marks) / "daemon.pid").write_text(str(daemon))
        os._exit(0)
    os.waitpid(child, 0)


@step
def leave_daemon(marks: str) -> str:
    _start_daemon(marks, "the daemon of the first task speaks\n", delay=1.0)
    return "left"


@step
def listen(after: str, seconds: float) -> str:
    print("the second task listens", flush=True)
    time.sleep(seconds)
    return after


@pipeline
def daemon_then_listen(marks: str, seconds: float = 2.0):
    """A task that leaves a daemon behind, then a task that runs while the daemon would write."""
    return listen(leave_daemon(marks), seconds)


@step(timeout=1)
def hang_with_daemon(marks: str) -> str:
    _start_daemon(marks, "too late\n", delay=60.0)
    time.sleep(60)
    return "never"


@pipeline
def daemon_hang(marks: str):
    """A task that starts a daemon and overruns its timeout."""
    return hang_with_daemon(marks)


@step
def linger(marks: str) -> str:
    child = subprocess.Popen(["sleep", "300"])
    Path(marks).mkdir(parents=True, exist_ok=True)
    (Path(marks) / "linger.pids").write_text(f"{os.getpid()} {child.pid}")
    time.sleep(300)
    return "never"


@pipeline
def lingering(marks: str):
    """A long task with a subprocess, for a runner that is killed meanwhile."""
    return linger(marks)


@step(resources=Resources(memory="256Mi"), retries=1, backoff=0.05, timeout=60)
def hog(mebibytes: int, seconds: float) -> int:
    block = b"\x01" * (mebibytes * 2**20)  # one C call, touching every page
    time.sleep(seconds)
    return len(block)


@pipeline
def hogging(mebibytes: int = 1024, seconds: float = 60.0):
    """A step limited to 256Mi that holds ``mebibytes`` MiB for ``seconds``."""
    return hog(mebibytes, seconds)


@step
def chatter(kib: int, then: str) -> str:
    line = b"%07d " + b"x" * 55 + b"\n"  # 64 bytes
    for start in range(0, kib * 16, 1024):
        os.write(1, b"".join(line % n for n in range(start, min(start + 1024, kib * 16))))
    if then == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    return then


@pipeline
def chattering(kib: int, then: str = "return"):
    """A step that writes ``kib`` KiB of numbered 64-byte lines, then returns or is killed."""
    return chatter(kib, then)


@step
def gate(fail: bool) -> bool:
    if fail:
        raise RuntimeError("the gate fails on purpose")
    return True


@pipeline
def ordered(fail: bool = False):
    """``last`` reads nothing but waits for a gate and a fan-out; ``free`` waits for nothing."""
    naps = nap.map([0.3, 0.3])
    [gate(fail), naps] >> nap.named("last")(0.0)
    return nap.named("free")(0.0)
