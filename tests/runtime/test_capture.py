"""Output capture at the file-descriptor level."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest

from argosy.runtime.capture import captured_output


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
