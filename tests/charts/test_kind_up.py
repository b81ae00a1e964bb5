"""charts/kind-up.sh cannot run here (no Docker engine, no cluster): it is linted, the README
shows the same commands, and each of its steps is checked against what it relies on: the kind
config, the rendered chart, Argo's values, the argosy CLI and the example pipeline."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.charts.chart import CHART, CHARTS, NAMESPACE, ROOT, ValueSet, find, helm, render, tool
from tests.charts.references import Inventory, workflow_containers, workflow_spec

SCRIPTS = [
    ROOT / ".ci" / "install-tools.sh",
    CHARTS / "kind-up.sh",
    CHARTS / "render-install.sh",
    ROOT / "manifests" / "install" / "secrets.sh",
]
KIND_UP = CHARTS / "kind-up.sh"
COMMAND = re.compile(r"^(?:\w+=\"\$\()?(?:kind|kubectl|helm|argosy|python3 -c)\b")
"""Lines the script and the README must agree on: cluster, chart and CLI commands."""


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck(script: Path) -> None:
    result = subprocess.run(
        [str(tool("shellcheck")), "--severity=style", str(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def _logical_lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\\\n", " ").splitlines()]


def _script_variables() -> dict[str, str]:
    """The script's settings with their defaults: `name=value` or `name="${ENV:-value}"`."""
    variables = {}
    for line in _logical_lines(KIND_UP.read_text()):
        match = re.fullmatch(r'(\w+)=(?:"\$\{\w+:-([^}]*)\}"|([\w./-]+))', line)
        if match:
            variables[match[1]] = match[2] if match[2] is not None else match[3]
    return variables


def _script_commands() -> list[str]:
    variables = _script_variables()
    commands = []
    for line in _logical_lines(KIND_UP.read_text()):
        for name, value in variables.items():
            line = re.sub(rf"\$\{{{name}\}}|\${name}\b", value, line)
        if COMMAND.match(line):
            commands.append(shlex.join(shlex.split(line)))
    return commands


