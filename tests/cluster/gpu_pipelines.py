"""GPU steps for the scheduling tests: the test node has 2 fake GPUs, in pool ``test``."""

from __future__ import annotations

from argosy import Resources, pipeline, step


@step(resources=Resources(cpu=0.5, memory="256Mi", gpu=1, gpu_type="a100"))
def on_one_gpu(x: int) -> int:
    return x + 1


@pipeline
def one_gpu(x: int = 1):
    return on_one_gpu(x)


@step(resources=Resources(cpu=0.5, memory="256Mi", gpu=3, gpu_type="a100"))
def on_three_gpus(x: int) -> int:
    return x + 3


@pipeline
def three_gpus(x: int = 1):
    return on_three_gpus(x)


@step(resources=Resources(cpu=0.5, memory="256Mi", gpu=1, gpu_type="h100"))
def on_h100(x: int) -> int:
    return x + 100


@pipeline
def h100(x: int = 1):
    return on_h100(x)
