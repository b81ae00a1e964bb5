"""Compile an `ir.Pipeline` into a Hera `Workflow`, `WorkflowTemplate` or `CronWorkflow`.

One container template per step, all running the runtime entrypoint
(``python -m argosy task ...``), with the step's resources (a ``podSpecPatch`` for those decided
at run time), retries and deadline, and the small output parameters Argo needs: ``length`` of an
output a step maps over, ``value`` of one a condition or a resource reads. The DAGs that run
them (main, sub-pipelines, the exit handler) are `argosy.backends.argo.dag`'s; only task
indices cross Argo, values move through the artifact store at deterministic addresses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import yaml
from hera.workflows import (
    Container,
    CronWorkflow,
    Parameter,
    Resources,
    Workflow,
    WorkflowTemplate,
)
from hera.workflows.models import (
    Container as ModelContainer,
)
from hera.workflows.models import (
    LabelValueFrom,
    PodGC,
    TTLStrategy,
    ValueFrom,
    WorkflowMetadata,
)
from hera.workflows.models import (
    Template as ModelTemplate,
)

from argosy import ir
from argosy.backends.argo import expressions, pod_settings, run_labels
from argosy.backends.argo.cluster import ClusterConfig, pod_env
from argosy.backends.argo.conditions import (
    VALUE_PARAMETER,
    Reported,
    counted_outputs,
    dns,
    parameter_of,
    valued_outputs,
)
from argosy.backends.argo.cron import check_kind, cron_fields, default_kind, resolve_schedule
from argosy.backends.argo.dag import (
    EXIT_STATUSES_PARAMETER,
    GROUP_ATTEMPT_PARAMETER,
    INDEX_PARAMETER,
    LENGTH_PARAMETER,
    DagWriter,
    DoneStep,
    free_name,
    group_retried,
)
from argosy.backends.argo.gpu import DEFAULT_GPU_RESOURCE
from argosy.errors import CompileError
from argosy.ownership import PRODUCTION, Ownership
from argosy.runtime.entrypoint import value_text

Kind = Literal["workflow", "template", "cron"]

ENTRYPOINT = ["python", "-m", "argosy", "task"]
FINISH_RUN = ["python", "-m", "argosy", "finish-run"]
OUTPUTS_DIR = "/tmp/argosy-out"
"""Where a task writes ``digest`` and ``length`` for Argo to read as output parameters."""
MAX_MANIFEST_BYTES = 1_000_000
"""Argo stores a Workflow in etcd (1.5 MB per object, status included); stay well under."""

LABEL_PIPELINE = "argosy.io/pipeline"
LABEL_RUN_ID = "argosy.io/run-id"
LABEL_VERSION = "argosy.io/version"
LABEL_STEP = "argosy.io/step"
LABEL_INDEX = "argosy.io/index"
ANNOTATION_TITLE = "workflows.argoproj.io/title"
ANNOTATION_DESCRIPTION = "workflows.argoproj.io/description"
ANNOTATION_VERSION = "argosy.io/pipeline-version"


class Definition(Protocol):
    """What the compiler needs of a `PipelineDefinition`: its IR and how pods load it."""

    @property
    def ir(self) -> ir.Pipeline: ...

    ref: str


@dataclass(frozen=True, kw_only=True)
class _Plan:
    """Everything one compilation needs, resolved once."""

    pipeline: ir.Pipeline
    ref: str
    image: str | None
    cluster: ClusterConfig
    code_package: str | None
    run_id: str | None
    values: Mapping[str, Any]
    counted: frozenset[Reported]
    """Outputs a downstream step maps over: their steps report their ``length``."""
    valued: frozenset[Reported]
    """Outputs whose value a condition or a resource reads: their steps report ``value``."""
    done: Mapping[str, DoneStep]
    version: str
    """The pipeline's digest (its version)."""
    ownership: Ownership
    """The project, owner and tags its runs are recorded with (`run_labels`)."""
    schedule: ir.Schedule | None
    """When a CronWorkflow starts runs: set only when compiling one."""


