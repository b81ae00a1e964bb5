"""The Kubernetes API as the Argo backend uses it: Argo's objects (Workflows, CronWorkflows...)
and the pods they run.

`KubeApi.connect` builds a client from a kubeconfig file (the CLI passes ``--kubeconfig`` or
``$KUBECONFIG``; ``~/.kube/config`` otherwise), or from the in-cluster service account when
running in a pod and no file is given. It never changes the `kubernetes` package's global
configuration. Every API failure becomes a `ClusterError` that says what to check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from argosy.errors import ClusterError

GROUP = "argoproj.io"
VERSION = "v1alpha1"
PLURALS = {
    "Workflow": "workflows",
    "WorkflowTemplate": "workflowtemplates",
    "CronWorkflow": "cronworkflows",
}
MAIN_CONTAINER = "main"
"""The container Argo runs a template's command in."""

T = TypeVar("T")


class ObjectNotFound(ClusterError, LookupError):
    """The cluster has no such object (workflow, pod) in that namespace."""


class KubeApi:
    """Create and read Argo objects and read pod logs in one cluster."""

    def __init__(self, api_client: Any) -> None:
        from kubernetes import client

        self._client = api_client
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)

    @classmethod
    def connect(cls, kubeconfig: Path | None = None, context: str | None = None) -> KubeApi:
        """A client for the cluster of a kubeconfig file, or the one this pod runs in."""
        from kubernetes import client, config

        try:
            if kubeconfig is None and "KUBERNETES_SERVICE_HOST" in os.environ:
                configuration = client.Configuration()
                config.load_incluster_config(client_configuration=configuration)
                return cls(client.ApiClient(configuration))
            # $KUBECONFIG read now (the kubernetes package reads it once, when first imported)
            path = str(kubeconfig) if kubeconfig else os.environ.get("KUBECONFIG")
            return cls(config.new_client_from_config(config_file=path, context=context))
        except (config.ConfigException, OSError) as error:
            raise ClusterError(
                f"cannot configure the Kubernetes client: {error}; point --kubeconfig (or "
                "KUBECONFIG) at a kubeconfig for the cluster where Argo runs"
            ) from None

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create an Argo object (Workflow, WorkflowTemplate or CronWorkflow); the stored object."""
        plural = PLURALS[body["kind"]]
        return self._call(
            f"create {body['kind']} in namespace {namespace!r}",
            lambda: self.custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, body
            ),
        )

    def read(self, namespace: str, kind: str, name: str) -> dict[str, Any]:
        """An Argo object of ``kind`` (``CronWorkflow``, ...); ObjectNotFound when there is none."""
        return self._call(
            f"read {kind} {name!r} in namespace {namespace!r}",
            lambda: self.custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURALS[kind], name
            ),
        )

    def replace(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace an Argo object with ``body`` (its ``metadata.resourceVersion`` the stored
        one's, so a change made meanwhile is refused, not overwritten); the stored object."""
        kind, name = body["kind"], body["metadata"]["name"]
        return self._call(
            f"replace {kind} {name!r} in namespace {namespace!r}",
            lambda: self.custom.replace_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURALS[kind], name, body
            ),
        )

    def delete(
        self, namespace: str, kind: str, name: str, *, keep_dependents: bool = False
    ) -> None:
        """Delete an Argo object; ObjectNotFound when there is none. ``keep_dependents`` leaves
        the objects it owns (a CronWorkflow's Workflows) in place instead of deleting them."""
        policy = "Orphan" if keep_dependents else None
        self._call(
            f"delete {kind} {name!r} in namespace {namespace!r}",
            lambda: self.custom.delete_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURALS[kind], name, propagation_policy=policy
            ),
        )

    def workflow(self, namespace: str, name: str) -> dict[str, Any]:
        """The Workflow object with its status; NotFound when there is none."""
        return self._call(
            f"read workflow {name!r} in namespace {namespace!r}",
            lambda: self.custom.get_namespaced_custom_object(
                GROUP, VERSION, namespace, "workflows", name
            ),
        )

    def pods(self, namespace: str, labels: dict[str, str]) -> list[Any]:
        """Pods with all of ``labels``, oldest first."""
        selector = ",".join(f"{key}={value}" for key, value in labels.items())
        result = self._call(
            f"list pods in namespace {namespace!r}",
            lambda: self.core.list_namespaced_pod(namespace, label_selector=selector),
        )
        return sorted(result.items, key=lambda pod: pod.metadata.creation_timestamp or 0)

    def pod_log(self, namespace: str, pod: str) -> str:
        return self._call(
            f"read the log of pod {pod!r}",
            lambda: self.core.read_namespaced_pod_log(pod, namespace, container=MAIN_CONTAINER),
        )

    def close(self) -> None:
        self._client.close()

    def _call(self, what: str, request: Callable[[], T]) -> T:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return request()
        except ApiException as error:
            if error.status == 404:
                raise ObjectNotFound(
                    f"cannot {what}: not found; check the name and --namespace (and that Argo "
                    "is installed there)"
                ) from None
            hint = {
                401: "the kubeconfig's credentials were refused",
                403: "the account may not do this; check its RBAC (Role and RoleBinding)",
            }.get(error.status or 0, _message(error.body) or error.reason)
            raise ClusterError(f"cannot {what}: HTTP {error.status}: {hint}") from None
        except HTTPError as error:
            raise ClusterError(
                f"cannot {what}: the Kubernetes API is unreachable ({error}); check the "
                "kubeconfig's server and that the cluster is up"
            ) from None


def _message(body: object) -> str | None:
    """The ``message`` of a Kubernetes ``Status`` response (what was refused, and why)."""
    try:
        status = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        return None
    return status.get("message") if isinstance(status, dict) else None


__all__ = ["GROUP", "MAIN_CONTAINER", "PLURALS", "VERSION", "KubeApi", "ObjectNotFound"]
