"""Launching a pipeline from Python: run it here, submit it to Argo, or compile its workflow.

This layer sits above the backends, so the DSL never imports them: ``kmeans_sweep.run(...)``,
``.submit(...)`` and ``.compile()`` import this module when called (the DSL's one upward
import) and come here. The backends and the settings are imported on first use.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from argosy.errors import TaskFailed
from argosy.ownership import Ownership, resolve_ownership

if TYPE_CHECKING:
    from argosy.backends.argo import WorkflowHandle
    from argosy.client import Run
    from argosy.config import Settings
    from argosy.dsl import PipelineDefinition


def run_ownership(
    definition: PipelineDefinition,
    settings: Settings,
    *,
    project: str | None = None,
    tags: Iterable[str] = (),
    production: bool = False,
) -> Ownership:
    """The project, owner and tags a new run of ``definition`` gets (`resolve_ownership`):
    ``project`` over the pipeline's, the current user's or ``production``, ``tags``."""
    return resolve_ownership(
        definition.ir.project,
        user=settings.user,
        project=project,
        tags=tags,
        production=production,
    )


def run(
    definition: PipelineDefinition,
    *,
    settings: Settings | None = None,
    project: str | None = None,
    tags: Iterable[str] = (),
    production: bool = False,
    **params: Any,
) -> Run:
    """Run locally on a warm worker pool; the finished run (outputs, metrics, lineage).

    TaskFailed (naming the failed step and the resume command) when the run fails.
    """
    from argosy.backends.local import run_pipeline
    from argosy.client import Client
    from argosy.config import Settings

    settings = settings or Settings()
    result = run_pipeline(
        definition,
        definition.resolve_parameters(params),
        settings,
        progress=False,
        ownership=run_ownership(
            definition, settings, project=project, tags=tags, production=production
        ),
    )
    if not result.succeeded:
        step, failed = next(
            ((name, step) for name, step in result.steps.items() if step.failed),
            ("?", None),
        )
        error = failed.errors[0] if failed and failed.errors else result.status.value
        reason = error.strip().splitlines()[-1]  # the exception line, not the traceback
        raise TaskFailed(
            f"run {result.run_id} failed in step {step!r}: {reason}; "
            f"resume with: argosy resume {result.run_id}",
            run_id=result.run_id,
            step=step,
        )
    return Client(settings).run(result.run_id)


def submit(
    definition: PipelineDefinition,
    *,
    namespace: str = "argosy",
    settings: Settings | None = None,
    project: str | None = None,
    tags: Iterable[str] = (),
    production: bool = False,
    **params: Any,
) -> WorkflowHandle:
    """Submit to Argo Workflows through the Kubernetes API; a handle to the workflow."""
    from argosy.backends.argo import submit_pipeline
    from argosy.config import Settings

    settings = settings or Settings()
    return submit_pipeline(
        definition,
        definition.resolve_parameters(params),
        settings,
        namespace=namespace,
        ownership=run_ownership(
            definition, settings, project=project, tags=tags, production=production
        ),
    )


def compile(
    definition: PipelineDefinition,
    *,
    project: str | None = None,
    tags: Iterable[str] = (),
    production: bool = False,
    **options: Any,
) -> Any:
    """The Hera workflow (options of `argosy.backends.argo.compile_pipeline`).

    Its runs belong to ``project`` (default: the pipeline's), to the current user or to
    ``production``, with ``tags``. Steps that name no image run in the components image
    `argosy build` makes.
    """
    from argosy.backends.argo import compile_pipeline
    from argosy.config import Settings
    from argosy.images import default_image

    if options.get("image") is None:
        options["image"] = default_image()
    owned = run_ownership(definition, Settings(), project=project, tags=tags, production=production)
    return compile_pipeline(definition, ownership=owned, **options)


__all__ = ["compile", "run", "run_ownership", "submit"]
