"""``@pipeline(schedule=...)``: the schedule arguments, checked when the pipeline is defined.

`make_schedule` turns what the decorator was given into an `ir.Schedule`, or raises a
PipelineError that names the pipeline, the argument and what to write, so a wrong schedule
fails at import, not when the CronWorkflow reaches the cluster.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import get_args

from argosy import ir
from argosy.dsl.step import parse_duration
from argosy.errors import PipelineError
from argosy.ir.schedule import check_schedule


def make_schedule(
    pipeline: str,
    schedule: str | Sequence[str] | None,
    *,
    timezone: str | None,
    concurrency: str | None,
    starting_deadline: str | float | None,
) -> ir.Schedule | None:
    """The schedule of pipeline ``pipeline``; None when it has none."""
    if schedule is None:
        given = [
            name
            for name, value in (
                ("timezone", timezone),
                ("concurrency", concurrency),
                ("starting_deadline", starting_deadline),
            )
            if value is not None
        ]
        if given:
            raise PipelineError(
                "only a scheduled pipeline takes it; add schedule='0 3 * * *' (a cron expression)",
                pipeline=pipeline,
                argument=given[0],
            )
        return None
    crons = [schedule] if isinstance(schedule, str) else schedule
    if not isinstance(crons, list | tuple) or not all(isinstance(c, str) for c in crons):
        raise PipelineError(
            "is a cron expression (text such as '0 3 * * *') or a list of them",
            pipeline=pipeline,
            argument="schedule",
        )
    if timezone is not None and not isinstance(timezone, str):
        raise PipelineError(
            "is the name of a timezone, such as 'Europe/Paris'",
            pipeline=pipeline,
            argument="timezone",
        )
    result = ir.Schedule(
        crons=list(crons),
        timezone="UTC" if timezone is None else timezone,
        concurrency=_concurrency(pipeline, concurrency),
        starting_deadline_seconds=_seconds(pipeline, starting_deadline),
    )
    check_schedule(result, pipeline=pipeline)
    return result


def _concurrency(pipeline: str, value: str | None) -> ir.Concurrency:
    """``allow``, ``forbid`` or ``replace``; Argo's spelling (``Forbid``) is taken too."""
    choices = get_args(ir.Concurrency)
    text = "allow" if value is None else value.lower() if isinstance(value, str) else value
    if text not in choices:
        raise PipelineError(
            f"{value!r} is not a concurrency policy; write 'allow' (runs may overlap), "
            "'forbid' (a start is skipped while a run goes on) or 'replace' (it stops that run)",
            pipeline=pipeline,
            argument="concurrency",
        )
    return text  # type: ignore[return-value]


def _seconds(pipeline: str, value: str | float | None) -> int | None:
    """Whole seconds (rounded up) of a duration such as ``"10m"`` or a number of seconds."""
    if value is None:
        return None
    where = {"pipeline": pipeline, "argument": "starting_deadline"}
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PipelineError("is a duration such as '10m' or a number of seconds", **where)
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        raise PipelineError(str(error), **where) from None
    if not math.isfinite(seconds):
        raise PipelineError("must be a finite duration such as '10m'", **where)
    return math.ceil(seconds)


__all__ = ["make_schedule"]
