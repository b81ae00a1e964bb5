"""Workflows through the Argo Server's REST API (``--argo-server URL``), with Hera's client.

For clusters where users reach Argo through its server (SSO or a bearer token) rather than the
Kubernetes API. It creates and reads Workflows like `KubeApi`; pod logs stay with `KubeApi`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from argosy.backends.argo.kube import ObjectNotFound
from argosy.errors import ClusterError

T = TypeVar("T")


class ArgoServerApi:
    """Create and read Workflows through an Argo Server."""

    def __init__(self, url: str, token: str | None = None, verify_ssl: bool = True) -> None:
        from hera.workflows import WorkflowsService

        if not url.startswith(("http://", "https://")):
            raise ClusterError(f"--argo-server {url!r} needs a scheme: https://HOST:2746")
        self._service = WorkflowsService(host=url, token=token, verify_ssl=verify_ssl)
        self._url = url

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        from hera.workflows.models import Workflow, WorkflowCreateRequest

        request = WorkflowCreateRequest(workflow=Workflow.model_validate(body), namespace=namespace)
        created = self._call(
            f"create workflow in namespace {namespace!r}",
            lambda: self._service.create_workflow(request, namespace=namespace),
        )
        return created.model_dump(by_alias=True, exclude_none=True, mode="json")

    def workflow(self, namespace: str, name: str) -> dict[str, Any]:
        found = self._call(
            f"read workflow {name!r} in namespace {namespace!r}",
            lambda: self._service.get_workflow(name, namespace=namespace),
        )
        return found.model_dump(by_alias=True, exclude_none=True, mode="json")

    def _call(self, what: str, request: Callable[[], T]) -> T:
        import requests
        from hera.exceptions import HeraException, NotFound

        try:
            return request()
        except NotFound:
            raise ObjectNotFound(
                f"cannot {what}: not found on the Argo Server {self._url}"
            ) from None
        except HeraException as error:
            raise ClusterError(
                f"cannot {what} through the Argo Server {self._url}: {error}"
            ) from None
        except requests.RequestException as error:
            raise ClusterError(
                f"cannot {what}: the Argo Server {self._url} is unreachable ({error})"
            ) from None


__all__ = ["ArgoServerApi"]
