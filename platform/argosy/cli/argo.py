"""The Argo commands: ``argosy compile``, ``submit`` and ``status`` (and the hidden ``finish-run``).

Thin: each command loads the pipeline or reads the cluster through `argosy.backends.argo` and
prints. Results go to stdout (rich), progress to stderr; ``compile`` writes the YAML to stdout
or ``-o FILE``; ``--json`` prints one JSON object on stdout. ``finish-run`` is what a
Workflow's onExit handler runs in the cluster: it marks the run finished in the metadata
service.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from argosy.cli.console import diagnostics, print_json, results
from argosy.cli.tags import ProductionOption, ProjectOption, TagOption
from argosy.config import Settings
from argosy.errors import ArgosyError, Conflict, NotFound

if TYPE_CHECKING:  # hera is imported by the commands that need it, not by every `argosy` call
    from argosy.backends.argo.watch import StepProgress, WorkflowApi, WorkflowSnapshot
    from argosy.client import Run

_PHASE_STYLE = {"Succeeded": "green", "Failed": "red", "Error": "red", "Running": "yellow"}
_ARGO_STATUS = {"Succeeded": "succeeded", "Failed": "failed", "Error": "failed"}


class Kind(StrEnum):
    WORKFLOW = "workflow"
    TEMPLATE = "template"
    CRON = "cron"


Namespace = Annotated[str, typer.Option("--namespace", "-n", help="Kubernetes namespace.")]
Kubeconfig = Annotated[
    Path | None,
    typer.Option(
        envvar="KUBECONFIG", help="Kubeconfig file (default ~/.kube/config; in a pod, in-cluster)."
    ),
]
ArgoServer = Annotated[
    str | None,
    typer.Option(help="Use the Argo Server at this URL instead of the Kubernetes API."),
]
ArgoToken = Annotated[
    str | None, typer.Option(envvar="ARGO_TOKEN", help="Bearer token for --argo-server.")
]
Image = Annotated[
    str | None,
    typer.Option(
        envvar="ARGOSY_IMAGE",
        help="Image of steps that name none (default: the components image of argosy build).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def compile_command(
    pipeline: Annotated[str, typer.Argument(help="path/file.py, path/file.py:name or module:name")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here.")] = None,
    kind: Annotated[
        Kind | None,
        typer.Option(
            help="The Argo object to write (default: cron for a pipeline with a schedule, "
            "else workflow)."
        ),
    ] = None,
    schedule: Annotated[
        str | None,
        typer.Option(help="Cron schedule of a CronWorkflow, in place of the pipeline's own."),
    ] = None,
    namespace: Namespace = "argosy",
    image: Image = None,
    gpu_profiles: Annotated[
        Path | None,
        typer.Option(
            envvar="ARGOSY_GPU_PROFILES", help="YAML of GPU profiles ({gpuProfiles: ...})."
        ),
    ] = None,
    project: ProjectOption = None,
    tag: TagOption = None,
    production: ProductionOption = False,
) -> None:
    """Compile a pipeline to an Argo Workflow, WorkflowTemplate or CronWorkflow (YAML).

    Its runs are recorded as the current user's (``--production``: production's), with the
    project and tags given: the workflow carries them, so ``kubectl create -f`` keeps them.
    """
    from argosy.backends.argo import ClusterConfig, compile_pipeline, render_yaml
    from argosy.backends.argo.gpu import load_gpu_profiles
    from argosy.dsl import load_pipeline
    from argosy.images import default_image
    from argosy.launch import run_ownership

    definition = load_pipeline(pipeline)
    cluster = ClusterConfig(namespace=namespace, gpu_profiles=load_gpu_profiles(gpu_profiles))
    owned = run_ownership(
        definition, Settings(), project=project, tags=tag or [], production=production
    )
    workflow = compile_pipeline(
        definition,
        image=image or default_image(),
        kind=kind.value if kind else None,
        schedule=schedule,
        cluster=cluster,
        ownership=owned,
    )
    text = render_yaml(workflow)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text)
    steps = len(definition.ir.steps)
    kind_name = type(workflow).__name__
    results().print(f"compiled {definition.ir.name} ({steps} steps) as a {kind_name} to {output}")


def submit_command(
    pipeline: Annotated[str, typer.Argument(help="path/file.py, path/file.py:name or module:name")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE (JSON when it parses).")
    ] = None,
    namespace: Namespace = "argosy",
    watch: Annotated[bool, typer.Option("--watch", help="Stream progress until it ends.")] = False,
    image: Image = None,
    no_code_package: Annotated[
        bool, typer.Option("--no-code-package", help="Rely on the image for the pipeline code.")
    ] = False,
    kubeconfig: Kubeconfig = None,
    argo_server: ArgoServer = None,
    argo_token: ArgoToken = None,
    project: ProjectOption = None,
    tag: TagOption = None,
    production: ProductionOption = False,
    json_output: JsonFlag = False,
) -> None:
    """Submit a pipeline to Argo Workflows; with --watch, follow it to the end."""
    from argosy.backends.argo import submit_pipeline
    from argosy.dsl import load_pipeline
    from argosy.launch import run_ownership

    definition = load_pipeline(pipeline)
    params = definition.parse_params(param or [])
    settings = Settings()
    owned = run_ownership(
        definition, settings, project=project, tags=tag or [], production=production
    )
    handle = submit_pipeline(
        definition,
        params,
        settings,
        namespace=namespace,
        image=image,
        code_package=not no_code_package,
        api=_api(kubeconfig, argo_server, argo_token),
        ownership=owned,
    )
    results(json_output).print(
        f"submitted run [bold]{handle.run_id}[/] (workflow in namespace {namespace})"
    )
    final = None
    if watch:
        for final in _stream(handle.watch(), diagnostics()):  # noqa: B007
            pass
    if json_output:
        payload = {"run_id": handle.run_id, "workflow": handle.run_id, "namespace": namespace}
        print_json(payload | ({"status": final.run_status.value} if final else {}))
    if final is not None and final.phase != "Succeeded":
        raise ArgosyError(
            f"run {handle.run_id} {final.phase.lower()}: {final.message or 'see argosy status'}; "
            f"read a task's output with `argosy logs {handle.run_id} STEP`, rerun what did not "
            f"finish with `argosy resume {handle.run_id}`"
        )


def status_command(
    run_id: Annotated[
        str, typer.Argument(help="The run id (its Workflow's name), a prefix, or a pipeline name.")
    ],
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="Namespace (default: the run's, from metadata)."),
    ] = None,
    kubeconfig: Kubeconfig = None,
    argo_server: ArgoServer = None,
    argo_token: ArgoToken = None,
    json_output: JsonFlag = False,
) -> None:
    """Show a run's status and per-step progress: from Argo for a run on the cluster, from the
    metadata for a local one."""
    from argosy.backends.argo.watch import snapshot
    from argosy.cli.show import local_status

    recorded = _recorded_run(run_id)
    if recorded is not None and recorded.record.backend != "argo":
        local_status(recorded, json_output)
        return
    if recorded is not None:
        run_id, namespace = recorded.id, namespace or recorded.record.namespace
    current = snapshot(
        _api(kubeconfig, argo_server, argo_token).workflow(namespace or "argosy", run_id)
    )
    if json_output:
        print_json(_snapshot_json(current))
        return
    results().print(_table(current))


def finish_run_command(
    run_id: Annotated[str, typer.Option(help="The run (workflow name).")],
    status: Annotated[str, typer.Option(help="Argo's {{workflow.status}}.")],
    exit_statuses: Annotated[
        str | None,
        typer.Option(help="How each exit handler ended: NAME=PHASE,... ({{tasks.X.status}})."),
    ] = None,
) -> None:
    """Mark a run finished in metadata (a Workflow's onExit handler runs this), with a skipped
    record for each step no task of which ran."""
    from argosy.backends.argo.skipped import record_skipped
    from argosy.metadata import open_reader, open_sink
    from argosy.metadata.schemas import RunStatus, RunUpdate

    run_status = RunStatus(_ARGO_STATUS.get(status, "failed"))
    error = None if run_status is RunStatus.SUCCEEDED else f"workflow {status.lower()}"
    failed_exits = [
        name
        for name, _, phase in (item.partition("=") for item in (exit_statuses or "").split(","))
        if name and phase in ("Failed", "Error")
    ]
    if run_status is RunStatus.SUCCEEDED and failed_exits:
        run_status, error = RunStatus.FAILED, f"exit handler(s) failed: {', '.join(failed_exits)}"
    settings = Settings()
    update = RunUpdate(status=run_status, finished_at=datetime.now(UTC), error=error)
    try:
        record_skipped(open_reader(settings), open_sink(settings), run_id)
    except ArgosyError as error_:  # the run's end matters more than its skipped steps' records
        diagnostics().print(f"[yellow]cannot record the skipped steps: {error_}[/]")
    try:
        open_sink(settings).update_run(run_id, update)
    except NotFound:
        diagnostics().print(f"[yellow]run {run_id} is not in metadata; nothing to mark[/]")
        return
    except Conflict as error_:  # already finished otherwise: the handler must not fail the run
        diagnostics().print(f"[yellow]{error_}[/]")
        return
    diagnostics().print(f"run {run_id} marked {run_status.value}")


def _recorded_run(run_id: str) -> Run | None:
    """The run metadata recorded under this id (or prefix, or pipeline name); None if there is
    none (a Workflow created from compiled YAML may have no record)."""
    from argosy.client import Client

    try:
        return Client().run(run_id)
    except NotFound:
        return None


def _api(kubeconfig: Path | None, argo_server: str | None, token: str | None) -> WorkflowApi:
    from argosy.backends.argo.argo_server import ArgoServerApi
    from argosy.backends.argo.kube import KubeApi

    if argo_server:
        return ArgoServerApi(argo_server, token)
    return KubeApi.connect(kubeconfig)


def _stream(snapshots: Any, console: Console) -> Any:
    """Print each change of phase or of a step's counts as one line; pass the snapshots on."""
    seen: dict[str, StepProgress] = {}
    phase = None
    for current in snapshots:
        if current.phase != phase:
            phase = current.phase
            console.print(f"workflow {current.name}: {_phase(phase)}")
        for name, progress in current.steps.items():
            if progress.total and seen.get(name) != progress:
                seen[name] = progress
                console.print(f"  {name}: {_counts(progress)}")
        yield current


def _table(current: WorkflowSnapshot) -> Table:
    table = Table("step", "tasks", "succeeded", "failed", "running", "pending")
    table.title = f"{current.name}: {_phase(current.phase)}"
    for progress in current.steps.values():
        table.add_row(
            progress.step,
            str(progress.total),
            str(progress.succeeded),
            str(progress.failed),
            str(progress.running),
            str(progress.pending),
        )
    if current.message:
        table.caption = current.message
    return table


def _counts(progress: StepProgress) -> str:
    return (
        f"{progress.succeeded}/{progress.total} succeeded, {progress.failed} failed, "
        f"{progress.running} running"
    )


def _phase(phase: str) -> str:
    return f"[{_PHASE_STYLE.get(phase, 'dim')}]{phase}[/]"


def _snapshot_json(current: WorkflowSnapshot) -> dict[str, Any]:
    return {
        "run_id": current.name,
        "phase": current.phase,
        "status": current.run_status.value,
        "message": current.message,
        "steps": {
            name: {
                "total": p.total,
                "succeeded": p.succeeded,
                "failed": p.failed,
                "running": p.running,
            }
            for name, p in current.steps.items()
        },
    }


def register(app: typer.Typer) -> None:
    """Add ``compile``, ``submit``, ``status`` and the hidden ``finish-run`` to the CLI."""
    app.command("compile")(compile_command)
    app.command("submit")(submit_command)
    app.command("status")(status_command)
    app.command("finish-run", hidden=True)(finish_run_command)


__all__ = ["register"]
