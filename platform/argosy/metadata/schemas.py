"""Pydantic shapes of metadata records, shared by the repository, the service and the client.

The write side (`RunCreate`, `RunUpdate`, `TaskRecord`) is what the runtime and the backends send
through a `MetadataSink`; the read side (``*Public``, `LineageGraph`, `RunDiff`; the summaries
and pages of a wide run are in `argosy.metadata.run_views`) is what a `MetadataReader` and the
service return. No SQLAlchemy here: the tables live in `argosy.metadata.models` and are never
a request or a response.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, JsonValue, model_validator

from argosy.errors import MetadataError
from argosy.metadata.values import StorableTime, UnicodeJson
from argosy.ownership import MAX_TAGS, OwnerName, ProjectName, Tag
from argosy.run_ids import RUN_ID_PATTERN
from argosy.store.base import ArtifactInfo

INT32 = 2**31 - 1
"""The largest index, attempt or item a database integer column holds everywhere."""
STEP_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$"
"""Step names as task records carry them: no dots, so a task id parses back unambiguously."""
MAX_BATCH = 10_000
"""The most task records one `TaskBatch` (one request) carries."""


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not run: a condition did not hold, or a step it needed did not succeed."""
    CAUGHT = "caught"
    """Failed for good in a ``catch`` step: its output is None and the run went on."""

    @classmethod
    def parse(cls, statuses: Iterable[str]) -> list[TaskStatus]:
        """``statuses`` as members, each once; MetadataError naming the statuses for another."""
        try:
            return [cls(status) for status in dict.fromkeys(statuses)]
        except ValueError as error:
            raise MetadataError(f"{error}; a task status is one of {', '.join(cls)}") from error


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


class Answer(_Record):
    """What a query returns (and the service answers): one command uses a few of these models,
    so each builds its validator when first used, not when this module is imported. What is
    written (a run, a task record, a batch of them) is built at once: forked workers inherit it.
    """

    model_config = ConfigDict(defer_build=True)


def task_id(run_id: str, step: str, index: int) -> str:
    """The derived id of a task: the same run, step and index always give the same id."""
    return f"{run_id}.{step}.{index}"


class RunCreate(_Record):
    """A run as it starts. Creating the same run again is a no-op, another run under its id a
    `Conflict`."""

    id: str = Field(pattern=RUN_ID_PATTERN)
    """Letters, digits, ``.``, ``_``, ``-`` (`argosy.run_ids.RUN_ID_PATTERN`)."""
    pipeline: str = Field(min_length=1, max_length=128)
    pipeline_version: str = Field(min_length=1, max_length=64)
    """`ir.Pipeline.digest()`."""
    pipeline_ir: dict[str, UnicodeJson] | None = None
    """The IR as JSON, stored once per version."""
    pipeline_ref: str | None = None
    """How the pipeline was loaded (``path/file.py:name`` or ``module:name``), for resume."""
    parameters: dict[str, UnicodeJson] = Field(default_factory=dict)
    backend: str = "local"
    """``local`` or ``argo``."""
    status: RunStatus = RunStatus.RUNNING
    resumed_from: str | None = None
    """The run this one resumes (its finished tasks were cloned)."""
    workflow_name: str | None = None
    namespace: str | None = None
    started_at: StorableTime | None = None
    nonce: str | None = Field(default=None, max_length=64)
    """A random value the process starting the run draws once (``secrets.token_hex(16)``) and
    its retries repeat; the run's pods send none. Another nonce under a recorded id is another
    run whose id collided: `Conflict`, so the caller draws a new id."""
    project: ProjectName | None = None
    owner: OwnerName | None = None
    """``user:<name>`` or ``production`` (`argosy.ownership`)."""
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    """Tags the run starts with. Project, owner and tags are the run's as it was first
    recorded: creating it again changes none of them (tags change with `RunTagsChange`)."""


class RunTagsChange(_Record):
    """Tags to add to a run and tags to remove from it (both idempotent)."""

    add: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    remove: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)

    @model_validator(mode="after")
    def _says_something(self) -> RunTagsChange:
        if not self.add and not self.remove:
            raise ValueError("give tags to add or to remove (or both)")
        both = sorted(set(self.add) & set(self.remove))
        if both:
            raise ValueError(f"tags {both} are both added and removed; give each once")
        return self


