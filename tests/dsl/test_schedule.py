"""``@pipeline(schedule=...)``: the IR's schedule, its digest, and errors at definition that
name the pipeline, the argument and what to write."""

from __future__ import annotations

from typing import Any

import pytest

from argosy import ir, pipeline, step
from argosy.errors import PipelineError


@step
def fetch() -> int:
    return 1


def _define(**options: Any) -> Any:
    def nightly() -> None:
        fetch()

    return pipeline(**options)(nightly)


def test_a_schedule_is_in_the_ir_with_its_options() -> None:
    nightly = _define(
        schedule="0 3 * * *", timezone="Europe/Paris", concurrency="forbid", starting_deadline="10m"
    )
    assert nightly.ir.schedule == ir.Schedule(
        crons=["0 3 * * *"],
        timezone="Europe/Paris",
        concurrency="forbid",
        starting_deadline_seconds=600,
    )


def test_defaults_several_expressions_and_argo_spelling() -> None:
    assert _define(schedule="@daily").ir.schedule == ir.Schedule(crons=["@daily"])
    twice = _define(schedule=["0 6 * * MON-FRI", "0 9 * * SAT,SUN"], concurrency="Replace")
    assert twice.ir.schedule.crons == ["0 6 * * MON-FRI", "0 9 * * SAT,SUN"]
    assert twice.ir.schedule.concurrency == "replace"
    assert (
        _define(schedule="@hourly", starting_deadline=90.5).ir.schedule.starting_deadline_seconds
        == 91
    )


def test_no_schedule_keeps_the_digest_and_a_schedule_changes_it() -> None:
    plain = _define()
    assert plain.ir.schedule is None
    assert "schedule" not in plain.ir.model_dump(mode="json")
    scheduled = _define(schedule="0 3 * * *")
    assert scheduled.ir.digest() != plain.ir.digest()
    assert scheduled.ir.model_copy(update={"schedule": None}).digest() == plain.ir.digest()


def test_the_schedule_round_trips_through_json() -> None:
    scheduled = _define(schedule="0 3 * * *", timezone="Asia/Tokyo", starting_deadline="1m").ir
    again = ir.Pipeline.model_validate_json(scheduled.model_dump_json())
    assert again == scheduled
    assert again.digest() == scheduled.digest()


@pytest.mark.parametrize(
    ("options", "argument", "message"),
    [
        ({"schedule": "0 3 * *"}, "schedule", "it has 4 field(s), not 5; write five fields"),
        ({"schedule": "0 25 * * *"}, "schedule", "the hour '25': 25 is outside 0-23"),
        ({"schedule": ["@daily", "@sometimes"]}, "schedule", "'@sometimes' is not a cron"),
        ({"schedule": []}, "schedule", "the schedule is empty"),
        ({"schedule": 3}, "schedule", "is a cron expression (text such as '0 3 * * *')"),
        ({"schedule": "@daily", "timezone": "Paris"}, "timezone", "write an IANA name"),
        ({"schedule": "@daily", "timezone": "../etc"}, "timezone", "is not a timezone"),
        ({"schedule": "@daily", "timezone": 1}, "timezone", "is the name of a timezone"),
        ({"schedule": "@daily", "concurrency": "never"}, "concurrency", "write 'allow'"),
        ({"schedule": "@daily", "starting_deadline": "soon"}, "starting_deadline", "'10m'"),
        ({"schedule": "@daily", "starting_deadline": -5}, "starting_deadline", "zero or more"),
        ({"schedule": "@daily", "starting_deadline": [1]}, "starting_deadline", "a duration"),
        ({"timezone": "UTC"}, "timezone", "only a scheduled pipeline takes it"),
        ({"concurrency": "forbid"}, "concurrency", "add schedule='0 3 * * *'"),
    ],
)
def test_a_wrong_schedule_fails_at_definition(
    options: dict[str, Any], argument: str, message: str
) -> None:
    with pytest.raises(PipelineError) as caught:
        _define(name="nightly", **options)
    assert (caught.value.pipeline, caught.value.argument) == ("nightly", argument)
    assert message in str(caught.value)


def test_ir_read_back_is_checked_too() -> None:
    good = _define(name="nightly", schedule="@daily").ir.model_dump(mode="json")
    good["schedule"]["crons"] = ["0 0 31 2 *"]
    with pytest.raises(PipelineError, match=r"pipeline 'nightly', argument 'schedule'.*never"):
        ir.Pipeline.model_validate(good)
