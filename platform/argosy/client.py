"""`argosy.Client`: past runs, their tasks, outputs, logs, metrics and lineage, from Python.

    from argosy import Client
    run = Client().latest_run("kmeans_sweep")
    run.output("fit")[2].load()          # a mapped step: one artifact per task, in map order
    run.output("pick_best").load()       # an unmapped step: one artifact
    run.output("train").load(allow_pickle=True)  # a fitted model: unpickled only when asked

The client reads through a `MetadataReader` (the embedded database, or a metadata service when
``ARGOSY_METADATA_URL`` is set) and loads values from the `ArtifactStore`; both are opened on
first use. `Run`, `Task` and `Artifact` (`argosy.client_views`) are small frozen views over the
recorded shapes that fetch more only when asked. Run ids and artifact digests may be given as
unique prefixes, as in git (found by an index range, not a scan); a prefix several share raises
`Ambiguous`, listing them. A pipeline name stands for its newest run (`Client.run`).

Like Metaflow's namespaces, a client lists the runs of one owner (`argosy.ownership`), by
default the current user's: ``Client(owner="production")`` lists production runs,
``Client(owner=None)`` every owner's; a run asked for by id is found whoever owns it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from argosy.client_views import Artifact, Run, Task
from argosy.config import Settings
from argosy.errors import Ambiguous, NotFound
from argosy.metadata.reader import MetadataReader
from argosy.metadata.schemas import (
    ArtifactPublic,
    RunPublic,
    RunStatus,
)
from argosy.ownership import (
    CURRENT_USER,
    CurrentUser,
    check_owner,
    check_project,
    check_tags,
    user_owner,
)
from argosy.store.base import ArtifactStore

PAGE = 200
"""Runs asked for per page when scanning."""
MIN_PREFIX = 4
"""Shortest id prefix accepted, so a typo does not match by accident."""
SHOWN = 10
"""Runs or artifacts an ambiguous prefix lists."""

DIGEST_LENGTH = 64
"""Hex characters of a sha256: a digest this long is never a prefix."""

T = TypeVar("T")


class Client:
    """Reads what Argosy recorded. ``Client()`` uses the settings of the environment.

    `runs` and `latest_run` list the runs of ``owner``: ``user:<name>``, ``production``, None
    for every owner's, by default the current user's.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        reader: MetadataReader | None = None,
        store: ArtifactStore | None = None,
        owner: str | CurrentUser | None = CURRENT_USER,
    ) -> None:
        self._settings = settings
        self._reader = reader
        self._store = store
        self._owner = (
            owner if owner is None or isinstance(owner, CurrentUser) else check_owner(owner)
        )

    @property
    def owner(self) -> str | None:
        """Whose runs `runs` and `latest_run` list (None: everyone's)."""
        if isinstance(self._owner, CurrentUser):
            self._owner = user_owner(self.settings.user)
        return self._owner

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings()
        return self._settings

    @property
    def reader(self) -> MetadataReader:
        if self._reader is None:
            from argosy.metadata import open_reader

            self._reader = open_reader(self.settings)
        return self._reader

    @property
    def store(self) -> ArtifactStore:
        if self._store is None:
            from argosy.store import open_store

            self._store = open_store(self.settings)
        return self._store

    def runs(
        self,
        pipeline: str | None = None,
        status: RunStatus | str | None = None,
        limit: int | None = 50,
        *,
        project: str | None = None,
        tags: Iterable[str] = (),
    ) -> list[Run]:
        """The client owner's runs, newest first: of one pipeline, in one status, of one
        project, holding every one of ``tags``, when given; all of them when limit=None."""
        scope = self._scope(project, tags)
        return [Run(self, record) for record in self._run_records(pipeline, status, limit, **scope)]

    def run(self, ref: str) -> Run:
        """The run ``ref`` names, whoever owns it: the run with this id; else, if ``ref`` is
        a pipeline's name, its newest run (the client owner's, or any owner's when they have
        none: ``Client().run("kmeans_sweep")``); else the one run whose id starts with ``ref``
        (at least `MIN_PREFIX` characters). NotFound if none; `Ambiguous`, listing them, if
        several ids start with it."""
        return Run(self, self._get_run(ref))

    def latest_run(
        self,
        pipeline: str,
        status: RunStatus | str | None = None,
        *,
        project: str | None = None,
        tags: Iterable[str] = (),
    ) -> Run:
        """The client owner's newest run of ``pipeline`` (in ``status``, of ``project``, with
        every one of ``tags``, when given)."""
        scope = self._scope(project, tags)
        records = self._run_records(pipeline, status, 1, **scope)
        if not records:
            which = f"{pipeline} in status {RunStatus(status).value}" if status else pipeline
            shown = {**scope, "owner": scope["owner"] or "any", "tags": ", ".join(scope["tags"])}
            among = ", ".join(f"{key} {value}" for key, value in shown.items() if value)
            raise NotFound(
                f"no runs of {which} ({among}); start one with `argosy run PIPELINE`, or read "
                "every owner's runs with Client(owner=None)"
            )
        return Run(self, records[0])

    def _scope(self, project: str | None, tags: Iterable[str]) -> dict[str, Any]:
        """The project, owner and tags filters of a listing, checked."""
        return {
            "project": None if project is None else check_project(project),
            "owner": self.owner,
            "tags": check_tags(tags),
        }

    def artifact(self, digest: str) -> Artifact:
        """The artifact with this digest, or the one whose digest starts with it."""
        return Artifact(self, self._get_artifact(digest))

    def _run_records(
        self,
        pipeline: str | None,
        status: RunStatus | str | None,
        limit: int | None,
        **scope: Any,
    ) -> list[RunPublic]:
        """Recorded runs, newest first, in ``scope`` (project, owner, tags: every owner's when
        there is none)."""
        wanted = None if status is None else RunStatus(status)
        records: list[RunPublic] = []
        cursor: str | None = None
        while limit is None or len(records) < limit:
            size = PAGE if limit is None else min(PAGE, limit - len(records))
            page = self.reader.list_runs(
                pipeline=pipeline, status=wanted, limit=size, cursor=cursor, **scope
            )
            records.extend(page.data)
            cursor = page.next_cursor
            if cursor is None or not page.data:
                break
        return records

    def _get_run(self, ref: str) -> RunPublic:
        try:
            return self.reader.get_run(ref)
        except NotFound:
            pass
        for owner in dict.fromkeys((self.owner, None)):  # the client owner's, then anyone's
            newest = self.reader.list_runs(pipeline=ref, owner=owner, limit=1).data
            if newest:
                return newest[0]
        found = self.reader.find_runs(ref, SHOWN + 1) if len(ref) >= MIN_PREFIX else []
        if not found:
            raise NotFound(
                f"no run {ref!r}: no run has that id or starts with it, and no pipeline has that "
                f"name (prefixes need {MIN_PREFIX} characters); list runs with `argosy runs`"
            )
        if len(found) > 1:
            rows = [("id", "pipeline", "status", "started")]
            rows += [(r.id, r.pipeline, r.status.value, _started(r)) for r in found[:SHOWN]]
            raise Ambiguous(_candidates(ref, "run", len(found), rows, first="newest first"))
        return found[0]

    def _get_artifact(self, digest: str) -> ArtifactPublic:
        try:
            return self.reader.get_artifact(digest)
        except NotFound:
            if len(digest) >= DIGEST_LENGTH:
                raise
        found = self.reader.find_artifacts(digest, SHOWN + 1) if len(digest) >= MIN_PREFIX else []
        if not found:
            raise NotFound(f"no artifact {digest!r}; see `argosy show RUN_ID`")
        if len(found) > 1:
            rows = [("digest",), *((match,) for match in found[:SHOWN])]
            raise Ambiguous(_candidates(digest, "artifact", len(found), rows))
        return self.reader.get_artifact(found[0])


def _started(run: RunPublic) -> str:
    started = run.started_at
    return "-" if started is None else started.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _candidates(
    prefix: str, what: str, found: int, rows: Sequence[Sequence[str]], first: str = "first"
) -> str:
    """The message of an ambiguous ``prefix``: the ``what``s it matches as a table (``rows``,
    headings first; the ``first`` ones when there are more), then what to do."""
    many = f"{found} {what}s" if found <= SHOWN else f"more than {SHOWN} {what}s, {first}"
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    table = "\n".join(line.rstrip() for line in lines)
    return (
        f"{what} prefix {prefix!r} is ambiguous; it matches {many}:\n{table}\ngive more characters"
    )


__all__ = ["Artifact", "Client", "Run", "Task"]