class RunUpdate(_Record):
    """A change of a run's status."""

    status: RunStatus
    finished_at: StorableTime | None = None
    error: str | None = None


class TaskInput(_Record):
    """One argument a task read: the artifact, and the item index when it took one item of it."""

    argument: str
    artifact: ArtifactInfo
    item: int | None = Field(default=None, ge=0, le=INT32)


class TaskRecord(_Record):
    """One attempt of one task. Idempotent on (run_id, step, index, attempt)."""

    run_id: str = Field(min_length=1, max_length=128)
    step: str = Field(pattern=STEP_PATTERN)
    index: int = Field(default=0, ge=0, le=INT32)
    attempt: int = Field(default=0, ge=0, le=INT32)
    status: TaskStatus
    started_at: StorableTime | None = None
    finished_at: StorableTime | None = None
    inputs: list[TaskInput] = Field(default_factory=list)
    output: ArtifactInfo | None = None
    named_outputs: dict[str, ArtifactInfo] = Field(default_factory=dict)
    """For a step returning several values, the artifact of each (`output` is their manifest):
    an output edge of the lineage each, named."""
    metrics: dict[str, FiniteFloat] = Field(default_factory=dict)
    cache_key: str | None = None
    cache_hit: bool = False
    """The output was taken from an earlier task with the same cache key."""
    cloned_from: str | None = None
    """Task id this record was cloned from by a resume (nothing was recomputed)."""
    error: str | None = None
    log_key: str | None = None
    gpu_fallback: bool = False
    """The step asked for a GPU and ran without one (``--gpu-fallback``)."""

    @property
    def task_id(self) -> str:
        return task_id(self.run_id, self.step, self.index)


class TaskBatch(_Record):
    """Task records sent in one request (the service's bulk endpoint)."""

    tasks: list[TaskRecord] = Field(max_length=MAX_BATCH)


class TasksRecorded(_Record):
    recorded: int
    """How many records the request carried (recording them again changes nothing)."""


class ArtifactCreate(ArtifactInfo):
    """An artifact registered on its own (idempotent by digest): its bytes. A name and metadata
    describe a task's output, and are recorded with the task (`TaskRecord.output`)."""

    uri: str | None = None

    @model_validator(mode="after")
    def _bytes_only(self) -> ArtifactCreate:
        if self.name is not None or self.metadata:
            raise ValueError(
                "an artifact registered on its own has no name or metadata: those describe a "
                "task's output; record them with the task's record (its output)"
            )
        return self


class TokenScope(Answer):
    """What the token a request carried may do (``anonymous``: none was needed or given)."""

    scope: Literal["read", "write", "anonymous"]


class TokenPublic(Answer):
    """A token as `argosy token list` shows it: never the token, nor its whole hash."""

    id: str
    """The first 8 hex digits of the token's sha256: enough to name it, useless to guess it."""
    name: str
    scope: Literal["read", "write"]
    created_at: datetime


# --- read side -------------------------------------------------------------------------------


class PipelinePublic(Answer):
    """A pipeline name and its versions."""

    name: str
    created_at: datetime | None = None
    versions: int = 0
    latest_version: str | None = None
    """Digest of the version recorded last."""


class PipelineVersionPublic(Answer):
    """One version of a pipeline (its IR is `MetadataReader.get_pipeline_version`)."""

    digest: str
    pipeline: str
    created_at: datetime | None = None


class RunPublic(Answer):
    """A run as recorded."""

    id: str
    pipeline: str
    pipeline_version: str
    pipeline_ref: str | None = None
    parameters: dict[str, JsonValue] = Field(default_factory=dict)
    status: RunStatus
    backend: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    resumed_from: str | None = None
    workflow_name: str | None = None
    namespace: str | None = None
    error: str | None = None
    project: str | None = None
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)
    """In alphabetical order."""


class RunsPublic(Answer):
    """One page of runs, newest first; pass `next_cursor` back to get the next page."""

    data: list[RunPublic]
    next_cursor: str | None = None
    """None on the last page."""
    count: int | None = None
    """Runs matching the filters, over all pages."""


