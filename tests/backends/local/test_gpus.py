"""GPU steps: an error before anything runs without GPUs, a CPU run with --gpu-fallback, and
CUDA_VISIBLE_DEVICES set per task when GPUs are there (this machine has none: a listed device
is enough for the scheduler, which never touches it)."""

from __future__ import annotations

import pytest

from argosy.backends.local import run_pipeline, visible_gpus
from argosy.config import Settings
from argosy.errors import ResourceError
from argosy.metadata import open_reader
from tests.backends.local import flows
from tests.backends.local.conftest import output, tasks


def test_a_gpu_step_without_a_gpu_is_an_error_before_anything_runs(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")

    with pytest.raises(ResourceError, match=r"'gpu_step' \(1\).*--gpu-fallback"):
        run_pipeline(flows.on_gpu, {}, settings, progress=False)
    assert open_reader(settings).list_runs().data == []


def test_gpu_fallback_runs_the_step_on_the_cpu_and_records_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")

    result = run_pipeline(flows.on_gpu, {}, settings, gpu_fallback=True, progress=False)

    assert result.succeeded
    assert output(settings, result, "gpu_step") == ""  # no device visible to the task
    assert tasks(settings, result.run_id)["gpu_step", 0].gpu_fallback
    assert result.steps["gpu_step"].gpu_fallback
    assert any("gpu_step" in note for note in result.notes)


def test_a_gpu_task_gets_its_devices_in_cuda_visible_devices(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")

    result = run_pipeline(flows.on_gpu, {}, settings, progress=False)

    assert visible_gpus() == ["3", "5"]
    assert output(settings, result, "gpu_step") == "3"
    assert not tasks(settings, result.run_id)["gpu_step", 0].gpu_fallback


@pytest.mark.gpu
@pytest.mark.skipif(not visible_gpus(), reason="needs a CUDA GPU (nvidia-smi finds none)")
def test_on_a_gpu_machine_the_step_gets_one_of_its_gpus(settings: Settings) -> None:
    result = run_pipeline(flows.on_gpu, {}, settings, progress=False)

    assert output(settings, result, "gpu_step") in visible_gpus()
