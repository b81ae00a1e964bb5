"""``argosy schedule``: put a pipeline's schedule on the cluster as a CronWorkflow, or take it off.

Thin: loads the pipeline, calls `argosy.backends.argo.schedule`, and says what was done (created,
updated or deleted, the schedule, and the next start) on stderr, or as one JSON object on stdout
with ``--json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from argosy.cli.argo import Image, JsonFlag, Kubeconfig, Namespace
from argosy.cli.console import print_json, results
from argosy.config import Settings
from argosy.errors import ArgosyError

if TYPE_CHECKING:  # hera and kubernetes are imported when the command runs
    from argosy.backends.argo.schedule import ScheduleChange


def schedule_command(
    pipeline: Annotated[str, typer.Argument(help="path/file.py, path/file.py:name or module:name")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="NAME=VALUE for every run it starts (JSON if it parses)."
        ),
    ] = None,
    schedule: Annotated[
        str | None, typer.Option(help="Cron schedule in place of the pipeline's own.")
    ] = None,
    delete: Annotated[
        bool, typer.Option("--delete", help="Delete the CronWorkflow: no run starts any more.")
    ] = False,
    namespace: Namespace = "argosy",
    image: Image = None,
    no_code_package: Annotated[
        bool, typer.Option("--no-code-package", help="Rely on the image for the pipeline code.")
    ] = False,
    kubeconfig: Kubeconfig = None,
    json_output: JsonFlag = False,
) -> None:
    """Create or update the pipeline's CronWorkflow on the cluster (--delete: remove it)."""
    from argosy.backends.argo.kube import KubeApi
    from argosy.backends.argo.schedule import schedule_pipeline, unschedule_pipeline
    from argosy.dsl import load_pipeline

    definition = load_pipeline(pipeline)
    if delete:
        if param or schedule:
            raise ArgosyError("--delete takes no --param or --schedule: it only removes")
        change = unschedule_pipeline(
            definition, namespace=namespace, api=KubeApi.connect(kubeconfig)
        )
    else:
        change = schedule_pipeline(
            definition,
            definition.parse_params(param or []),
            Settings(),
            namespace=namespace,
            schedule=schedule,
            image=image,
            code_package=not no_code_package,
            api=KubeApi.connect(kubeconfig),
        )
    console = results(json_output)
    where = f"CronWorkflow {change.name} in namespace {change.namespace}"
    if change.schedule is None:
        console.print(f"deleted {where}; the runs it started stay")
    else:
        when = " or ".join(change.schedule.crons)
        console.print(
            f"{change.action} {where}: {when} ({change.schedule.timezone}), "
            f"concurrency {change.schedule.concurrency}"
        )
        if change.next_time is not None:
            console.print(f"next run at {change.next_time.isoformat()}")
    if json_output:
        print_json(_change_json(change))


def _change_json(change: ScheduleChange) -> dict[str, Any]:
    return {
        "action": change.action,
        "name": change.name,
        "namespace": change.namespace,
        "schedule": change.schedule.model_dump(mode="json") if change.schedule else None,
        "next_time": change.next_time.isoformat() if change.next_time else None,
    }


def register(app: typer.Typer) -> None:
    app.command("schedule")(schedule_command)


__all__ = ["register"]
