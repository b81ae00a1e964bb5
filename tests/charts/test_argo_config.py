"""What this repository hands Argo besides workflows passes Argo's own schema (strict:
unknown fields rejected): the chart's `artifact-repositories` ConfigMap, and the artifact
repository and workflow defaults in charts/argo-workflows-values.yaml."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
import pytest
import yaml

from tests.backends.argo.argo_schema import schema_errors, validator
from tests.charts.chart import BY_NAME, CHARTS, find, render

REPOSITORY = "io.argoproj.workflow.v1alpha1.ArtifactRepository"


@cache
def _repository_validator() -> jsonschema.protocols.Validator:
    return validator(REPOSITORY)


def _repository_errors(repository: dict[str, Any]) -> list[str]:
    errors = _repository_validator().iter_errors(repository)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


@pytest.mark.parametrize("value_set", ["defaults", "external-s3"])
def test_the_artifact_repository_configmap_is_an_argo_artifact_repository(value_set: str) -> None:
    config = find(render(BY_NAME[value_set]), "ConfigMap", "artifact-repositories")
    key = config["metadata"]["annotations"]["workflows.argoproj.io/default-artifact-repository"]
    repository = yaml.safe_load(config["data"][key])
    assert repository["s3"]["bucket"]
    assert not _repository_errors(repository)


def test_a_misspelt_repository_field_is_caught() -> None:
    assert _repository_errors({"s3": {"bucket": "argosy", "endpiont": "x:9000"}})


def test_argo_values_hand_argo_a_valid_repository_and_workflow_defaults() -> None:
    values = yaml.safe_load((CHARTS / "argo-workflows-values.yaml").read_text())
    assert not _repository_errors(values["artifactRepository"])
    defaults = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "workflow-defaults"},
        **values["controller"]["workflowDefaults"],
    }
    assert not schema_errors(defaults)
