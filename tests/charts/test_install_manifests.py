"""manifests/install/ (the chart rendered for users without Helm) is current, valid, and
complete once manifests/install/secrets.sh has made the Secrets it leaves out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.charts.chart import BY_NAME, NAMESPACE, ROOT, render, tool
from tests.charts.references import Inventory, references

INSTALL = ROOT / "manifests" / "install"


def _tools_env() -> dict[str, str]:
    path = f"{tool('helm').parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "PYTHON": sys.executable}


@pytest.fixture(scope="module")
def installed() -> list[dict[str, Any]]:
    objects = [d for d in yaml.safe_load_all((INSTALL / "argosy.yaml").read_text()) if d]
    secrets = subprocess.run(
        ["sh", str(INSTALL / "secrets.sh")],
        env=_tools_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return objects + [d for d in yaml.safe_load_all(secrets) if d]


def test_install_manifests_are_current(tmp_path: Path) -> None:
    fresh = tmp_path / "argosy.yaml"
    result = subprocess.run(
        [str(ROOT / "charts" / "render-install.sh"), str(fresh)],
        env=_tools_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (INSTALL / "argosy.yaml").read_text() == fresh.read_text(), (
        "manifests/install/argosy.yaml is stale (the chart changed, or platform/argosy did and "
        "with it the argosy/base tag): run charts/render-install.sh"
    )


def test_install_manifests_leave_out_only_secrets_and_the_helm_test() -> None:
    chart = {(o["kind"], o["metadata"]["name"]) for o in render(BY_NAME["defaults"])}
    installed = {
        (d["kind"], d["metadata"]["name"])
        for d in yaml.safe_load_all((INSTALL / "argosy.yaml").read_text())
        if d
    }
    left_out = chart - installed
    assert {kind for kind, _ in left_out} == {"Secret", "Pod"}
    assert installed <= chart


def test_secrets_script_makes_what_the_chart_would(installed: list[dict[str, Any]]) -> None:
    made = {
        d["metadata"]["name"]: (set(d["data"]), d["metadata"]["namespace"])
        for d in installed
        if d["kind"] == "Secret"
    }
    chart = {
        o["metadata"]["name"]: (set(o["stringData"]), NAMESPACE)
        for o in render(BY_NAME["defaults"])
        if o["kind"] == "Secret"
    }
    assert made == chart


def test_installed_objects_resolve_and_validate(installed: list[dict[str, Any]]) -> None:
    inventory = Inventory(installed, NAMESPACE)
    problems = [
        f"{o['kind']}/{o['metadata']['name']}{ref.where}: {why}"
        for o in installed
        for ref in references(o)
        if (why := inventory.dangling(ref))
    ]
    assert not problems
    for obj in installed:
        assert obj["metadata"]["namespace"] == NAMESPACE
        for version in ("1.33.0", "1.35.0"):
            kubernetes_validate.validate(obj, version, strict=True)
