"""Argo's own JSON schema (v4.1.2), made strict, as the judge of every document we compile.

Two patches, both from TOOLING.md: ``IntOrString`` is declared string-only upstream, so it
accepts integers too; and every object definition with ``properties`` gets
``additionalProperties: false``, so a misspelt or unknown field (which Hera would drop or Argo
would ignore) fails validation. The top-level ``oneOf`` is resolved by ``kind`` to get errors
that name the field at fault.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = (
    Path(__file__).resolve().parents[4] / "shared" / "schemas" / "argo-workflows-v4.1.2.schema.json"
)
"""The project's shared folder lies beside the repository, in a checkout as in CI."""
_PREFIX = "io.argoproj.workflow.v1alpha1."
KINDS = ("Workflow", "WorkflowTemplate", "CronWorkflow", "ClusterWorkflowTemplate")


@cache
def _validators() -> dict[str, jsonschema.protocols.Validator]:
    schema = json.loads(SCHEMA_PATH.read_text())
    definitions = copy.deepcopy(schema["definitions"])
    definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["string", "integer"]}
    for definition in definitions.values():
        if "properties" in definition and "additionalProperties" not in definition:
            definition["additionalProperties"] = False
    validators = {}
    for kind in KINDS:
        root = {
            "$schema": schema["$schema"],
            "definitions": definitions,
            "$ref": f"#/definitions/{_PREFIX}{kind}",
        }
        cls = jsonschema.validators.validator_for(root)
        validators[kind] = cls(root)
    return validators


def schema_errors(document: dict[str, Any]) -> list[str]:
    """Every strict-schema error in one Argo document, as ``path: message`` lines."""
    kind = document.get("kind")
    if kind not in KINDS:
        return [f"kind: {kind!r} is not one of {', '.join(KINDS)}"]
    errors = sorted(_validators()[kind].iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(str(p) for p in error.absolute_path)}: {error.message}" for error in errors]


def assert_valid(document: dict[str, Any]) -> None:
    """Fail the test with every schema error of ``document``."""
    errors = schema_errors(document)
    assert not errors, "not a valid Argo document:\n" + "\n".join(errors)


__all__ = ["SCHEMA_PATH", "assert_valid", "schema_errors"]
