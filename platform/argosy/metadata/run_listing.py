"""What every reader of the runs table shares, free of SQLAlchemy: page bounds, cursors, id
prefixes, and how a lost run reads.

The `Repository` (`argosy.metadata.queries`) and the `EmbeddedReader` (sqlite3) list runs with
these, so a cursor one makes the other reads, and both show a lost run alike: a run recorded as
running whose runner has stopped sending heartbeats. A local runner records a heartbeat every
few seconds (`MetadataSink.heartbeat`, stamped with the metadata store's own clock). When the
runner is killed, or its machine goes down, nothing ever records the run's end; reads then show
the run as failed, with an error that says what happened and how to resume it, once its last
heartbeat is older than ``lost_after`` seconds. Nothing is written: a runner that comes back
sends its next heartbeat and the run reads as running again. Runs that never sent a heartbeat
(Argo runs, whose controller owns their status) are never lost.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from argosy.errors import MetadataError, NotFound
from argosy.metadata.schemas import RunPublic, RunStatus
from argosy.metadata.writes import utcnow
from argosy.run_ids import RUN_ID_PATTERN

MAX_PAGE = 1000
"""The most runs one `list_runs` page returns."""
_MAX_CURSOR = 512
"""Characters in a cursor; the ones `list_runs` makes have about 100."""


def page_size(limit: int) -> int:
    """The runs a page asked for ``limit`` runs holds: 1 to `MAX_PAGE`."""
    return min(max(limit, 1), MAX_PAGE)


def encode_cursor(created_at: datetime, run_id: str) -> str:
    """The cursor of the page after the run created at ``created_at`` with id ``run_id``."""
    payload = json.dumps([created_at.isoformat(), run_id]).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor of `encode_cursor` holds; MetadataError for anything else."""
    try:
        if len(cursor) > _MAX_CURSOR:
            raise ValueError(f"longer than {_MAX_CURSOR} characters")
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        match decoded:
            case [str(stamp), str(run_id)]:
                created_at = datetime.fromisoformat(stamp)
                if created_at.tzinfo is None:
                    raise ValueError(f"{stamp} has no UTC offset")
                return created_at.astimezone(UTC), run_id
        raise ValueError("not a [created_at, id] pair")
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise MetadataError(
            f"the cursor parameter is not a cursor of this service ({error}); pass the "
            "next_cursor of the previous page, or no cursor for the first page"
        ) from error


def id_range(prefix: str) -> tuple[str, str] | None:
    """The ids starting with ``prefix`` as a range ``low <= id < high`` of the id index; None
    if ``prefix`` cannot start a run id."""
    if re.fullmatch(RUN_ID_PATTERN, prefix) is None:
        return None
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def no_run(run_id: str) -> NotFound:
    """What reading the run ``run_id`` when there is none raises."""
    return NotFound(f"no run {run_id}; `argosy runs` lists the recorded runs")


def tags_by_run(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Each run's tags among the (run id, tag) ``pairs``, in alphabetical order (sorted here:
    databases' collations order text differently)."""
    tags: dict[str, list[str]] = {}
    for run_id, tag in pairs:
        tags.setdefault(run_id, []).append(tag)
    return {run_id: sorted(found) for run_id, found in tags.items()}


def lost_before(lost_after: float) -> datetime:
    """Runs whose last heartbeat is older than this are lost."""
    return utcnow() - timedelta(seconds=lost_after)


def as_read(run: RunPublic, heartbeat_at: datetime | None, cutoff: datetime) -> RunPublic:
    """``run`` as readers see it: failed, saying why, if it is lost (its last heartbeat, at
    ``heartbeat_at``, is older than ``cutoff``)."""
    if run.status is not RunStatus.RUNNING or heartbeat_at is None or heartbeat_at >= cutoff:
        return run
    error = (
        f"the runner stopped sending heartbeats at {heartbeat_at:%Y-%m-%d %H:%M:%S} UTC "
        "(it was killed, or its machine went down); finished tasks are kept: "
        f"continue with `argosy resume {run.id}`"
    )
    return run.model_copy(update={"status": RunStatus.FAILED, "error": error})


__all__ = [
    "MAX_PAGE",
    "as_read",
    "decode_cursor",
    "encode_cursor",
    "id_range",
    "lost_before",
    "no_run",
    "page_size",
    "tags_by_run",
]
