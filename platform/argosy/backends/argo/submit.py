"""Submit a pipeline to Argo Workflows, and resume an Argo run on the cluster.

`submit_pipeline` packs the pipeline's code into the store (unchanged code uploads nothing),
compiles a Workflow named after a fresh run id, records the run in metadata (backend ``argo``,
workflow name, namespace, project, owner and tags) and creates the Workflow through the
Kubernetes API (or the Argo Server). It returns a `WorkflowHandle` that streams progress,
waits, and reads outputs.

`resume_run` submits a new Workflow for an earlier Argo run: the steps whose every task
finished (and that did not change since) are cloned by reference, exactly as a local resume
clones them (new output records pointing at the same artifacts, task records with
``cloned_from``), and get no task in the new Workflow; the rest run. The new run keeps the
earlier one's project, owner and tags.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argosy import ir
from argosy.backends.argo.cluster import ClusterConfig
from argosy.backends.argo.compiler import DoneStep, compile_pipeline, manifest
from argosy.backends.argo.conditions import counted_outputs, valued_outputs
from argosy.backends.argo.gpu import load_gpu_profiles
from argosy.backends.argo.kube import KubeApi
from argosy.backends.argo.watch import WorkflowApi, WorkflowSnapshot, snapshot, watch_workflow
from argosy.config import Settings
from argosy.dsl import PipelineDefinition, load_pipeline
from argosy.dsl.loader import durable_ref
from argosy.errors import ArgosyError, PipelineError
from argosy.metadata.schemas import RunStatus, RunUpdate
from argosy.ownership import Ownership, resolve_ownership
from argosy.run_ids import new_nonce, new_run_id
from argosy.runtime import OutputRecord, map_width, read_output
from argosy.runtime.entrypoint import run_record, value_text
from argosy.runtime.imports import prepare_imports
from argosy.runtime.resume import clone_outputs, inherited_ownership, reusable_outputs
from argosy.store.base import ArtifactStore
from argosy.store.concurrency import concurrently
from argosy.store.fields import output_part


@dataclass
class WorkflowHandle:
    """A submitted run: its Workflow's progress, and its outputs once tasks finish."""

    run_id: str
    namespace: str
    api: WorkflowApi
    pipeline: ir.Pipeline
    params: Mapping[str, Any]
    settings: Settings

    def status(self) -> WorkflowSnapshot:
        """The workflow's phase and per-step progress now."""
        return snapshot(self.api.workflow(self.namespace, self.run_id))

    def watch(
        self, *, interval: float = 2.0, timeout: float | None = None
    ) -> Iterator[WorkflowSnapshot]:
        """Each new state of the workflow until it finishes."""
        return watch_workflow(
            self.api, self.namespace, self.run_id, interval=interval, timeout=timeout
        )

    def wait(self, *, interval: float = 2.0, timeout: float | None = None) -> WorkflowSnapshot:
        """Block until the workflow finishes; its final state."""
        final = None
        for final in self.watch(interval=interval, timeout=timeout):  # noqa: B007
            pass
        assert final is not None
        return final

    def output(self, step: str | None = None, *, allow_pickle: bool = False) -> Any:
        """The value a step produced (a list in map order for a mapped step), from the store.

        A value stored with pickle is loaded only with ``allow_pickle=True``.
        """
        from argosy.store import load, open_store

        name = step or self.pipeline.output
        if name is None:
            raise PipelineError(
                "has no output step; name the step to read", pipeline=self.pipeline.name
            )
        store = open_store(self.settings)
        node = self.pipeline.step(name)
        if node.mapped is None:
            return load(
                store, read_output(store, self.run_id, name, 0).artifact, allow_pickle=allow_pickle
            )
        count = map_width(self.pipeline, name, run_id=self.run_id, params=self.params, store=store)

        def child(index: int) -> Any:
            artifact = read_output(store, self.run_id, name, index).artifact
            return load(store, artifact, allow_pickle=allow_pickle)

        return concurrently(store, child, range(count))


