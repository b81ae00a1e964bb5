"""The chart lints and renders with helm 4 and helm 3 for every documented value set, and every
rendered object is a valid Kubernetes object for 1.33 and 1.35 (kubernetes-validate --strict)."""

from __future__ import annotations

import kubernetes_validate
import pytest

from tests.charts.chart import CHART, VALUE_SETS, ValueSet, helm, render

KUBERNETES_VERSIONS = ("1.33.0", "1.35.0")


@pytest.mark.parametrize("binary", ["helm", "helm3"])
@pytest.mark.parametrize("value_set", VALUE_SETS, ids=lambda v: v.name)
def test_lint_strict(binary: str, value_set: ValueSet) -> None:
    result = helm("lint", "--strict", str(CHART), *value_set.args(), binary=binary)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("value_set", VALUE_SETS, ids=lambda v: v.name)
def test_every_object_is_valid_kubernetes(value_set: ValueSet, version: str) -> None:
    objects = render(value_set)
    assert objects
    for obj in objects:
        where = f"{value_set.name}: {obj['kind']}/{obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError as error:  # our chart has no CRD kinds
            pytest.fail(f"{where}: no schema for Kubernetes {version}: {error}")
        except kubernetes_validate.ValidationError as error:
            at = "/".join(str(part) for part in error.path)
            pytest.fail(f"{where}: invalid for Kubernetes {version} at {at}: {error.message}")


def test_helm3_and_helm4_render_the_same_objects() -> None:
    rendered = {}
    for binary in ("helm", "helm3"):
        result = helm(
            "template",
            "argosy",
            str(CHART),
            "--namespace",
            "argosy",
            *VALUE_SETS[0].args(),
            "--set",
            "createSecrets=false",
            binary=binary,
        )
        assert result.returncode == 0, result.stderr
        rendered[binary] = result.stdout
    assert rendered["helm"] == rendered["helm3"]


@pytest.mark.parametrize("value_set", VALUE_SETS, ids=lambda v: v.name)
def test_notes_render_with_next_steps(value_set: ValueSet) -> None:
    # `helm template` skips NOTES.txt; helm 4 renders it offline (helm 3 wants a cluster).
    result = helm(
        *("install", "argosy", str(CHART), "--namespace", "argosy", "--dry-run=client"),
        *value_set.args(),
    )
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    for step in ("helm test argosy", "argo/argo-workflows", "ARGOSY_TOKEN", "argosy submit"):
        assert step in notes
