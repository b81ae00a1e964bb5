"""Argosy and Argo Workflows on the test cluster, installed as the README tells a user to.

* Argo's CRDs from Argo's own module (``manifests/base/crds/full``), applied server-side.
* Two volumes for the chart's Postgres and MinIO claims (the node has no storage provisioner, so
  the cluster's administrator provides them, as on any cluster without one).
* ``helm install argosy charts/argosy -n argosy --create-namespace -f charts/kind-values.yaml``
  with the test cluster's GPU profiles and images, ``--wait``, then ``helm test``.
* The Argo controller (``workflow-controller``, built from Argo's module) with the settings of
  ``charts/argo-workflows-values.yaml``: its ``workflow-controller-configmap`` is made from that
  file's controller and artifact repository values, as the official chart renders them. It runs
  on the node like the control plane, resolving Service names through the cluster's DNS.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from argosy.config import Settings
from tests.cluster import network
from tests.cluster.daemons import http_ok
from tests.cluster.images import ClusterImages
from tests.cluster.node import Node
from tests.cluster.toolchain import argo_file

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "argosy"
RELEASE = "argosy"
BUCKET = "argosy"
GPU_PROFILES = Path(__file__).with_name("gpu-profiles.yaml")
"""GPU profiles of the test node: Helm values and the file ``argosy compile`` reads."""
VALUES = Path(__file__).with_name("values.yaml")
"""The test cluster's own chart values (see the file)."""
ARGO_VALUES = ROOT / "charts" / "argo-workflows-values.yaml"
METADATA_NODE_PORT = 30800
S3_NODE_PORT = 30900
CONTROLLER_HEALTH = "http://127.0.0.1:6060/healthz"
VOLUMES = {"postgres": 999, "minio": 1000}
"""The chart's StatefulSets with a data claim, and the uid their pods run as."""


@dataclass(frozen=True)
class Platform:
    """What a client outside the cluster needs to use the installed platform."""

    kubeconfig: Path
    metadata_url: str
    token: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    image: str
    gpu_profiles: Path = GPU_PROFILES
    namespace: str = NAMESPACE

    def environment(self) -> dict[str, str]:
        """The environment ``argosy submit`` and ``kubectl`` need on this machine."""
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "ARGOSY_METADATA_URL": self.metadata_url,
            "ARGOSY_TOKEN": self.token,
            "ARGOSY_S3_ENDPOINT": self.s3_endpoint,
            "ARGOSY_S3_BUCKET": BUCKET,
            "ARGOSY_S3_SECURE": "false",
            "ARGOSY_S3_ACCESS_KEY": self.s3_access_key,
            "ARGOSY_S3_SECRET_KEY": self.s3_secret_key,
            "ARGOSY_IMAGE": self.image,
            "ARGOSY_GPU_PROFILES": str(self.gpu_profiles),
        }

    def settings(self, home: Path) -> Settings:
        """The same configuration as `Settings`, for Python code on this machine."""
        return Settings(
            home=home,
            metadata_url=self.metadata_url,
            token=self.token,
            s3_endpoint=self.s3_endpoint,
            s3_bucket=BUCKET,
            s3_access_key=self.s3_access_key,
            s3_secret_key=self.s3_secret_key,
            s3_secure=False,
            gpu_profiles=self.gpu_profiles,
        )