def _readme_commands() -> list[str]:
    text = (CHART / "README.md").read_text()
    section = text.split("## Chart options")[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [
        shlex.join(shlex.split(line))
        for block in blocks
        for line in _logical_lines(block)
        if COMMAND.match(line)
    ]


def test_the_readme_shows_the_commands_the_script_runs() -> None:
    script = _script_commands()
    assert len(script) >= 12
    assert _readme_commands() == script


def _args_after(prefix: str) -> list[str]:
    line = next(c for c in _script_commands() if c.startswith(prefix))
    return shlex.split(line)[len(shlex.split(prefix)) :]


def _option(args: list[str], name: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == name]


@pytest.fixture(scope="module")
def installed() -> list[dict[str, Any]]:
    """The chart rendered with the exact arguments of the script's `helm upgrade --install`."""
    args = _args_after("helm upgrade --install argosy charts/argosy")
    assert _option(args, "--namespace") == [NAMESPACE]
    files = tuple(Path(f).name for f in _option(args, "-f"))
    sets = tuple(s for s in _option(args, "--set") if not s.startswith("image.tag="))
    assert any(s.startswith("image.tag=") for s in _option(args, "--set"))
    return render(ValueSet("kind-up", files=files, sets=sets))


def test_the_cluster_step_matches_kind_config() -> None:
    variables = _script_variables()
    kind = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    assert kind["kind"] == "Cluster" and kind["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    create = next(c for c in _script_commands() if c.startswith("kind create cluster"))
    assert f"--name {variables['cluster']}" in create and "--config kind-config.yaml" in create
    assert f"kubectl config use-context kind-{variables['cluster']}" in _script_commands()


def test_the_fake_gpu_goes_to_the_one_gpu_worker_the_profile_selects() -> None:
    kind = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    command = next(c for c in _script_commands() if "get nodes -l" in c)
    label = re.search(r"-l (\S+)=(\S+)", command)
    assert label
    gpu_nodes = [n for n in kind["nodes"] if n.get("labels", {}).get(label[1]) == label[2]]
    assert len(gpu_nodes) == 1 and gpu_nodes[0]["role"] == "worker"
    patch = next(c for c in _script_commands() if c.startswith("kubectl patch node"))
    (operation,) = yaml.safe_load(shlex.split(patch)[shlex.split(patch).index("-p") + 1])
    resource = operation["path"].removeprefix("/status/capacity/").replace("~1", "/")
    profiles = yaml.safe_load((CHARTS / "gpu-profiles-kind.yaml").read_text())["gpuProfiles"]
    assert {p["resource"] for p in profiles.values()} == {resource}
    assert all(p["nodeSelector"] == {label[1]: label[2]} for p in profiles.values())


def test_the_images_step_uses_what_argosy_build_offers() -> None:
    from typer.main import get_command

    from argosy.cli import app
    from argosy.images import IMAGES, default_image, reference

    commands = get_command(app).commands  # type: ignore[attr-defined]
    build = next(c for c in _script_commands() if c.startswith("argosy build"))
    options = {opt for param in commands["build"].params for opt in param.opts}
    assert {a for a in shlex.split(build) if a.startswith("--")} <= options
    assert reference("base").startswith(f"{IMAGES['base'].repository}:")
    assert default_image().rpartition(":")[0] in {i.repository for i in IMAGES.values()}


def test_the_argosy_step_installs_what_the_later_steps_read(
    installed: list[dict[str, Any]],
) -> None:
    inventory = Inventory(installed, NAMESPACE)
    find(installed, "Pod", "argosy-test-platform")  # `helm test` has a test to run
    read = [
        (secret, key)
        for command in _script_commands()
        for secret, key in re.findall(r"get secret (\S+) -o \S*\{\.data\.([\w-]+)\}", command)
    ]
    assert len(read) == 3
    for secret, key in read:
        assert key in inventory.keys("Secret", secret), f"{secret} {key}"
    kind = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    mappings = {
        m["hostPort"]: m["containerPort"]
        for n in kind["nodes"]
        for m in n.get("extraPortMappings", [])
    }
    exports = dict(
        pair.split("=", 1)
        for command in _script_commands_with_exports()
        for pair in shlex.split(command)[1:]
        if "=" in pair
    )
    for variable, service in [
        ("ARGOSY_METADATA_URL", "argosy-metadata"),
        ("ARGOSY_S3_ENDPOINT", "argosy-minio"),
    ]:
        host_port = int(exports[variable].rsplit(":", 1)[1])
        node_ports = [p["nodePort"] for p in inventory.named("Service")[service]["spec"]["ports"]]
        assert mappings[host_port] in node_ports, f"{variable}: host port {host_port}"
    config = inventory.named("ConfigMap")["artifact-repositories"]
    repository = yaml.safe_load(config["data"]["default-v1"])
    assert exports["ARGOSY_S3_BUCKET"] == repository["s3"]["bucket"]
    assert exports["ARGOSY_S3_SECURE"] == "false"
    assert (ROOT / exports["ARGOSY_GPU_PROFILES"]).is_file()


def _script_commands_with_exports() -> list[str]:
    return [line for line in _logical_lines(KIND_UP.read_text()) if line.startswith("export ")]


def test_the_argo_step_installs_the_official_chart_with_our_values() -> None:
    variables = _script_variables()
    args = _args_after("helm upgrade --install argo-workflows argo/argo-workflows")
    assert _option(args, "--version") == [variables["argo_chart_version"]]
    assert _option(args, "--namespace") == [NAMESPACE]
    (values,) = _option(args, "-f")
    assert (ROOT / values).is_file()
    repo = next(c for c in _script_commands() if c.startswith("helm repo add argo "))
    assert "https://argoproj.github.io/argo-helm" in repo


def test_the_submit_step_compiles_against_the_installed_chart(
    installed: list[dict[str, Any]],
) -> None:
    from typer.main import get_command

    from argosy.backends.argo import ClusterConfig, compile_pipeline
    from argosy.backends.argo.gpu import load_gpu_profiles
    from argosy.cli import app
    from argosy.dsl import load_pipeline
    from argosy.images import default_image

    submit = next(c for c in _script_commands() if c.startswith("argosy submit"))
    pipeline = shlex.split(submit)[2]
    commands = get_command(app).commands  # type: ignore[attr-defined]
    options = {opt for param in commands["submit"].params for opt in param.opts}
    assert {a for a in shlex.split(submit) if a.startswith("--")} <= options
    definition = load_pipeline(str(ROOT / pipeline))
    cluster = ClusterConfig(gpu_profiles=load_gpu_profiles(CHARTS / "gpu-profiles-kind.yaml"))
    workflow = compile_pipeline(definition, image=default_image(), cluster=cluster).to_dict()
    inventory = Inventory(installed, NAMESPACE)
    assert workflow["spec"]["serviceAccountName"] in inventory.named("ServiceAccount")
    containers = workflow_containers(workflow_spec(workflow))
    assert containers
    for _, container in containers:
        env = {e["name"]: e.get("value") for e in container["env"]}
        inventory.service_port(env["ARGOSY_METADATA_URL"])
        inventory.service_port(env["ARGOSY_S3_ENDPOINT"])


def test_helm_lint_passes_with_the_scripts_arguments() -> None:
    args = _args_after("helm upgrade --install argosy charts/argosy")
    files = [a for f in _option(args, "-f") for a in ("-f", str(ROOT / f))]
    result = helm("lint", "--strict", str(CHART), *files, "--set", "image.tag=0123abcd")
    assert result.returncode == 0, result.stdout