class TaskPublic(Answer):
    """A task (one run, step and index) as its latest attempt left it."""

    id: str
    """`task_id(run_id, step, index)`."""
    run_id: str
    step: str
    index: int = 0
    attempt: int = 0
    """The latest attempt's number (0 is the first)."""
    attempts: int = 1
    """How many attempts were recorded."""
    status: TaskStatus
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output: ArtifactInfo | None = None
    named_outputs: dict[str, ArtifactInfo] = Field(default_factory=dict)
    """For a step returning several values, the artifact of each, by name."""
    inputs: list[TaskInput] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    cache_key: str | None = None
    cache_hit: bool = False
    cloned_from: str | None = None
    error: str | None = None
    log_key: str | None = None
    gpu_fallback: bool = False


class ArtifactPublic(ArtifactInfo):
    """An artifact with where it came from and where it went: usable wherever an ArtifactInfo is.

    Its ``name`` and ``metadata`` are those its first producing task (by task id) gave it.
    """

    uri: str | None = None
    produced_by: list[str] = Field(default_factory=list)
    """Ids of the tasks whose output it is (several when runs produced the same bytes)."""
    consumed_by: list[str] = Field(default_factory=list)
    """Ids of the tasks that read it."""


class LineageNode(Answer):
    """An artifact (id = digest) or a task (id = task id) in a lineage graph."""

    id: str
    kind: Literal["artifact", "task"]
    depth: int | None = None
    """Tasks from the query's root to this node: 0 for the root artifact, 1 for the task that
    produced it (upstream) or read it (downstream) and for that task's other artifacts, etc."""
    run_id: str | None = None
    step: str | None = None
    index: int | None = None
    status: TaskStatus | None = None
    type: str | None = None
    """For an artifact: the Python type of the value."""
    format: str | None = None
    size: int | None = None


class LineageEdge(Answer):
    """Data flow: an ``input`` edge goes artifact -> task, an ``output`` edge task -> artifact."""

    source: str
    target: str
    kind: Literal["input", "output"]
    argument: str | None = None
    """For an input edge: the argument the task read the artifact into."""
    item: int | None = None
    """For an input edge: the item of the artifact a mapped task took."""


class LineageGraph(Answer):
    """Nodes and data-flow edges around an artifact (a lineage query) or of a whole run."""

    root: str | None = None
    """The artifact digest a lineage query started from, or the run id of a run graph."""
    direction: Literal["upstream", "downstream"] | None = None
    nodes: list[LineageNode] = Field(default_factory=list)
    edges: list[LineageEdge] = Field(default_factory=list)


class MetricPublic(Answer):
    """One metric a task reported (its latest attempt)."""

    task_id: str
    run_id: str
    step: str
    index: int = 0
    name: str
    value: float


class ValueChange(Answer):
    """One key whose value differs between two runs (None where a run has no such key)."""

    key: str
    a: JsonValue = None
    b: JsonValue = None


class RunDiff(Answer):
    """What differs between run `a` and run `b`; unchanged keys are left out."""

    a: str
    b: str
    pipelines: tuple[str, str]
    pipeline_versions: tuple[str, str]
    parameters: list[ValueChange] = Field(default_factory=list)
    outputs: list[ValueChange] = Field(default_factory=list)
    """Keys are ``step[index]``, values output artifact digests."""
    metrics: list[ValueChange] = Field(default_factory=list)
    """Keys are ``step[index].name``."""

    @property
    def same_version(self) -> bool:
        return self.pipeline_versions[0] == self.pipeline_versions[1]


__all__ = [
    "INT32",
    "MAX_BATCH",
    "STEP_PATTERN",
    "Answer",
    "ArtifactCreate",
    "ArtifactPublic",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "MetricPublic",
    "PipelinePublic",
    "PipelineVersionPublic",
    "RunCreate",
    "RunDiff",
    "RunPublic",
    "RunStatus",
    "RunTagsChange",
    "RunUpdate",
    "RunsPublic",
    "TaskBatch",
    "TaskInput",
    "TaskPublic",
    "TaskRecord",
    "TaskStatus",
    "TasksRecorded",
    "TokenPublic",
    "TokenScope",
    "ValueChange",
    "task_id",
]
