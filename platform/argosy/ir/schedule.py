"""A pipeline's schedule (`Schedule`): when Argo starts it on its own, as a CronWorkflow.

Only the Argo backend acts on it (`argosy schedule`, `argosy compile`); a local run is one run
now, whatever the schedule says. `check_schedule` holds the rules, checked when the pipeline is
defined and again whenever its IR is built: cron expressions Argo accepts (`argosy.ir.cron`), a
timezone the tz database knows, a starting deadline of zero or more seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from argosy.errors import PipelineError
from argosy.ir import cron
from argosy.ir.model import Model

Concurrency = Literal["allow", "forbid", "replace"]

_EXAMPLE = (
    "write five fields, minute hour day-of-month month day-of-week, e.g. '0 3 * * *' (03:00 "
    "every day) or '*/15 9-17 * * MON-FRI', or a macro such as '@daily'"
)


class Schedule(Model):
    """When Argo starts the pipeline: at each time any of ``crons`` names, in ``timezone``."""

    crons: list[str] = Field(default_factory=list)
    """Cron expressions as Argo reads them (`argosy.ir.cron`): a run starts at each."""
    timezone: str = "UTC"
    """The IANA timezone the expressions are read in (``Europe/Paris``)."""
    concurrency: Concurrency = "allow"
    """When a start comes while an earlier run is still going: ``allow`` both to run,
    ``forbid`` the new one (it is skipped), or ``replace`` the old one (it is stopped)."""
    starting_deadline_seconds: int | None = None
    """How late a missed start (the controller was down) may still happen; None: Argo's own
    default, 0 (a missed start is skipped)."""

    def next_time(self, after: datetime) -> datetime | None:
        """The first start after ``after`` (in ``timezone``); None when none is known: an
        ``@every`` interval counts from when the controller took the schedule up."""
        zone = ZoneInfo(self.timezone)
        times = [
            fields.next_time(after, zone)
            for fields in map(cron.parse, self.crons)
            if isinstance(fields, cron.CronFields)
        ]
        known = [time for time in times if time is not None]
        return min(known) if known and len(known) == len(self.crons) else None


def check_schedule(schedule: Schedule, *, pipeline: str) -> None:
    """PipelineError, naming the pipeline and the argument, unless Argo can run ``schedule``."""
    if not schedule.crons:
        raise PipelineError(
            f"the schedule is empty; {_EXAMPLE}", pipeline=pipeline, argument="schedule"
        )
    for expression in schedule.crons:
        try:
            cron.parse(expression)
        except ValueError as error:
            raise PipelineError(
                f"{expression!r} is not a cron schedule: {error}; {_EXAMPLE}",
                pipeline=pipeline,
                argument="schedule",
            ) from None
    try:
        ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise PipelineError(
            f"{schedule.timezone!r} is not a timezone; write an IANA name such as 'UTC', "
            "'Europe/Paris' or 'America/New_York'",
            pipeline=pipeline,
            argument="timezone",
        ) from None
    if schedule.starting_deadline_seconds is not None and schedule.starting_deadline_seconds < 0:
        raise PipelineError(
            "must be zero or more (e.g. '10m': a start missed by up to 10 minutes still runs)",
            pipeline=pipeline,
            argument="starting_deadline",
        )


__all__ = ["Concurrency", "Schedule", "check_schedule"]