def submit_pipeline(
    definition: PipelineDefinition,
    params: Mapping[str, Any],
    settings: Settings,
    *,
    namespace: str = "argosy",
    image: str | None = None,
    code_package: bool = True,
    api: WorkflowApi | None = None,
    kubeconfig: Path | None = None,
    resumed_from: str | None = None,
    done: Mapping[str, DoneStep] | None = None,
    run_id: str | None = None,
    ownership: Ownership | None = None,
) -> WorkflowHandle:
    """Create the pipeline's Workflow on the cluster; ``params`` are resolved run parameters.

    Steps that name no image run in ``image``, by default the components image `argosy build`
    makes from this checkout. The run belongs to ``ownership``, by default the pipeline's
    project and the current user, no tags.
    """
    from argosy.images import default_image
    from argosy.metadata import open_sink
    from argosy.store import open_store

    pipeline = definition.ir
    if ownership is None:
        ownership = resolve_ownership(pipeline.project, user=settings.user)
    run_id = run_id or new_run_id(pipeline.name)
    image = image or default_image()
    ref, digest = definition.ref, None
    if code_package:
        ref, digest = pack_code(definition, settings)
    cluster = ClusterConfig(
        namespace=namespace, gpu_profiles=load_gpu_profiles(settings.gpu_profiles)
    )
    workflow = compile_pipeline(
        pipeline,
        kind="workflow",  # one run now, even of a pipeline with a schedule
        ref=ref,
        image=image,
        cluster=cluster,
        code_package=digest,
        run_id=run_id,
        parameters=params,
        done=done,
        ownership=ownership,
    )
    api = api or KubeApi.connect(kubeconfig)
    give_imports = prepare_imports(
        pipeline, params, open_store(settings), settings, resumed_from=resumed_from
    )
    sink = open_sink(settings)
    record = run_record(
        definition,
        run_id,
        dict(params),
        ref=durable_ref(definition),
        backend="argo",
        ownership=ownership,
        resumed_from=resumed_from,
        nonce=new_nonce(),
    )
    sink.create_run(record.model_copy(update={"workflow_name": run_id, "namespace": namespace}))
    give_imports(run_id)
    try:
        api.create(namespace, manifest(workflow))
    except ArgosyError as error:
        sink.update_run(
            run_id,
            RunUpdate(status=RunStatus.FAILED, finished_at=datetime.now(UTC), error=str(error)),
        )
        raise
    return WorkflowHandle(
        run_id=run_id,
        namespace=namespace,
        api=api,
        pipeline=pipeline,
        params=params,
        settings=settings,
    )


def resume_run(
    run_id: str,
    settings: Settings,
    *,
    image: str | None = None,
    code_package: bool = True,
    api: WorkflowApi | None = None,
    kubeconfig: Path | None = None,
) -> WorkflowHandle:
    """A new Workflow for Argo run ``run_id``: finished steps cloned by reference, the rest run."""
    from argosy.metadata import open_reader, open_sink
    from argosy.store import open_store

    origin = open_reader(settings).get_run(run_id)
    if origin.backend != "argo" or origin.pipeline_ref is None:
        raise PipelineError(f"run {run_id!r} did not run on Argo; resume it with `argosy resume`")
    definition = load_pipeline(origin.pipeline_ref)
    origin_ir = ir.Pipeline.model_validate(
        open_reader(settings).get_pipeline_version(origin.pipeline_version)
    )
    store = open_store(settings)
    params = definition.resolve_parameters(origin.parameters)
    reusable = reusable_outputs(origin_ir, definition.ir, origin=run_id, params=params, store=store)
    done: dict[str, DoneStep] = {}
    valued, counted = valued_outputs(definition.ir), counted_outputs(definition.ir)
    for step, outputs in reusable.items():
        count = map_width(definition.ir, step, run_id=run_id, params=params, store=store)
        if len(outputs) == count:
            lengths = {
                field: output_part(store, outputs[0].artifact, field).length
                for producer, field in counted
                if producer == step and outputs
            }
            values = {
                field: _value(definition.ir.step(step), outputs, field, store)
                for producer, field in valued
                if producer == step
            }
            done[step] = DoneStep(width=count, lengths=lengths, values=values)
    new_id = new_run_id(definition.ir.name)
    clones = clone_outputs(
        {s: reusable[s] for s in done}, origin=run_id, run_id=new_id, store=store
    )
    handle = submit_pipeline(
        definition,
        params,
        settings,
        namespace=origin.namespace or "argosy",
        image=image,
        code_package=code_package,
        api=api,
        kubeconfig=kubeconfig,
        resumed_from=run_id,
        done=done,
        run_id=new_id,
        ownership=inherited_ownership(origin, user=settings.user),
    )
    open_sink(settings).record_tasks([task for tasks in clones.values() for task in tasks.values()])
    return handle


def _value(
    step: ir.Step, outputs: Mapping[int, OutputRecord], field: str | None, store: ArtifactStore
) -> str:
    """What a ``value`` output parameter of a resumed step held: its value (or its named output
    ``field``'s) as text, or for a mapped step Argo's JSON list of its tasks' values."""
    from argosy.store import load

    texts = [
        value_text(load(store, output_part(store, outputs[i].artifact, field)))
        for i in sorted(outputs)
    ]
    if step.mapped is None:
        return texts[0]
    try:  # as Argo aggregates them: decoded when every one is JSON, else the texts
        return json.dumps([json.loads(text) for text in texts])
    except ValueError:
        return json.dumps(texts)


def pack_code(definition: PipelineDefinition, settings: Settings) -> tuple[str, str]:
    """Upload the code package; the ref pods load the pipeline by, and the package digest."""
    from argosy.code_package import pack, package_ref
    from argosy.store import open_store

    store = open_store(settings)
    store.check()
    return package_ref(definition), pack(definition, store)


__all__ = ["WorkflowHandle", "new_run_id", "pack_code", "resume_run", "submit_pipeline"]
