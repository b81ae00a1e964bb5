"""Rendering charts/argosy with the real helm binary, and the value sets the README documents.

helm (v4), helm3, kubectl and shellcheck come from the tools dir `.ci/install-tools.sh` fills
($ARGOSY_TOOLS_DIR, default ~/.cache/argosy-tools). The tests run that script once per session:
it is idempotent and takes a fraction of a second when the tools are there, so a machine
without helm installs it instead of skipping the tests.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "argosy"
CHARTS = ROOT / "charts"
NAMESPACE = "argosy"
TEST_TAG = "0123abcd4567"
"""The image tag tests render with (`argosy build` prints the real one, the recommended value)."""


@dataclass(frozen=True)
class ValueSet:
    """One documented way to install the chart: values files and --set flags."""

    name: str
    files: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    """``key=value`` pairs for ``--set``."""

    def args(self) -> list[str]:
        args = [arg for file in self.files for arg in ("-f", str(CHARTS / file))]
        sets = (f"image.tag={TEST_TAG}", *self.sets)
        return args + [arg for pair in sets for arg in ("--set", pair)]


VALUE_SETS = (
    ValueSet("defaults"),
    ValueSet(
        "external-database",
        sets=(
            "postgres.enabled=false",
            "externalDatabase.url=postgresql+psycopg://argosy:pw@db.example.com:5432/argosy",
        ),
    ),
    ValueSet(
        "external-database-secret",
        sets=("postgres.enabled=false", "externalDatabase.existingSecret=my-database"),
    ),
    ValueSet(
        "external-s3",
        sets=(
            "minio.enabled=false",
            "s3.endpoint=s3.eu-west-1.amazonaws.com:443",
            "s3.region=eu-west-1",
            "s3.bucket=team-artifacts",
            "s3.accessKey=AKIAEXAMPLE",
            "s3.secretKey=example-secret",
        ),
    ),
    ValueSet("gpu-profiles", files=("gpu-profiles-kind.yaml",)),
    ValueSet("anonymous-reads", sets=("metadata.anonymousReads=true",)),
    ValueSet("own-secrets", sets=("createSecrets=false",)),
    ValueSet("kind", files=("kind-values.yaml", "gpu-profiles-kind.yaml")),
)
"""Every option charts/argosy/README.md documents, each rendered and validated by the tests."""

BY_NAME = {value_set.name: value_set for value_set in VALUE_SETS}


TOOLS = Path(os.environ.get("ARGOSY_TOOLS_DIR", Path.home() / ".cache" / "argosy-tools"))


@cache
def tool(name: str) -> Path:
    """A binary of the tools dir: helm (v4), helm3, kubectl or shellcheck."""
    _install_tools()
    path = TOOLS / "bin" / name
    assert path.exists(), f"{path} is missing after .ci/install-tools.sh"
    return path


@cache
def _install_tools() -> None:
    result = subprocess.run(
        [str(ROOT / ".ci" / "install-tools.sh"), str(TOOLS)], capture_output=True, text=True
    )
    assert result.returncode == 0, f".ci/install-tools.sh failed:\n{result.stderr}"


def helm(*args: str, binary: str = "helm") -> subprocess.CompletedProcess[str]:
    """Run helm (or helm3) with its cache, config and data in a scratch dir, not ~."""
    home = Path(os.environ.get("TMPDIR", "/tmp")) / "argosy-helm-home"
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    return subprocess.run([str(tool(binary)), *args], capture_output=True, text=True, env=env)


@cache
def render_text(value_set: ValueSet, *extra: str) -> str:
    """`helm template argosy charts/argosy -n argosy` of a value set; AssertionError on failure."""
    result = helm(
        "template", "argosy", str(CHART), "--namespace", NAMESPACE, *value_set.args(), *extra
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(value_set: ValueSet, *extra: str) -> list[dict[str, Any]]:
    """The rendered objects of a value set (tests included)."""
    return [doc for doc in yaml.safe_load_all(render_text(value_set, *extra)) if doc]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of a kind and name; AssertionError naming what is there otherwise."""
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    names = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
    assert len(matches) == 1, f"{kind}/{name} not rendered exactly once; rendered: {names}"
    return matches[0]


def has(objects: list[dict[str, Any]], kind: str, name: str) -> bool:
    return any(o["kind"] == kind and o["metadata"]["name"] == name for o in objects)


__all__ = [
    "BY_NAME",
    "CHART",
    "CHARTS",
    "NAMESPACE",
    "ROOT",
    "TEST_TAG",
    "VALUE_SETS",
    "ValueSet",
    "find",
    "has",
    "helm",
    "render",
    "render_text",
    "tool",
]