def compile_pipeline(
    source: ir.Pipeline | Definition,
    *,
    ref: str | None = None,
    image: str | None = None,
    kind: Kind | None = None,
    schedule: str | None = None,
    cluster: ClusterConfig | None = None,
    code_package: str | None = None,
    run_id: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    done: Mapping[str, DoneStep] | None = None,
    ownership: Ownership | None = None,
) -> Workflow:
    """The Hera object of a pipeline; `to_yaml()` on it gives the manifest.

    ``ref`` is how a pod loads the pipeline (``module:name`` inside the code package when
    ``code_package`` is given); it defaults to the definition's own ref. ``image`` is the image
    of steps that name none. ``run_id`` fixes the workflow's name (else Argo generates one);
    ``parameters`` override the parameter defaults. CompileError when the pipeline cannot run
    on Argo as asked. ``done`` names the steps a resumed run already has (no task runs them).
    ``ownership`` is the project, owner and tags of its runs, by default those of a deployment:
    the pipeline's project, owner ``production``, no tags.
    ``kind`` defaults to a CronWorkflow for a pipeline with a schedule (declared, or given as
    ``schedule``, which replaces the declared expressions), to a Workflow for any other.
    """
    pipeline = source if isinstance(source, ir.Pipeline) else source.ir
    kind = kind or default_kind(pipeline, schedule)
    check_kind(pipeline, kind)
    ref = ref or (None if isinstance(source, ir.Pipeline) else source.ref)
    if not ref:
        raise CompileError(f"pipeline {pipeline.name!r}: give ref= so pods can load the pipeline")
    plan = _Plan(
        pipeline=pipeline,
        ref=ref,
        image=image,
        cluster=cluster or ClusterConfig(),
        code_package=code_package,
        run_id=run_id,
        values=parameters or {},
        done=done or {},
        version=pipeline.digest(),
        ownership=ownership or Ownership(project=pipeline.project, owner=PRODUCTION),
        counted=counted_outputs(pipeline),
        valued=valued_outputs(pipeline),
        schedule=resolve_schedule(pipeline, kind, schedule),
    )
    workflow = _workflow_object(plan, kind)
    steps = [step for step in pipeline.steps if step.name not in plan.done]
    if not any(not step.exit for step in steps):
        raise CompileError(f"pipeline {pipeline.name!r}: every step is done; nothing to run")
    with workflow:
        templates = {step.name: _container_template(plan, step) for step in steps}
        taken = {template.name for template in templates.values()}
        writer = DagWriter(pipeline=pipeline, done=plan.done, containers=templates, taken=taken)
        dag = writer.main()
        exits = [step for step in steps if step.exit]
        finish = _finish_template(plan, free_name("finish-run", taken), with_exits=bool(exits))
        exit_handler = writer.exit_handler(exits, finish)
    workflow.entrypoint = dag.name
    workflow.on_exit = exit_handler
    check_size(workflow)
    return workflow


def _workflow_object(plan: _Plan, kind: Kind) -> Workflow:
    pipeline = plan.pipeline
    common: dict[str, Any] = {
        "namespace": plan.cluster.namespace,
        "labels": _labels(plan),
        "annotations": _annotations(plan),
        "service_account_name": plan.cluster.service_account,
        "arguments": _arguments(plan),
        "parallelism": pipeline.max_parallel,
        "ttl_strategy": TTLStrategy(
            seconds_after_success=plan.cluster.ttl_after_success_seconds,
            seconds_after_failure=plan.cluster.ttl_after_failure_seconds,
        ),
        "pod_gc": PodGC(strategy="OnWorkflowSuccess"),
        "workflow_metadata": _workflow_metadata(plan),
        "template_defaults": _template_defaults(plan),
    }
    if kind == "workflow":
        if plan.run_id is not None:
            return Workflow(name=plan.run_id, **common)
        return Workflow(generate_name=f"{_dns(pipeline.name)}-", **common)
    if kind == "template":
        return WorkflowTemplate(name=_dns(pipeline.name), **common)
    if kind == "cron" and plan.schedule is not None:
        return CronWorkflow(name=_dns(pipeline.name), **cron_fields(plan.schedule), **common)
    raise CompileError(f"unknown kind {kind!r}; use workflow, template or cron")


def _labels(plan: _Plan) -> dict[str, str]:
    labels = {
        LABEL_PIPELINE: plan.pipeline.name,
        LABEL_VERSION: plan.version[:32],
    }
    if plan.run_id is not None:
        labels[LABEL_RUN_ID] = plan.run_id
    return labels | run_labels.labels(plan.ownership)


def _annotations(plan: _Plan) -> dict[str, str]:
    pipeline = plan.pipeline
    description = pipeline.description or f"Argosy pipeline {pipeline.name}"
    return {
        ANNOTATION_TITLE: pipeline.name,
        ANNOTATION_DESCRIPTION: description,
        ANNOTATION_VERSION: plan.version,
    }