def _helm(node: Node, *args: str, timeout: float = 900) -> str:
    helm_home = node.state / "helm"
    env = {
        **os.environ,
        "KUBECONFIG": str(node.admin_kubeconfig),
        "HELM_CACHE_HOME": str(helm_home / "cache"),
        "HELM_CONFIG_HOME": str(helm_home / "config"),
        "HELM_DATA_HOME": str(helm_home / "data"),
    }
    done = subprocess.run(
        ["helm", *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"helm {' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


CRDS_ESTABLISHED_SECONDS = 60.0
ARGO_CRDS = ("crd/workflows.argoproj.io", "crd/workflowtaskresults.argoproj.io")


def apply_argo_crds(node: Node) -> None:
    crds = argo_file("manifests/base/crds/full")
    node.kubectl("apply", "--server-side", "-k", str(crds))
    deadline = time.monotonic() + CRDS_ESTABLISHED_SECONDS
    while True:  # `kubectl wait` fails at once while a new CRD has no status conditions yet
        try:
            node.kubectl("wait", "--for=condition=Established", "--timeout=60s", *ARGO_CRDS)
            return
        except RuntimeError as error:
            if "status.conditions" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(1)


def provide_volumes(node: Node) -> None:
    """A hostPath volume bound in advance to each data claim of the chart."""
    for component, uid in VOLUMES.items():
        path = node.state / "volumes" / component
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, uid, uid)
        volume = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": f"argosy-test-{component}"},
            "spec": {
                "capacity": {"storage": "20Gi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "hostPath": {"path": str(path), "type": "Directory"},
                "claimRef": {"namespace": NAMESPACE, "name": f"data-{RELEASE}-{component}-0"},
            },
        }
        node.kubectl("apply", "-f", "-", input=json.dumps(volume))


def install_chart(node: Node, images: ClusterImages) -> None:
    """``helm install`` the chart as charts/argosy/README.md says, with ``--wait``; helm test."""
    base_repository, base_tag = images.base.rsplit(":", 1)
    postgres_repository, postgres_tag = images.postgres.rsplit(":", 1)
    minio_repository, minio_tag = images.minio.rsplit(":", 1)
    _helm(
        node, "upgrade", "--install", RELEASE, "charts/argosy", "--namespace", NAMESPACE,
        "--create-namespace", "-f", "charts/kind-values.yaml", "-f", str(VALUES),
        "-f", str(GPU_PROFILES),
        "--set", f"image.repository={base_repository.removeprefix('docker.io/')}",
        "--set", f"image.tag={base_tag}",
        "--set", f"postgres.image.repository={postgres_repository}",
        "--set", f"postgres.image.tag={postgres_tag}",
        "--set", f"minio.image.repository={minio_repository}",
        "--set", f"minio.image.tag={minio_tag}",
        "--wait", "--timeout", "10m",
    )  # fmt: skip
    _helm(node, "test", RELEASE, "--namespace", NAMESPACE, "--timeout", "5m")


def controller_configmap(values: dict) -> dict:
    """``workflow-controller-configmap`` as the official chart renders these values."""
    controller = values["controller"]
    data = {
        "workflowDefaults": controller["workflowDefaults"],
        "persistence": controller["persistence"],
    }
    if values.get("useDefaultArtifactRepo"):
        data["artifactRepository"] = values["artifactRepository"]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "workflow-controller-configmap", "namespace": NAMESPACE},
        "data": {key: yaml.safe_dump(value, sort_keys=False) for key, value in data.items()},
    }


def start_controller(node: Node, controller: Path, images: ClusterImages) -> None:
    """The Argo controller, managing the chart's namespace only (``singleNamespace: true``)."""
    values = yaml.safe_load(ARGO_VALUES.read_text())
    node.kubectl("apply", "-f", "-", input=json.dumps(controller_configmap(values)))
    config = yaml.safe_load(node.admin_kubeconfig.read_text())
    config["contexts"][0]["context"]["namespace"] = NAMESPACE  # where it finds its ConfigMap
    kubeconfig = node.state / "controller.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    resolv = node.state / "controller-resolv.conf"
    domain = network.CLUSTER_DOMAIN
    resolv.write_text(  # what the kubelet gives a pod in the namespace
        f"nameserver {network.NODE_IP}\n"
        f"search {NAMESPACE}.svc.{domain} svc.{domain} {domain}\noptions ndots:5\n"
    )
    command = [
        str(controller), f"--kubeconfig={kubeconfig}", "--configmap=workflow-controller-configmap",
        f"--executor-image={images.argoexec}",
        f"--executor-image-pull-policy={values['images']['pullPolicy']}",
    ]  # fmt: skip
    if values.get("singleNamespace"):
        command += ["--namespaced", f"--managed-namespace={NAMESPACE}"]
    # the cluster's DNS for this process alone: a private mount of resolv.conf
    remount = f'mount --bind "{resolv}" /etc/resolv.conf && exec "$@"'
    wrapped = ["unshare", "--mount", "--propagation", "private", "sh", "-c", remount, "controller",
               *command]  # fmt: skip
    env = {item["name"]: item["value"] for item in values["controller"].get("extraEnv", [])}
    env["LEADER_ELECTION_DISABLE"] = "true"  # one controller, outside the cluster
    node.daemons.start("workflow-controller", wrapped, env=env)
    node.daemons.wait_until(
        "workflow-controller", lambda: http_ok(CONTROLLER_HEALTH), 120, "healthy"
    )


def _secret(node: Node, name: str, key: str) -> str:
    jsonpath = f"jsonpath={{.data.{key}}}"
    encoded = node.kubectl("get", "secret", name, "-n", NAMESPACE, "-o", jsonpath)
    return base64.b64decode(encoded).decode()


def client_platform(node: Node, images: ClusterImages) -> Platform:
    """How this machine reaches the installed platform: NodePorts on the node address."""
    return Platform(
        kubeconfig=node.admin_kubeconfig,
        metadata_url=f"http://{network.NODE_IP}:{METADATA_NODE_PORT}",
        token=_secret(node, "argosy-metadata-token", "token"),
        s3_endpoint=f"{network.NODE_IP}:{S3_NODE_PORT}",
        s3_access_key=_secret(node, "argosy-s3", "access-key"),
        s3_secret_key=_secret(node, "argosy-s3", "secret-key"),
        image=images.components.removeprefix("docker.io/"),
    )


__all__ = [
    "NAMESPACE",
    "Platform",
    "apply_argo_crds",
    "client_platform",
    "controller_configmap",
    "install_chart",
    "provide_volumes",
    "start_controller",
]
