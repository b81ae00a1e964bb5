"""No dangling references between the chart, the compiled workflows, Argo's values and kind.

The chart is rendered as `charts/kind-up.sh` installs it (kind values and GPU profiles). The
workflows are every golden file in manifests/workflows/ plus one compiled here with a GPU step
and a dynamic fan-out, so the check bites even before the golden files exist. A compiled
workflow must find, in the chart: its service account with the RBAC the Argo executor needs,
every Secret and key, ConfigMap and key, PVC, the artifact repository, the Services and ports
behind the metadata URL and S3 endpoint it carries, its GPU profile, and images named as
`argosy build` names them.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from argosy.images import IMAGES
from tests.charts.chart import BY_NAME, CHARTS, NAMESPACE, ROOT, TEST_TAG, find, render
from tests.charts.references import (
    Inventory,
    pod_specs,
    references,
    workflow_containers,
    workflow_spec,
)

BUILT_IMAGES = {image.repository for image in IMAGES.values()}
"""Repositories `argosy build` produces."""
EXECUTOR_PERMISSIONS = {("argoproj.io", "workflowtaskresults", v) for v in ("create", "patch")}
"""What the Argo executor (emissary, Argo >= 3.4) needs of the workflow service account."""
ARGO_KINDS = ("Workflow", "WorkflowTemplate", "CronWorkflow")
GOLDEN = sorted((ROOT / "manifests" / "workflows").glob("*.yaml"))


@pytest.fixture(scope="module")
def chart() -> Inventory:
    return Inventory(render(BY_NAME["kind"]), NAMESPACE)


def _compiled_here() -> list[dict[str, Any]]:
    from argosy import ir
    from argosy.backends.argo import ClusterConfig, compile_pipeline
    from argosy.backends.argo.gpu import load_gpu_profiles

    def step(name: str, inputs: dict[str, ir.Input], **fields: Any) -> ir.Step:
        return ir.Step(
            name=name, function=f"flow:{name}", code_digest="0" * 64, inputs=inputs, **fields
        )

    pipeline = ir.Pipeline(
        name="consistency",
        parameters=[ir.Parameter(name="n", default=10)],
        steps=[
            step("numbers", {"n": ir.ParameterInput(name="n")}),
            step("square", {"x": ir.OutputInput(step="numbers")}, mapped="x"),
            step(
                "embed",
                {"x": ir.OutputInput(step="numbers")},
                resources=ir.Resources(gpu=1, gpu_type="a100"),
            ),
            step("total", {"xs": ir.FanInInput(step="square"), "e": ir.OutputInput(step="embed")}),
        ],
    )
    cluster = ClusterConfig(gpu_profiles=load_gpu_profiles(CHARTS / "gpu-profiles-kind.yaml"))
    workflow = compile_pipeline(
        pipeline, ref="flow.py", image=f"argosy/base:{TEST_TAG}", cluster=cluster
    )
    return [workflow.to_dict()]


def _workflows() -> list[tuple[str, dict[str, Any]]]:
    found = [
        (f"{path.name}#{index}", doc)
        for path in GOLDEN
        for index, doc in enumerate(yaml.safe_load_all(path.read_text()))
        if doc and doc.get("kind") in ARGO_KINDS
    ]
    return found + [("compiled-here", doc) for doc in _compiled_here()]


WORKFLOWS = _workflows()


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def _artifact_repository(chart: Inventory) -> dict[str, Any]:
    config = chart.named("ConfigMap")["artifact-repositories"]
    key = config["metadata"]["annotations"]["workflows.argoproj.io/default-artifact-repository"]
    assert key in config["data"], f"default artifact repository {key!r} is not a key"
    return yaml.safe_load(config["data"][key])


# --- the chart on its own -----------------------------------------------------------------


@pytest.mark.parametrize("value_set", ["defaults", "kind", "gpu-profiles", "external-s3"])
def test_chart_references_resolve_within_the_chart(value_set: str) -> None:
    chart = Inventory(render(BY_NAME[value_set]), NAMESPACE)
    problems = [
        f"{o['kind']}/{o['metadata']['name']}{ref.where}: {why}"
        for o in chart.objects
        for ref in references(o)
        if (why := chart.dangling(ref))
    ]
    assert not problems


def test_every_service_selects_pods_that_serve_its_ports(chart: Inventory) -> None:
    for service in chart.named("Service").values():
        backends = chart.backends(service)
        assert backends, f"Service {service['metadata']['name']} selects no pods"
        for backend in backends:
            ports = {
                port.get("name"): port["containerPort"]
                for spec in pod_specs(backend)
                for container in spec["containers"]
                for port in container.get("ports", [])
            }
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                assert target in ports or target in ports.values(), (
                    f"Service {service['metadata']['name']} targets {target}, "
                    f"{backend['metadata']['name']} serves {ports}"
                )


def test_probes_and_statefulsets_name_what_exists(chart: Inventory) -> None:
    services = chart.named("Service")
    for obj in chart.objects:
        if obj["kind"] == "StatefulSet":
            assert obj["spec"]["serviceName"] in services
        for spec in pod_specs(obj):
            for container in spec.get("initContainers", []) + spec["containers"]:
                names = {p["name"] for p in container.get("ports", [])}
                for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                    port = container.get(probe, {}).get("httpGet", {}).get("port")
                    assert port is None or port in names, f"{container['name']} {probe} {port}"
                for mount in container.get("volumeMounts", []):
                    volumes = {v["name"] for v in spec.get("volumes", [])} | {
                        t["metadata"]["name"]
                        for t in obj.get("spec", {}).get("volumeClaimTemplates", [])
                    }
                    assert mount["name"] in volumes, f"{container['name']} mounts {mount['name']}"


def test_the_metadata_database_url_reaches_postgres(chart: Inventory) -> None:
    deployment = chart.named("Deployment")["argosy-metadata"]
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    service, _ = chart.service_port(env["ARGOSY_DATABASE_URL"]["value"])
    assert service["metadata"]["name"] == "argosy-postgres"
    initdb = chart.named("ConfigMap")["argosy-postgres-initdb"]["data"]
    assert any("CREATE DATABASE argo " in sql for sql in initdb.values())


# --- compiled workflows against the chart -------------------------------------------------


@pytest.mark.parametrize(("name", "workflow"), WORKFLOWS, ids=[n for n, _ in WORKFLOWS])
def test_workflow_references_resolve_in_the_chart(
    chart: Inventory, name: str, workflow: dict[str, Any]
) -> None:
    problems = [
        f"{ref.where}: {why}" for ref in references(workflow) if (why := chart.dangling(ref))
    ]
    assert not problems
    spec = workflow_spec(workflow)
    assert spec.get("serviceAccountName") in chart.named("ServiceAccount")
    assert workflow["metadata"].get("namespace", NAMESPACE) == NAMESPACE
    if "artifactRepositoryRef" not in spec:  # Argo takes the namespace's annotated default
        _artifact_repository(chart)


@pytest.mark.parametrize(("name", "workflow"), WORKFLOWS, ids=[n for n, _ in WORKFLOWS])
def test_workflow_service_account_has_the_rbac_it_needs(
    chart: Inventory, name: str, workflow: dict[str, Any]
) -> None:
    spec = workflow_spec(workflow)
    needed = set(EXECUTOR_PERMISSIONS)
    for template in spec.get("templates", []):
        if "resource" in template:  # a resource template acts on the API as the workflow
            manifest = yaml.safe_load(template["resource"]["manifest"])
            group = manifest["apiVersion"].rpartition("/")[0]
            resource = manifest["kind"].lower() + "s"
            needed.add((group, resource, template["resource"]["action"]))
    missing = needed - chart.granted(spec["serviceAccountName"])
    assert not missing, f"{spec['serviceAccountName']} lacks {sorted(missing)}"


@pytest.mark.parametrize(("name", "workflow"), WORKFLOWS, ids=[n for n, _ in WORKFLOWS])
def test_workflow_endpoints_images_and_bucket_match_the_chart(
    chart: Inventory, name: str, workflow: dict[str, Any]
) -> None:
    repository = _artifact_repository(chart)["s3"]
    containers = workflow_containers(workflow_spec(workflow))
    assert containers
    for template, container in containers:
        env = _env(container)
        service, _ = chart.service_port(env["ARGOSY_METADATA_URL"])
        assert service["metadata"]["name"] == "argosy-metadata"
        service, _ = chart.service_port(env["ARGOSY_S3_ENDPOINT"])
        assert service["metadata"]["name"] == "argosy-minio"
        assert env["ARGOSY_S3_ENDPOINT"] == repository["endpoint"]
        assert env["ARGOSY_S3_BUCKET"] == repository["bucket"]
        assert (env["ARGOSY_S3_SECURE"] == "false") == repository["insecure"]
        image, _, tag = container["image"].rpartition(":")
        assert image in BUILT_IMAGES, f"{template['name']}: {image} is not built by argosy build"
        assert tag and tag != "latest", f"{template['name']}: image {container['image']}"
        assert container.get("imagePullPolicy") == "IfNotPresent"
        assert container.get("command"), f"{template['name']} sets no command"


@pytest.mark.parametrize(("name", "workflow"), WORKFLOWS, ids=[n for n, _ in WORKFLOWS])
def test_gpu_templates_use_a_chart_profile_that_a_kind_node_satisfies(
    chart: Inventory, name: str, workflow: dict[str, Any]
) -> None:
    profiles = yaml.safe_load(
        chart.named("ConfigMap")["argosy-gpu-profiles"]["data"]["profiles.yaml"]
    )
    nodes = yaml.safe_load((ROOT / "kind-config.yaml").read_text())["nodes"]
    gpu_templates = 0
    for template, container in workflow_containers(workflow_spec(workflow)):
        limits = container.get("resources", {}).get("limits", {})
        resources = {p["resource"] for p in profiles["gpuProfiles"].values()}
        if not resources & set(limits):
            continue
        placement = {
            "nodeSelector": template.get("nodeSelector", {}),
            "tolerations": template.get("tolerations", []),
        }
        gpu_templates += 1
        profile_placements = [
            {"nodeSelector": p.get("nodeSelector", {}), "tolerations": p.get("tolerations", [])}
            for p in profiles["gpuProfiles"].values()
        ]
        assert placement in profile_placements, (
            f"{template['name']} asks for a GPU with node selector and tolerations {placement}, "
            "which are no profile of argosy-gpu-profiles: on a cluster whose GPU nodes are "
            "tainted (kind-config.yaml's GPU worker, most GPU node pools) it never schedules. "
            "Give the step a gpu_type, or have the compiler apply the profile named `default` "
            "to GPU steps without one (charts/gpu-profiles-kind.yaml has it)"
        )
        assert any(_schedules(placement, node) for node in nodes), (
            f"{template['name']}: no kind node has labels {placement['nodeSelector']} "
            "and taints its tolerations allow"
        )
    if name == "compiled-here":  # its `embed` step asks for a GPU
        assert gpu_templates == 1


def _schedules(placement: dict[str, Any], node: dict[str, Any]) -> bool:
    labels = node.get("labels", {})
    taints = [
        taint
        for patch in node.get("kubeadmConfigPatches", [])
        for taint in yaml.safe_load(patch).get("nodeRegistration", {}).get("taints", [])
    ]
    selected = placement["nodeSelector"].items() <= labels.items()
    tolerated = all(
        any(
            t.get("key") in (None, taint["key"])
            and t.get("effect") in (None, taint["effect"])
            and (t.get("operator") == "Exists" or t.get("value") == taint.get("value"))
            for t in placement["tolerations"]
        )
        for taint in taints
    )
    return selected and tolerated


def test_the_chart_runs_the_image_argosy_build_makes(chart: Inventory) -> None:
    deployment = find(chart.objects, "Deployment", "argosy-metadata")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"argosy/base:{TEST_TAG}"
    assert image.rpartition(":")[0] in BUILT_IMAGES


# --- Argo's official chart values and kind ------------------------------------------------


@pytest.fixture(scope="module")
def argo_values() -> dict[str, Any]:
    return yaml.safe_load((CHARTS / "argo-workflows-values.yaml").read_text())


def test_argo_values_reference_what_the_chart_creates(
    chart: Inventory, argo_values: dict[str, Any]
) -> None:
    problems = [
        f"{ref.where}: {why}" for ref in references(argo_values) if (why := chart.dangling(ref))
    ]
    assert not problems
    postgres = argo_values["controller"]["persistence"]["postgresql"]
    service, _ = chart.service_port(f"{postgres['host']}:{postgres['port']}")
    assert service["metadata"]["name"] == "argosy-postgres"
    initdb = chart.named("ConfigMap")["argosy-postgres-initdb"]["data"]
    assert any(f"CREATE DATABASE {postgres['database']} " in sql for sql in initdb.values())
    s3 = argo_values["artifactRepository"]["s3"]
    assert {k: s3[k] for k in ("endpoint", "bucket", "insecure")} == {
        k: _artifact_repository(chart)["s3"][k] for k in ("endpoint", "bucket", "insecure")
    }
    chart.service_port(s3["endpoint"])
    assert argo_values["singleNamespace"] is True
    assert argo_values["workflow"]["serviceAccount"]["create"] is False
    default_account = argo_values["controller"]["workflowDefaults"]["spec"]["serviceAccountName"]
    assert default_account in chart.named("ServiceAccount")


def test_kind_maps_every_node_port_the_quick_start_uses(
    chart: Inventory, argo_values: dict[str, Any]
) -> None:
    kind = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
    control_plane = next(n for n in kind["nodes"] if n["role"] == "control-plane")
    mapped = {m["containerPort"]: m["hostPort"] for m in control_plane["extraPortMappings"]}
    node_ports = {
        service["metadata"]["name"]: port["nodePort"]
        for service in chart.named("Service").values()
        if service["spec"].get("type") == "NodePort"
        for port in service["spec"]["ports"]
    }
    node_ports["argo-workflows-server"] = argo_values["server"]["serviceNodePort"]
    assert {name: mapped.get(port) for name, port in node_ports.items()} == {
        "argosy-metadata": 8000,
        "argosy-minio": 9000,
        "argosy-minio-console": 9001,
        "argo-workflows-server": 2746,
    }
