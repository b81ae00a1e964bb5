"""The user API for writing pipelines: ``@step``, ``@pipeline``, ``Resources``, ``.map()``,
``when`` (conditions), ``one_of`` (the join after branches), ``run_status`` (exit handlers),
``each`` (a field of each mapped item) and ``importer`` (outside data).

It builds `argosy.ir.Pipeline` objects and knows nothing about Kubernetes, files or databases.
"""

from argosy.dsl.flow import one_of, run_status, when
from argosy.dsl.imports import importer
from argosy.dsl.items import each
from argosy.dsl.loader import load_pipeline
from argosy.dsl.pipeline import PipelineDefinition, pipeline
from argosy.dsl.step import Step, step
from argosy.ir import Resources, Retry

__all__ = [
    "PipelineDefinition",
    "Resources",
    "Retry",
    "Step",
    "each",
    "importer",
    "load_pipeline",
    "one_of",
    "pipeline",
    "run_status",
    "step",
    "when",
]
