"""Put a pipeline's schedule on the cluster: create, update or delete its CronWorkflow.

`schedule_pipeline` packs the pipeline's code into the store (as `submit_pipeline` does: every
run the schedule starts loads the code of the moment it was scheduled; schedule again after a
change), compiles the CronWorkflow (named after the pipeline) and creates it, or replaces the
one already there. Each run it starts records itself in metadata when its first pod starts,
and its steps read the start the schedule meant as ``argosy.current.scheduled_time``.
`unschedule_pipeline` deletes the CronWorkflow and leaves the runs it started alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from argosy import ir
from argosy.backends.argo.cluster import ClusterConfig
from argosy.backends.argo.compiler import compile_pipeline, manifest
from argosy.backends.argo.conditions import dns
from argosy.backends.argo.cron import cron_schedule
from argosy.backends.argo.gpu import load_gpu_profiles
from argosy.backends.argo.kube import KubeApi, ObjectNotFound
from argosy.backends.argo.submit import pack_code
from argosy.config import Settings
from argosy.dsl import PipelineDefinition

KIND = "CronWorkflow"


@dataclass(frozen=True)
class ScheduleChange:
    """What `schedule_pipeline` or `unschedule_pipeline` did to a pipeline's CronWorkflow."""

    action: Literal["created", "updated", "deleted"]
    name: str
    """The CronWorkflow's name: the pipeline's, as Kubernetes spells names."""
    namespace: str
    schedule: ir.Schedule | None = None
    """The schedule put on the cluster (None once deleted)."""
    next_time: datetime | None = None
    """When it starts a run next (in its timezone); None when deleted or not known."""


def schedule_pipeline(
    definition: PipelineDefinition,
    params: Mapping[str, Any],
    settings: Settings,
    *,
    namespace: str = "argosy",
    schedule: str | None = None,
    image: str | None = None,
    code_package: bool = True,
    api: KubeApi | None = None,
    kubeconfig: Path | None = None,
) -> ScheduleChange:
    """Create or replace the pipeline's CronWorkflow; ``params`` (run parameters, defaults
    filled in) are what every run it starts gets, and ``schedule`` replaces the declared cron
    expressions.

    PipelineError or CompileError, before anything is uploaded, when there is no schedule or
    it is not one Argo runs.
    """
    from argosy.images import default_image

    pipeline = definition.ir
    resolved = cron_schedule(pipeline, schedule)
    values = definition.resolve_parameters(params)  # no run it starts may lack one
    ref, digest = pack_code(definition, settings) if code_package else (definition.ref, None)
    cron = compile_pipeline(
        pipeline,
        kind="cron",
        schedule=schedule,
        ref=ref,
        image=image or default_image(),
        cluster=ClusterConfig(
            namespace=namespace, gpu_profiles=load_gpu_profiles(settings.gpu_profiles)
        ),
        code_package=digest,
        parameters=values,
    )
    body = manifest(cron)
    name = body["metadata"]["name"]
    api = api or KubeApi.connect(kubeconfig)
    try:
        stored = api.read(namespace, KIND, name)
    except ObjectNotFound:
        api.create(namespace, body)
        action: Literal["created", "updated"] = "created"
    else:
        body["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        api.replace(namespace, body)
        action = "updated"
    return ScheduleChange(
        action=action,
        name=name,
        namespace=namespace,
        schedule=resolved,
        next_time=resolved.next_time(datetime.now(UTC)),
    )


def unschedule_pipeline(
    definition: PipelineDefinition,
    *,
    namespace: str = "argosy",
    api: KubeApi | None = None,
    kubeconfig: Path | None = None,
) -> ScheduleChange:
    """Delete the pipeline's CronWorkflow: no run starts any more; runs it started, finished
    or still going, stay. ObjectNotFound when the pipeline has none there."""
    name = dns(definition.ir.name)
    api = api or KubeApi.connect(kubeconfig)
    try:
        api.delete(namespace, KIND, name, keep_dependents=True)
    except ObjectNotFound:
        raise ObjectNotFound(
            f"pipeline {definition.ir.name!r} has no CronWorkflow {name!r} in namespace "
            f"{namespace!r}; nothing to unschedule (`kubectl get cronworkflows -n {namespace}` "
            "lists those there)"
        ) from None
    return ScheduleChange(action="deleted", name=name, namespace=namespace)


__all__ = ["KIND", "ScheduleChange", "schedule_pipeline", "unschedule_pipeline"]
