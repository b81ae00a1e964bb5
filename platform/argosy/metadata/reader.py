"""The one interface the CLI, `argosy.Client` and the local backend read metadata through
(and tag runs through: people tag the runs they read).

Two implementations, with the same semantics: the embedded `Repository` and the HTTP
`MetadataClient`. Unknown ids raise `argosy.errors.NotFound`; an unreachable database or service
raises `MetadataUnavailable`; a bad filter (an unknown step or status) raises `MetadataError`.

Nothing here costs in proportion to a run's tasks unless asked: `run_steps` is computed by the
database, `list_tasks` reads a page, and `find_runs` and `find_artifacts` are index ranges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

from argosy.metadata.run_views import StepSummary
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
    TaskStatus,
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
        id_prefix: str | None = None,
    ) -> RunsPublic:
        """Runs, newest first, one page at a time; of one pipeline, in one status, of one
        project, of one owner (None: every owner's), holding all of ``tags`` and whose id
        starts with ``id_prefix``, when given."""

    def get_run(self, run_id: str) -> RunPublic: ...

    def find_runs(self, prefix: str, limit: int = 10) -> list[RunPublic]:
        """The runs whose id starts with ``prefix``, newest first, at most ``limit``."""

    def run_steps(self, run_id: str) -> list[StepSummary]:
        """What the tasks of each step of the run add up to: one summary per step of its
        pipeline, in pipeline order, steps without tasks yet included."""

    def update_tags(self, run_id: str, change: RunTagsChange) -> RunPublic:
        """Add and remove the run's tags; the run as it is now."""

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
        """The run's tasks (latest attempt of each) in pipeline order: step by step as the
        pipeline lists them, each by index. Only those of ``step`` and in one of ``statuses``
        when given; ``limit`` of them (None: all) from the ``offset``-th on. ``inputs=False``
        leaves out what each task read (a fan-in of 100,000 tasks read 100,000 artifacts)."""

    def get_artifact(self, digest: str) -> ArtifactPublic: ...

    def find_artifacts(self, prefix: str, limit: int = 10) -> list[str]:
        """Digests of recorded artifacts that start with ``prefix``, in order, at most ``limit``."""

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
