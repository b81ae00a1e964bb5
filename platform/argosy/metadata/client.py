"""`MetadataClient`: the metadata service over HTTP, as a `MetadataSink` and a `MetadataReader`.

Same semantics as the embedded `Repository`, errors included (NotFound, Conflict, AuthError,
MetadataUnavailable). One `httpx.Client` keeps connections alive between calls. Connection
failures, timeouts and 502/503/504 answers are retried with exponential backoff (capped at 5 s)
for a budget measured in time, ``retry_for`` seconds (``ARGOSY_METADATA_RETRY_SECONDS``, five
minutes by default): a service restarted or failed over within that window loses nothing. That is
safe because every write is idempotent on the server (a retried batch of task records, or a
retried run creation, changes nothing the second time). ``check()`` fails fast, with what to
fix, when the service cannot be reached or the token cannot write.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from argosy.errors import AuthError, Conflict, MetadataError, MetadataUnavailable, NotFound
from argosy.metadata.reader import Direction
from argosy.metadata.run_views import MAX_TASK_PAGE, RunDetail, StepSummary, TasksPage
from argosy.metadata.schemas import (
    ArtifactCreate,
    ArtifactPublic,
    LineageGraph,
    MetricPublic,
    PipelinePublic,
    PipelineVersionPublic,
    RunCreate,
    RunDiff,
    RunPublic,
    RunsPublic,
    RunStatus,
    RunTagsChange,
    RunUpdate,
    TaskBatch,
    TaskPublic,
    TaskRecord,
    TaskStatus,
    TokenScope,
)
from argosy.store.base import ArtifactInfo

BATCH = 1000
"""Task records sent per request by `record_tasks`."""
_CHECK_SECONDS = 1.0
"""How long `check` retries: it runs before anything starts, so it fails fast."""
_TRANSIENT = {502, 503, 504}
_ERRORS: dict[int, type[MetadataError]] = {404: NotFound, 409: Conflict, 503: MetadataUnavailable}
_digests = TypeAdapter(list[str])
_metrics = TypeAdapter(list[MetricPublic])


class MetadataClient:
    """A metadata service at ``url``, reached with bearer ``token``.

    ``transport`` replaces httpx's network transport; ``http`` replaces the whole client (for
    example Starlette's ``TestClient(app)``, to talk to an app in-process).
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        *,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
        retry_for: float = 300.0,
        backoff: float = 0.2,
    ) -> None:
        self.url = url.rstrip("/")
        self.retry_for = retry_for
        self.backoff = backoff
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = http or httpx.Client(base_url=self.url, transport=transport, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MetadataClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        retry_for: float | None = None,
    ) -> Any:
        deadline = time.monotonic() + (self.retry_for if retry_for is None else retry_for)
        params = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in itertools.count():
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), 5.0))
            last = time.monotonic() >= deadline
            try:
                response = self._http.request(
                    method, path, json=body, params=params, headers=self._headers
                )
            except httpx.TransportError as error:
                if last:
                    raise MetadataUnavailable(
                        f"cannot reach the metadata service at {self.url} ({error!r}); check "
                        "ARGOSY_METADATA_URL and that the service is running"
                    ) from error
                continue
            if response.status_code in _TRANSIENT and not last:
                continue
            return _result(response, self.url)
        raise AssertionError("unreachable")

    # --- sink ----------------------------------------------------------------------------

    def check(self) -> None:
        self._request("GET", "/readyz", retry_for=_CHECK_SECONDS)
        auth = self._request("GET", "/api/v1/auth", retry_for=_CHECK_SECONDS)
        scope = TokenScope.model_validate(auth).scope
        if scope != "write":
            raise AuthError(
                f"the token for {self.url} has {scope} scope, and recording runs needs write; "
                "set ARGOSY_TOKEN to a token from `argosy token create --scope write`",
                status_code=403,
            )

    def create_run(self, run: RunCreate) -> None:
        self._request("POST", "/api/v1/runs", body=run.model_dump(mode="json"))

    def update_run(self, run_id: str, update: RunUpdate) -> None:
        self._request("PATCH", f"/api/v1/runs/{_q(run_id)}", body=update.model_dump(mode="json"))

    def heartbeat(self, run_id: str) -> None:
        self._request("POST", f"/api/v1/runs/{_q(run_id)}/heartbeat")

    def record_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        for start in range(0, len(tasks), BATCH):
            batch = TaskBatch(tasks=list(tasks[start : start + BATCH]))
            self._request("POST", "/api/v1/tasks", body=batch.model_dump(mode="json"))

    def find_cached(self, cache_key: str) -> TaskRecord | None:
        try:
            return TaskRecord.model_validate(self._request("GET", f"/api/v1/cache/{_q(cache_key)}"))
        except NotFound:
            return None

    # --- reader --------------------------------------------------------------------------

    def list_runs(
        self,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
        *,
        project: str | None = None,
        owner: str | None = None,
        tags: Sequence[str] = (),
        id_prefix: str | None = None,
    ) -> RunsPublic:
        params = {
            "pipeline": pipeline,
            "status": status,
            "limit": limit,
            "cursor": cursor,
            "project": project,
            "owner": owner,
            "tag": list(tags) or None,
            "id_prefix": id_prefix,
        }
        return RunsPublic.model_validate(self._request("GET", "/api/v1/runs", params=params))

    def find_runs(self, prefix: str, limit: int = 10) -> list[RunPublic]:
        return self.list_runs(id_prefix=prefix, limit=limit).data

    def _run_detail(self, run_id: str) -> RunDetail:
        return RunDetail.model_validate(self._request("GET", f"/api/v1/runs/{_q(run_id)}"))

    def get_run(self, run_id: str) -> RunPublic:
        return RunPublic.model_validate(self._run_detail(run_id).model_dump(exclude={"steps"}))

    def run_steps(self, run_id: str) -> list[StepSummary]:
        return self._run_detail(run_id).steps

    def update_tags(self, run_id: str, change: RunTagsChange) -> RunPublic:
        path = f"/api/v1/runs/{_q(run_id)}/tags"
        return RunPublic.model_validate(
            self._request("POST", path, body=change.model_dump(mode="json"))
        )

    def list_tasks(
        self,
        run_id: str,
        *,
        step: str | None = None,
        statuses: Sequence[TaskStatus] = (),
        limit: int | None = None,
        offset: int = 0,
        inputs: bool = True,
    ) -> list[TaskPublic]:
        """The tasks, fetched a page (at most `MAX_TASK_PAGE`) per request."""
        path = f"/api/v1/runs/{_q(run_id)}/tasks"
        params: dict[str, Any] = {
            "step": step,
            "status": TaskStatus.parse(statuses) or None,
            "inputs": "true" if inputs else "false",
        }
        tasks: list[TaskPublic] = []
        while True:
            size = MAX_TASK_PAGE if limit is None else min(MAX_TASK_PAGE, limit - len(tasks))
            found = self._request("GET", path, params=params | {"limit": size, "offset": offset})
            page = TasksPage.model_validate(found)
            tasks += page.data
            if page.next_offset is None or (limit is not None and len(tasks) >= limit):
                return tasks
            offset = page.next_offset

    def list_attempts(self, run_id: str, step: str, index: int = 0) -> list[TaskRecord]:
        path = f"/api/v1/runs/{_q(run_id)}/tasks/{_q(step)}/{index}/attempts"
        return [TaskRecord.model_validate(a) for a in self._request("GET", path)]

    def get_artifact(self, digest: str) -> ArtifactPublic:
        path = f"/api/v1/artifacts/{_q(digest)}"
        return ArtifactPublic.model_validate(self._request("GET", path))

    def find_artifacts(self, prefix: str, limit: int = 10) -> list[str]:
        params = {"prefix": prefix, "limit": limit}
        return _digests.validate_python(self._request("GET", "/api/v1/artifacts", params=params))

    def put_artifacts(self, artifacts: Sequence[ArtifactInfo], uri: str | None = None) -> None:
        """Register artifacts' bytes (not their name or metadata, which describe a task's
        output); registering a known digest again is a no-op."""
        for info in artifacts:
            described = info.model_dump(exclude={"name", "metadata"})
            body = ArtifactCreate(**described, uri=uri).model_dump(mode="json")
            self._request("PUT", f"/api/v1/artifacts/{_q(info.digest)}", body=body)

    def list_pipelines(self) -> list[PipelinePublic]:
        return [PipelinePublic.model_validate(p) for p in self._request("GET", "/api/v1/pipelines")]

    def list_pipeline_versions(self, pipeline: str) -> list[PipelineVersionPublic]:
        path = f"/api/v1/pipelines/{_q(pipeline)}/versions"
        return [PipelineVersionPublic.model_validate(v) for v in self._request("GET", path)]

    def lineage(
        self, digest: str, direction: Direction = "upstream", depth: int | None = None
    ) -> LineageGraph:
        path = f"/api/v1/artifacts/{_q(digest)}/lineage"
        params = {"direction": direction, "depth": depth}
        return LineageGraph.model_validate(self._request("GET", path, params=params))

    def run_graph(self, run_id: str) -> LineageGraph:
        return LineageGraph.model_validate(self._request("GET", f"/api/v1/runs/{_q(run_id)}/graph"))

    def get_pipeline_version(self, digest: str) -> dict:
        return self._request("GET", f"/api/v1/pipeline-versions/{_q(digest)}")

    def metrics(self, run_id: str) -> list[MetricPublic]:
        return _metrics.validate_python(self._request("GET", f"/api/v1/runs/{_q(run_id)}/metrics"))

    def diff_runs(self, a: str, b: str) -> RunDiff:
        return RunDiff.model_validate(self._request("GET", f"/api/v1/runs/{_q(a)}/diff/{_q(b)}"))


def _q(segment: str) -> str:
    """``segment`` quoted as one path segment."""
    return quote(segment, safe="")


def _result(response: httpx.Response, url: str) -> Any:
    if response.is_success:
        return response.json() if response.content else None
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    status = response.status_code
    if status in (401, 403):
        raise AuthError(f"{url}: {detail}", status_code=status)
    kind = _ERRORS.get(status)
    if kind is not None:
        raise kind(str(detail))
    if status in _TRANSIENT:
        raise MetadataUnavailable(f"the metadata service at {url} answered {status}: {detail}")
    raise MetadataError(f"the metadata service at {url} refused the request ({status}): {detail}")


__all__ = ["BATCH", "MetadataClient"]
