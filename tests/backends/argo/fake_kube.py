"""A small fake Kubernetes API (and Argo Server API) on 127.0.0.1, for the submit/watch/logs tests.

No Kubernetes API server can run on these machines, so the tests start this one in a thread.
It stores the Workflows (and CronWorkflows) it is sent, replaces and deletes them, serves them
back with a status the test scripts (one status per read, the last one repeated), lists pods
by label selector, serves pod logs, and records every request (method, path, query, headers,
JSON body) for the test to check.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "fake-cluster-token"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeCluster:
    """What the fake API holds and what it was asked."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    workflows: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    """Status documents served on successive reads of any workflow."""
    pods: list[dict[str, Any]] = field(default_factory=list)
    """Pod objects ({metadata: {name, labels, creationTimestamp}}) in every namespace."""
    logs: dict[str, str] = field(default_factory=dict)
    fail_with: int | None = None
    """Answer every request with this HTTP status, when set."""

    def kubeconfig(self, path: Path) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": TOKEN}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester"}}],
            "current-context": "fake",
        }
        path.write_text(json.dumps(config))
        return path

    def next_status(self) -> dict[str, Any]:
        if len(self.statuses) > 1:
            return self.statuses.pop(0)
        return self.statuses[0] if self.statuses else {}


def _handler(cluster: FakeCluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _record(self) -> Request:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {key.lower(): value for key, value in self.headers.items()}
            request = Request(self.command, url.path, parse_qs(url.query), headers, body)
            cluster.requests.append(request)
            return request

        def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _not_found(self, path: str) -> None:
            self._send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound",
                             "message": f"{path} not found", "code": 404})  # fmt: skip

        def do_POST(self) -> None:
            request = self._record()
            if cluster.fail_with:
                return self._send(cluster.fail_with, {"kind": "Status", "code": cluster.fail_with})
            parts = request.path.strip("/").split("/")
            if parts[:3] == ["apis", "argoproj.io", "v1alpha1"] and len(parts) == 6:
                workflow = request.body
            elif parts[:3] == ["api", "v1", "workflows"] and len(parts) == 4:  # Argo Server
                workflow = request.body["workflow"]
            else:
                return self._not_found(request.path)
            namespace = parts[4] if parts[0] == "apis" else parts[3]
            metadata = dict(workflow["metadata"], namespace=namespace, resourceVersion="1")
            stored = dict(workflow, metadata=metadata)
            cluster.workflows[(namespace, stored["metadata"]["name"])] = stored
            return self._send(201, stored)

        def do_PUT(self) -> None:
            """Replace an object: refused (409) unless the body has the stored resourceVersion."""
            request = self._record()
            parts = request.path.strip("/").split("/")
            key = (parts[4], parts[6]) if len(parts) == 7 else None
            if parts[:3] != ["apis", "argoproj.io", "v1alpha1"] or key not in cluster.workflows:
                return self._not_found(request.path)
            version = cluster.workflows[key]["metadata"]["resourceVersion"]
            if request.body["metadata"].get("resourceVersion") != version:
                return self._send(409, {"kind": "Status", "code": 409, "reason": "Conflict",
                                        "message": "the object has been modified"})  # fmt: skip
            metadata = dict(request.body["metadata"], resourceVersion=str(int(version) + 1))
            cluster.workflows[key] = dict(request.body, metadata=metadata)
            return self._send(200, cluster.workflows[key])

        def do_DELETE(self) -> None:
            request = self._record()
            parts = request.path.strip("/").split("/")
            key = (parts[4], parts[6]) if len(parts) == 7 else None
            if parts[:3] != ["apis", "argoproj.io", "v1alpha1"] or key not in cluster.workflows:
                return self._not_found(request.path)
            del cluster.workflows[key]
            return self._send(200, {"kind": "Status", "status": "Success"})

        def do_GET(self) -> None:
            request = self._record()
            if cluster.fail_with:
                return self._send(cluster.fail_with, {"kind": "Status", "code": cluster.fail_with})
            parts = request.path.strip("/").split("/")
            if parts[:3] == ["apis", "argoproj.io", "v1alpha1"] and len(parts) == 7:
                return self._workflow(parts[4], parts[6], request.path)
            if parts[:3] == ["api", "v1", "workflows"] and len(parts) == 5:
                return self._workflow(parts[3], parts[4], request.path)
            if parts[:3] == ["api", "v1", "namespaces"] and parts[4:] == ["pods"]:
                return self._pods(request)
            if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 7 and parts[6] == "log":
                if parts[5] not in cluster.logs:
                    return self._not_found(request.path)
                return self._send(200, cluster.logs[parts[5]], "text/plain")
            return self._not_found(request.path)

        def _workflow(self, namespace: str, name: str, path: str) -> None:
            stored = cluster.workflows.get((namespace, name))
            if stored is None:
                return self._not_found(path)
            return self._send(200, dict(stored, status=cluster.next_status()))

        def _pods(self, request: Request) -> None:
            selector = request.query.get("labelSelector", [""])[0]
            wanted = dict(term.split("=", 1) for term in selector.split(",") if term)
            items = [
                pod for pod in cluster.pods
                if all(pod["metadata"]["labels"].get(k) == v for k, v in wanted.items())
            ]  # fmt: skip
            return self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {},
                                    "items": items})  # fmt: skip

    return Handler


@contextmanager
def fake_cluster() -> Iterator[FakeCluster]:
    """A running fake API; stopped when the block ends."""
    cluster = FakeCluster()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(cluster))
    cluster.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield cluster
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


__all__ = ["TOKEN", "FakeCluster", "Request", "fake_cluster"]
