"""GPU profiles: what ``Resources(gpu=N, gpu_type=NAME)`` means on a cluster.

A profile names the extended resource to request (``nvidia.com/gpu``), and the node selector
and tolerations that put the pod on a node that has it, so users never write tolerations by
hand. A GPU step without a ``gpu_type`` uses the profile named ``default``, if there is one.
Profiles are YAML of the shape the Helm chart's ``gpuProfiles`` value and the
``argosy-gpu-profiles`` ConfigMap (key ``profiles.yaml``) use::

    gpuProfiles:
      a100:
        resource: nvidia.com/gpu
        nodeSelector: {nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB}
        tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from argosy.errors import CompileError
from argosy.ir import Step

DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"
DEFAULT_PROFILE = "default"
"""The profile of GPU steps that name no ``gpu_type``, when the profiles define it."""


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class GpuToleration(_Wire):
    """A Kubernetes toleration, as written in a pod spec."""

    key: str | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = Field(default=None, alias="tolerationSeconds")


class GpuProfile(_Wire):
    """How to schedule a pod that asks for GPUs of one type."""

    resource: str = DEFAULT_GPU_RESOURCE
    """The extended resource requested and limited (``nvidia.com/gpu``, ``amd.com/gpu``)."""
    node_selector: dict[str, str] = Field(default_factory=dict, alias="nodeSelector")
    tolerations: list[GpuToleration] = Field(default_factory=list)


class GpuProfiles(_Wire):
    """The profiles document: ``{gpuProfiles: {NAME: GpuProfile}}``."""

    gpu_profiles: dict[str, GpuProfile] = Field(default_factory=dict, alias="gpuProfiles")

    def for_step(self, step: Step) -> GpuProfile | None:
        """The profile of a step's ``gpu_type``; None for a step without GPUs.

        A GPU step that names no type gets the profile called ``default`` when there is one
        (else none: plain ``nvidia.com/gpu``). CompileError, naming the step and the known
        profiles, when the type is unknown.
        """
        gpu_type = step.resources.gpu_type
        if step.resources.gpu == 0:
            return None
        if gpu_type is None:
            return self.gpu_profiles.get(DEFAULT_PROFILE)
        try:
            return self.gpu_profiles[gpu_type]
        except KeyError:
            known = ", ".join(sorted(self.gpu_profiles)) or "none (no profiles file was given)"
            raise CompileError(
                f"step {step.name!r} asks for GPU profile {gpu_type!r}, which is not configured; "
                f"known profiles: {known}. Add it to the profiles file (argosy compile "
                "--gpu-profiles FILE, or ARGOSY_GPU_PROFILES) or change gpu_type"
            ) from None


def load_gpu_profiles(path: Path | None) -> GpuProfiles:
    """Read a profiles file; no file means no profiles. CompileError when it is malformed."""
    if path is None:
        return GpuProfiles()
    try:
        document = yaml.safe_load(path.read_text()) or {}
        return GpuProfiles.model_validate(document)
    except OSError as error:
        raise CompileError(f"cannot read GPU profiles file {path}: {error.strerror}") from None
    except (yaml.YAMLError, ValidationError) as error:
        raise CompileError(
            f"GPU profiles file {path} is not of the shape "
            f"{{gpuProfiles: {{NAME: {{resource, nodeSelector, tolerations}}}}}}: {error}"
        ) from None


__all__ = [
    "DEFAULT_GPU_RESOURCE",
    "DEFAULT_PROFILE",
    "GpuProfile",
    "GpuProfiles",
    "GpuToleration",
    "load_gpu_profiles",
]
