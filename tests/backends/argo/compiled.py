"""Compiled pipelines as the tests read them: the manifest (checked against Argo's schema on
the way), its templates by name, a DAG's tasks by name, a task's arguments."""

from __future__ import annotations

from typing import Any

from argosy.backends.argo.compiler import compile_pipeline
from argosy.dsl import PipelineDefinition
from tests.backends.argo.argo_schema import assert_valid

IMAGE = "argosy/base:abc"


def document(definition: PipelineDefinition) -> dict[str, Any]:
    """The compiled manifest, valid against Argo's schema."""
    compiled = compile_pipeline(definition, image=IMAGE).to_dict()
    assert_valid(compiled)
    return compiled


def templates(compiled: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {template["name"]: template for template in compiled["spec"]["templates"]}


def tasks(compiled: dict[str, Any], dag: str = "main") -> dict[str, dict[str, Any]]:
    """The tasks of DAG template ``dag``, by name."""
    return {task["name"]: task for task in templates(compiled)[dag]["dag"]["tasks"]}


def arguments(task: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in task.get("arguments", {}).get("parameters", [])}


__all__ = ["IMAGE", "arguments", "document", "tasks", "templates"]
