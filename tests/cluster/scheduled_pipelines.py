"""A pipeline with a schedule, for the schedule test on the cluster: its step returns the start
the schedule meant, as ``argosy.current`` tells it."""

from __future__ import annotations

from argosy import current, pipeline, step


@step
def meant() -> str | None:
    scheduled = current.scheduled_time
    return None if scheduled is None else scheduled.isoformat()


@pipeline(schedule="* * * * *", timezone="Europe/Paris", concurrency="forbid")
def every_minute():
    return meant()
