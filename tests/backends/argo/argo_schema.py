"""Argo's own JSON schema, made strict, as the judge of every document we compile.

The schema is the one in Argo's Go module at the version the test cluster runs
(`tests.cluster.toolchain.argo_schema` downloads it into ``.tools/`` once).

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
from typing import Any

import jsonschema

from tests.cluster.toolchain import argo_schema

_PREFIX = "io.argoproj.workflow.v1alpha1."
KINDS = ("Workflow", "WorkflowTemplate", "CronWorkflow", "ClusterWorkflowTemplate")


@cache
def strict_schema() -> dict[str, Any]:
    """Argo's schema with both patches: ``$schema`` and the strict ``definitions``."""
    schema = json.loads(argo_schema().read_text())
    definitions = copy.deepcopy(schema["definitions"])
    definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["string", "integer"]}
    for definition in definitions.values():
        if "properties" in definition and "additionalProperties" not in definition:
            definition["additionalProperties"] = False
    return {"$schema": schema["$schema"], "definitions": definitions}


def validator(definition: str) -> jsonschema.protocols.Validator:
    """A strict validator of one definition of Argo's schema (its full name)."""
    root = {**strict_schema(), "$ref": f"#/definitions/{definition}"}
    return jsonschema.validators.validator_for(root)(root)


@cache
def _validators() -> dict[str, jsonschema.protocols.Validator]:
    return {kind: validator(f"{_PREFIX}{kind}") for kind in KINDS}


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


__all__ = ["assert_valid", "schema_errors", "strict_schema", "validator"]