def _workflow_metadata(plan: _Plan) -> WorkflowMetadata:
    """Labels every run gets, its run id (the workflow name) included, also from templates,
    and the annotations its tasks read the run's project, owner and tags from."""
    labels = {LABEL_PIPELINE: plan.pipeline.name, LABEL_VERSION: plan.version[:32]}
    return WorkflowMetadata(
        labels=labels | run_labels.labels(plan.ownership),
        labels_from={LABEL_RUN_ID: LabelValueFrom(expression="workflow.name")},
        annotations=run_labels.annotations(plan.ownership),
    )


def _arguments(plan: _Plan) -> list[Parameter]:
    """One workflow parameter per pipeline parameter, its value as text (`value_text`: a string
    as itself, anything else as JSON).

    A required parameter without a given value has none: Argo then asks for it at submit.
    """
    arguments = []
    for parameter in plan.pipeline.parameters:
        if parameter.name in plan.values:
            value = value_text(plan.values[parameter.name])
        elif parameter.required:
            arguments.append(Parameter(name=parameter.name))
            continue
        else:
            value = value_text(parameter.default)
        arguments.append(Parameter(name=parameter.name, value=value))
    return arguments


def _template_defaults(plan: _Plan) -> ModelTemplate:
    """What every pod shares, written once: the environment that reaches store and metadata.

    Argo merges ``templateDefaults`` into each template, so the manifest grows by the few
    fields that differ per step, not by the whole environment.
    """
    return ModelTemplate(
        container=ModelContainer(
            image=_image(plan, plan.pipeline.steps[0]),
            env=[variable.build() for variable in pod_env(plan.cluster)],
        )
    )


def _container_template(plan: _Plan, step: ir.Step) -> Container:
    """The pod of one task of ``step``: the runtime entrypoint with the step's resources."""
    profile = plan.cluster.gpu_profiles.for_step(step)
    inputs = [INDEX_PARAMETER] if step.mapped is not None else []
    inputs += [GROUP_ATTEMPT_PARAMETER] if group_retried(plan.pipeline, step) else []
    return Container(
        name=_dns(step.name),
        image=_image(plan, step),
        image_pull_policy="IfNotPresent",
        command=list(ENTRYPOINT),
        args=_task_args(plan, step),
        resources=pod_settings.resources(step, profile),
        pod_spec_patch=_resources_patch(step, profile.resource if profile else None),
        node_selector=dict(profile.node_selector) if profile and profile.node_selector else None,
        tolerations=pod_settings.tolerations(profile),
        retry_strategy=pod_settings.retry_strategy(step.retry),
        active_deadline_seconds=pod_settings.deadline(step),
        inputs=[Parameter(name=name) for name in [*inputs, *step.resources_from]] or None,
        outputs=_outputs(plan, step),
        labels={LABEL_STEP: step.name, LABEL_INDEX: _index(step)},
        annotations=_template_annotations(step),
    )


def _resources_patch(step: ir.Step, gpu_resource: str | None) -> str | None:
    """A ``podSpecPatch`` setting the resources decided at run time, as requests and limits.

    Each input parameter holds its value as text (a quantity or a number); one from a fan-in
    holds Argo's JSON list of the sizing tasks' values, and the task takes its own item.
    """
    if not step.resources_from:
        return None
    names = {"cpu": "cpu", "memory": "memory", "gpu": gpu_resource or DEFAULT_GPU_RESOURCE}
    values = []
    for field, source in step.resources_from.items():
        if isinstance(source, ir.FanInInput):
            term = expressions.item_term(
                expressions.input_parameter_term(field),
                expressions.input_parameter_term(INDEX_PARAMETER),
            )
            value = expressions.expression(term)
        else:
            value = expressions.input_parameter(field)
        values.append(f'"{names[field]}": "{value}"')
    wanted = "{" + ", ".join(values) + "}"
    resources = f'{{"requests": {wanted}, "limits": {wanted}}}'
    return f'{{"containers": [{{"name": "main", "resources": {resources}}}]}}'


def _template_annotations(step: ir.Step) -> dict[str, str] | None:
    """The first line of the step's docstring as its title in the Argo UI."""
    if not step.description:
        return None
    return {ANNOTATION_TITLE: step.description.splitlines()[0]}


def _image(plan: _Plan, step: ir.Step) -> str:
    image = step.image or plan.image
    if not image:
        raise CompileError(
            f"step {step.name!r} has no image: give one with `argosy compile --image IMG` "
            "(argosy build prints it) or @step(image=...)"
        )
    if "@" not in image:
        name = image.rsplit("/", 1)[-1]
        tag = name.partition(":")[2]
        if tag in ("", "latest"):
            raise CompileError(
                f"step {step.name!r}: image {image!r} has no pinned tag; use a content tag such "
                "as argosy/base:<tag> from `argosy build` (never :latest, which kind cannot pull)"
            )
    return image


