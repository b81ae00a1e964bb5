"""Output capture at the file-descriptor level."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator

import pytest

from argosy.config import Settings
from argosy.runtime.capture import captured_output, limit_logs


def test_python_libc_and_subprocess_output_is_captured_in_order_and_streams_come_back(
    capfd: pytest.CaptureFixture[str],
) -> None:
    streams = sys.stdout, sys.stderr
    with captured_output() as captured:
        print("one")
        os.write(2, b"two\n")
        ctypes.CDLL(None).printf(b"three\n")
        subprocess.run(["echo", "four"], check=True)
        print("five", file=sys.stderr)
    print("after")

    assert captured.data.decode().splitlines() == ["one", "two", "three", "four", "five"]
    assert (sys.stdout, sys.stderr) == streams
    assert capfd.readouterr().out == "after\n"


def test_output_is_kept_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError), captured_output() as captured:
        print("before the error")
        raise RuntimeError("boom")

    assert captured.data == b"before the error\n"


@pytest.fixture
def cap_of_1_mib() -> Iterator[None]:
    limit_logs(2**20)
    yield
    limit_logs(Settings().max_log_bytes)


def test_output_past_the_cap_keeps_head_and_tail_without_being_read_whole(
    cap_of_1_mib: None,
) -> None:
    line = b"%07d " + b"x" * 55 + b"\n"  # 64 bytes: 64 MiB in 2**20 lines
    tracemalloc.start()
    with captured_output() as captured:
        for start in range(0, 2**20, 2**14):
            os.write(1, b"".join(line % n for n in range(start, start + 2**14)))
        tracemalloc.reset_peak()  # the memory that counts: what ending the capture takes
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    lines = captured.data.decode().splitlines()
    assert len(captured.data) < 2**20 + 200
    assert lines[0].startswith("0000000 ") and lines[-1].startswith(f"{2**20 - 1:07d} ")
    assert lines[2**13] == (
        f"[argosy] {63 * 2**20:,} bytes of output left out here: a task's log keeps the first "
        f"and last of its output, {2**20:,} bytes in all (ARGOSY_MAX_LOG_BYTES)"
    )
    assert peak < 3 * 2**20, f"ending the capture took {peak / 2**20:.0f} MiB"
