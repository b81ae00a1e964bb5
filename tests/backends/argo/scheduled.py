"""Pipelines with schedules, for the tests of compiling and scheduling CronWorkflows."""

from __future__ import annotations

from argosy import current, pipeline, run_status, step


@step(retries=1)
def stamp(label: str) -> str:
    return f"{label} at {current.scheduled_time}"


@step
def report(status: str) -> str:
    return f"the run {status}"


@pipeline(
    schedule="0 3 * * *", timezone="Europe/Paris", concurrency="forbid", starting_deadline="10m"
)
def nightly(label: str = "night"):
    """Stamps the time the schedule meant, and reports how the run went."""
    stamped = stamp(label)
    report(run_status()).on_exit()
    return stamped


@pipeline
def unscheduled(label: str = "day"):
    return stamp(label)


@pipeline(schedule="@hourly")
def labelled(label: str):
    """A required parameter: each scheduled run needs a value for it."""
    return stamp(label)
