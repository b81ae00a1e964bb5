"""What Kubernetes objects refer to by name, and whether a set of objects resolves it.

`references(obj)` walks any object (a chart object, a compiled Argo workflow, a values file
fragment) and yields every Secret key, ConfigMap key, PVC and service account it names; an
`Inventory` of rendered objects says which of those exist, which Service answers a
``host:port``, and what a service account may do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job", "Pod")


@dataclass(frozen=True)
class Reference:
    kind: str
    name: str
    key: str | None
    where: str


def references(node: Any, where: str = "") -> Iterator[Reference]:
    """Every named Secret (and key), ConfigMap (and key), PVC and ServiceAccount under `node`."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from references(item, f"{where}[{index}]")
        return
    if not isinstance(node, dict):
        return
    for field, kind in (
        ("secretKeyRef", "Secret"),
        ("configMapKeyRef", "ConfigMap"),
        ("accessKeySecret", "Secret"),
        ("secretKeySecret", "Secret"),
        ("userNameSecret", "Secret"),
        ("passwordSecret", "Secret"),
    ):
        if isinstance(node.get(field), dict):
            ref = node[field]
            yield Reference(kind, ref["name"], ref.get("key"), f"{where}.{field}")
    for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
        if isinstance(node.get(field), dict):
            yield Reference(kind, node[field]["name"], None, f"{where}.{field}")
    if isinstance(node.get("secret"), dict) and "secretName" in node["secret"]:
        yield Reference("Secret", node["secret"]["secretName"], None, f"{where}.secret")
    if isinstance(node.get("configMap"), dict) and "name" in node["configMap"]:
        volume = node["configMap"]
        keys = [item["key"] for item in volume.get("items", [])] or [None]
        for key in keys:
            yield Reference("ConfigMap", volume["name"], key, f"{where}.configMap")
    if isinstance(node.get("persistentVolumeClaim"), dict):
        claim = node["persistentVolumeClaim"]["claimName"]
        yield Reference("PersistentVolumeClaim", claim, None, f"{where}.persistentVolumeClaim")
    if isinstance(node.get("artifactRepositoryRef"), dict):
        ref = node["artifactRepositoryRef"]
        yield Reference(
            "ConfigMap", ref.get("configMap", "artifact-repositories"), ref.get("key"), where
        )
    if isinstance(node.get("serviceAccountName"), str):
        yield Reference("ServiceAccount", node["serviceAccountName"], None, where)
    for field, value in node.items():
        yield from references(value, f"{where}.{field}")


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod spec of a workload object (none for other kinds)."""
    if obj["kind"] == "Pod":
        return [obj["spec"]]
    if obj["kind"] == "Job":
        return [obj["spec"]["template"]["spec"]]
    if obj["kind"] in ("Deployment", "StatefulSet"):
        return [obj["spec"]["template"]["spec"]]
    return []


def pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    if obj["kind"] == "Pod":
        return obj["metadata"].get("labels", {})
    return obj["spec"]["template"]["metadata"].get("labels", {})


def workflow_spec(doc: dict[str, Any]) -> dict[str, Any]:
    """The workflow spec of a Workflow, WorkflowTemplate or CronWorkflow."""
    return doc["spec"]["workflowSpec"] if doc["kind"] == "CronWorkflow" else doc["spec"]


def workflow_containers(spec: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(template, container) of every container template, templateDefaults merged in."""
    defaults = spec.get("templateDefaults", {}).get("container", {})
    pairs = []
    for template in spec.get("templates", []):
        for container in [template.get("container"), template.get("script")]:
            if container:
                merged = {**defaults, **container}
                merged["env"] = defaults.get("env", []) + container.get("env", [])
                pairs.append((template, merged))
    return pairs


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """``host:port`` or a URL (``http://host:port/...``, ``postgresql://u:p@host:port/db``)."""
    parsed = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    assert parsed.hostname and parsed.port, f"{endpoint!r} names no host and port"
    return parsed.hostname, parsed.port


class Inventory:
    """The objects of one namespace, as rendered."""

    def __init__(self, objects: list[dict[str, Any]], namespace: str) -> None:
        self.objects = objects
        self.namespace = namespace

    def named(self, kind: str) -> dict[str, dict[str, Any]]:
        return {o["metadata"]["name"]: o for o in self.objects if o["kind"] == kind}

    def keys(self, kind: str, name: str) -> set[str]:
        obj = self.named(kind)[name]
        return set(obj.get("data") or {}) | set(obj.get("stringData") or {})

    def claims(self) -> set[str]:
        claims = set(self.named("PersistentVolumeClaim"))
        for sts in self.named("StatefulSet").values():
            for template in sts["spec"].get("volumeClaimTemplates", []):
                claims.add(f"{template['metadata']['name']}-{sts['metadata']['name']}")
        return claims

    def dangling(self, ref: Reference) -> str | None:
        """Why a reference does not resolve here, or None when it does."""
        if ref.kind == "PersistentVolumeClaim":
            return None if ref.name in self.claims() else f"no PVC {ref.name}"
        if ref.name not in self.named(ref.kind):
            return f"no {ref.kind} {ref.name}"
        if ref.key is not None and ref.key not in self.keys(ref.kind, ref.name):
            return f"{ref.kind} {ref.name} has no key {ref.key!r}"
        return None

    def service_port(self, endpoint: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The Service and port answering ``host:port`` (or a URL) from this namespace's pods."""
        host, port = split_endpoint(endpoint)
        name, _, domain = host.partition(".")
        assert domain in ("", self.namespace, f"{self.namespace}.svc") or domain == (
            f"{self.namespace}.svc.cluster.local"
        ), f"{endpoint}: host is not a Service of namespace {self.namespace}"
        services = self.named("Service")
        assert name in services, f"{endpoint}: no Service {name}"
        ports = {p["port"]: p for p in services[name]["spec"]["ports"]}
        assert port in ports, f"{endpoint}: Service {name} has ports {sorted(ports)}, not {port}"
        return services[name], ports[port]

    def backends(self, service: dict[str, Any]) -> list[dict[str, Any]]:
        """The workloads whose pods a Service selects."""
        selector = service["spec"].get("selector", {})
        return [
            o
            for o in self.objects
            if o["kind"] in WORKLOAD_KINDS
            and selector
            and selector.items() <= pod_labels(o).items()
        ]

    def granted(self, service_account: str) -> set[tuple[str, str, str]]:
        """(apiGroup, resource, verb) a service account of this namespace may use."""
        roles = self.named("Role")
        granted = set()
        for binding in self.named("RoleBinding").values():
            subjects = binding.get("subjects", [])
            if not any(
                s["kind"] == "ServiceAccount"
                and s["name"] == service_account
                and s.get("namespace", self.namespace) == self.namespace
                for s in subjects
            ):
                continue
            role = roles.get(binding["roleRef"]["name"])
            for rule in role["rules"] if role else []:
                for group in rule.get("apiGroups", []):
                    for resource in rule.get("resources", []):
                        for verb in rule.get("verbs", []):
                            granted.add((group, resource, verb))
        return granted


__all__ = [
    "WORKLOAD_KINDS",
    "Inventory",
    "Reference",
    "pod_labels",
    "pod_specs",
    "references",
    "split_endpoint",
    "workflow_containers",
    "workflow_spec",
]
