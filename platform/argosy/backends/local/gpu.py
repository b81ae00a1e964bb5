"""GPUs on this machine, and which steps of a pipeline can have them.

Detection never initialises CUDA in this process (workers are forked from it, and CUDA does
not survive a fork): ``CUDA_VISIBLE_DEVICES`` when it is set, else ``nvidia-smi -L``, else a
probe of the CUDA driver library in a short-lived subprocess.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys

from argosy import ir
from argosy.errors import ResourceError

_PROBE = (
    "import ctypes\n"
    "cuda = ctypes.CDLL('libcuda.so.1')\n"
    "count = ctypes.c_int(0)\n"
    "ok = cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0\n"
    "print(count.value if ok else 0)\n"
)


def visible_gpus() -> list[str]:
    """Device ids of the GPUs this process may use (``["0", "1"]``), empty without any."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [d.strip() for d in listed.split(",") if d.strip() and d.strip() != "-1"]
    if shutil.which("nvidia-smi"):
        try:
            lines = subprocess.run(
                ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=True
            ).stdout.splitlines()
        except (OSError, subprocess.SubprocessError):
            return []
        return [str(i) for i, line in enumerate(ln for ln in lines if ln.startswith("GPU "))]
    if ctypes.util.find_library("cuda"):
        try:
            count = subprocess.run(
                [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return []
        return [str(i) for i in range(int(count))] if count.isdigit() else []
    return []


def gpu_fallback_steps(pipeline: ir.Pipeline, gpus: list[str], *, fallback: bool) -> set[str]:
    """Steps that run without their GPUs; ResourceError, before anything runs, if not allowed."""
    short = [s for s in pipeline.steps if s.resources.gpu > len(gpus)]
    if short and not fallback:
        wanted = ", ".join(f"{s.name!r} ({s.resources.gpu})" for s in short)
        raise ResourceError(
            f"pipeline {pipeline.name!r}: step(s) {wanted} ask for GPUs but this machine has "
            f"{len(gpus)}; run where there are GPUs (e.g. `argosy submit`), or pass "
            "--gpu-fallback to run these steps on the CPU"
        )
    return {s.name for s in short}


__all__ = ["gpu_fallback_steps", "visible_gpus"]
