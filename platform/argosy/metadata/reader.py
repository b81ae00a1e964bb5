"""The one interface the CLI, `argosy.Client` and the local backend read metadata through
(and tag runs through: people tag the runs they read).

Two implementations, with the same semantics: the embedded `Repository` and the HTTP
`MetadataClient`. Unknown ids raise `argosy.errors.NotFound`; an unreachable database or service
raises `MetadataUnavailable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

from argosy.metadata.schemas import (
    ArtifactPublic,
    LineageGraph,
    MetricPublic,
    RunDiff,
    RunPublic,
    RunsPublic,
    RunStatus,
    RunTagsChange,
    TaskPublic,
)

Direction = Literal["upstream", "downstream"]


@runtime_checkable
class MetadataReader(Protocol):
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
    ) -> RunsPublic:
        """Runs, newest first, one page at a time; of one pipeline, in one status, of one
        project, of one owner (None: every owner's) and holding all of ``tags``, when given."""

    def get_run(self, run_id: str) -> RunPublic: ...

    def update_tags(self, run_id: str, change: RunTagsChange) -> RunPublic:
        """Add and remove the run's tags; the run as it is now."""

    def list_tasks(self, run_id: str) -> list[TaskPublic]:
        """The run's tasks (latest attempt of each), in order of step, then index."""

    def get_artifact(self, digest: str) -> ArtifactPublic: ...

    def lineage(
        self, digest: str, direction: Direction = "upstream", depth: int | None = None
    ) -> LineageGraph:
        """Tasks and artifacts the artifact came from (upstream) or fed (downstream).

        ``depth`` counts tasks away from the artifact; None follows the graph to its end.
        Lineage crosses runs and pipelines wherever the same digest was produced or read.
        """

    def run_graph(self, run_id: str) -> LineageGraph:
        """Every task of the run with the artifacts it read and wrote."""

    def get_pipeline_version(self, digest: str) -> dict:
        """The pipeline IR (JSON) recorded under this version digest."""

    def metrics(self, run_id: str) -> list[MetricPublic]: ...

    def diff_runs(self, a: str, b: str) -> RunDiff:
        """Parameters, pipeline version, outputs and metrics that differ between two runs."""


__all__ = ["Direction", "MetadataReader"]