def _task_args(plan: _Plan, step: ir.Step) -> list[str]:
    args = ["--pipeline", plan.ref, "--step", step.name, "--run-id", expressions.WORKFLOW_NAME]
    if step.mapped is not None:
        args += ["--index", expressions.input_parameter(INDEX_PARAMETER)]
    if step.retry.limit > 0:
        args += ["--attempt", expressions.RETRIES]
    if group_retried(plan.pipeline, step):
        args += ["--group-attempt", expressions.input_parameter(GROUP_ATTEMPT_PARAMETER)]
    if step.exit:
        args += ["--run-status", expressions.WORKFLOW_STATUS]
    if plan.schedule is not None:  # only a CronWorkflow's runs have it
        args += ["--scheduled-time", expressions.SCHEDULED_TIME]
    for producer, field in sorted(plan.valued, key=str):
        if producer == step.name:
            args += ["--write-value"] if field is None else ["--write-field-value", field]
    for parameter in plan.pipeline.parameters:
        args += ["--param", f"{parameter.name}={expressions.workflow_parameter(parameter.name)}"]
    args += run_labels.task_args()
    args += ["--outputs-dir", OUTPUTS_DIR]
    if plan.code_package is not None:
        args += ["--code-package", plan.code_package]
    return args


def _index(step: ir.Step) -> str:
    return expressions.input_parameter(INDEX_PARAMETER) if step.mapped is not None else "0"


def _outputs(plan: _Plan, step: ir.Step) -> list[Parameter] | None:
    """A ``length`` output parameter when a downstream step maps over this step's output; a
    ``value`` one when a condition or a resource reads it (``-<field>`` for a named output)."""
    names = [
        parameter_of(base, field)
        for base, reported in ((LENGTH_PARAMETER, plan.counted), (VALUE_PARAMETER, plan.valued))
        for producer, field in sorted(reported, key=str)
        if producer == step.name
    ]
    return [
        Parameter(name=name, value_from=ValueFrom(path=f"{OUTPUTS_DIR}/{name}")) for name in names
    ] or None


def _finish_template(plan: _Plan, name: str, *, with_exits: bool) -> Container:
    """Marks the run finished in metadata with the workflow's status (and its exit handlers')."""
    args = ["--run-id", expressions.WORKFLOW_NAME, "--status", expressions.WORKFLOW_STATUS]
    if with_exits:
        args += ["--exit-statuses", expressions.input_parameter(EXIT_STATUSES_PARAMETER)]
    return Container(
        name=name,
        image=_image(plan, plan.pipeline.steps[0]),
        image_pull_policy="IfNotPresent",
        command=list(FINISH_RUN),
        args=args,
        inputs=[Parameter(name=EXIT_STATUSES_PARAMETER)] if with_exits else None,
        resources=Resources(
            # a 100m limit throttles the interpreter's start to ~15 s; the request stays small
            cpu_request="100m",
            cpu_limit="1",
            memory_request="256Mi",
            memory_limit="256Mi",
        ),
    )


_dns = dns


def manifest(workflow: Workflow) -> dict[str, Any]:
    """The workflow as the JSON object the Kubernetes API receives."""
    return workflow.to_dict()


def render_yaml(workflow: Workflow) -> str:
    """The manifest as YAML, as Hera writes it (with libyaml's emitter: same text, faster)."""
    return workflow.to_yaml(Dumper=yaml.CSafeDumper)


def check_size(workflow: Workflow) -> None:
    """CompileError when the manifest would not fit Argo's and etcd's object size limits."""
    size = len(json.dumps(manifest(workflow), separators=(",", ":")))
    if size > MAX_MANIFEST_BYTES:
        raise CompileError(
            f"the compiled workflow is {size:,} bytes, over the {MAX_MANIFEST_BYTES:,} Argo and "
            "etcd allow; split the pipeline, or fan out with .map() instead of writing many steps"
        )


__all__ = [
    "ENTRYPOINT",
    "LENGTH_PARAMETER",
    "MAX_MANIFEST_BYTES",
    "OUTPUTS_DIR",
    "Definition",
    "DoneStep",
    "Kind",
    "check_size",
    "compile_pipeline",
    "manifest",
    "render_yaml",
]
