"""Cron expressions as Argo reads them (`argosy.ir.cron`): what parses, what is refused and
why, and the next time an expression fires, daylight-saving changes included."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from argosy import ir
from argosy.ir import cron

PARIS = ZoneInfo("Europe/Paris")


def _fields(expression: str) -> cron.CronFields:
    parsed = cron.parse(expression)
    assert isinstance(parsed, cron.CronFields)
    return parsed


def test_numbers_ranges_steps_lists_and_names() -> None:
    fields = _fields("*/15 9-17/4 1,15 jan-MAR,Dec mon-fri")
    assert fields.minutes == {0, 15, 30, 45}
    assert fields.hours == {9, 13, 17}
    assert fields.days == {1, 15}
    assert fields.months == {1, 2, 3, 12}
    assert fields.weekdays == {1, 2, 3, 4, 5}
    assert (fields.any_day, fields.any_weekday) == (False, False)


def test_a_single_value_with_a_step_runs_to_the_end_of_the_field() -> None:
    assert _fields("50/5 * * * *").minutes == {50, 55}
    assert _fields("0 0 ? * SUN").weekdays == {0}


def test_star_with_a_step_is_a_restriction_and_a_plain_star_is_not() -> None:
    assert _fields("0 0 */2 * *").any_day is False
    assert _fields("0 0 * * *").any_day is True
    assert _fields("0 0 */1 * *").any_day is True


@pytest.mark.parametrize(
    ("macro", "same_as"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ],
)
def test_macros_are_their_five_fields(macro: str, same_as: str) -> None:
    assert cron.parse(macro) == cron.parse(same_as)


def test_every_takes_a_go_duration() -> None:
    assert cron.parse("@every 1h30m") == cron.Interval("1h30m")
    assert cron.parse("@every 1.5h") == cron.Interval("1.5h")


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 3 * *", "it has 4 field(s), not 5"),
        ("0 0 3 * * *", "it has 6 field(s), not 5"),
        ("61 * * * *", "the minute '61': 61 is outside 0-59"),
        ("0 24 * * *", "the hour '24': 24 is outside 0-23"),
        ("0 0 0 * *", "the day of month '0': 0 is outside 1-31"),
        ("0 0 * 13 *", "the month '13': 13 is outside 1-12 (or JAN-DEC)"),
        ("0 0 * * 7", "the day of week '7': 7 is outside 0-6 (Sunday is 0; or SUN-SAT)"),
        ("0 0 * * MON-XYZ", "'XYZ' is not a number"),
        ("0 0 * JAN-MON *", "'MON' is not a number (or JAN-DEC)"),
        ("5-1 * * * *", "a range from 5 back to 1"),
        ("*-5 * * * *", "is not a range"),
        ("*/0 * * * *", "needs a step of 1 or more"),
        ("1-2-3 * * * *", "is not a value, a range a-b or a step"),
        ("1,,2 * * * *", "has an empty item"),
        ("¹ * * * *", "is not a number"),
        ("0 0 30 2 *", "it never runs"),
        ("0 0 31 4,6 *", "it never runs"),
        ("CRON_TZ=Europe/Paris 0 3 * * *", "a timezone goes in timezone="),
        ("@fortnightly", "unknown macro; the macros are @yearly"),
        ("@every soon", "'soon' is not a positive duration"),
        ("@every 0s", "'0s' is not a positive duration"),
    ],
)
def test_what_argo_refuses_is_refused_with_the_reason(expression: str, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        cron.parse(expression)
    assert problem in str(caught.value)


def test_either_day_field_decides_when_both_are_restricted() -> None:
    first_or_monday = _fields("0 0 1 * MON")
    assert first_or_monday.runs_on(datetime(2026, 7, 1).date())  # a Wednesday, the 1st
    assert first_or_monday.runs_on(datetime(2026, 7, 6).date())  # a Monday
    assert not first_or_monday.runs_on(datetime(2026, 7, 7).date())
    first_and_monday = _fields("0 0 1 * *")
    assert not first_and_monday.runs_on(datetime(2026, 7, 6).date())


def test_next_time_in_a_timezone() -> None:
    fields = _fields("0 3 * * *")
    after = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert fields.next_time(after, PARIS) == datetime(2026, 1, 11, 3, 0, tzinfo=PARIS)
    assert fields.next_time(after, UTC) == datetime(2026, 1, 11, 3, 0, tzinfo=UTC)
    exactly = datetime(2026, 1, 11, 2, 0, tzinfo=UTC)  # 03:00 in Paris: the next is tomorrow
    assert fields.next_time(exactly, PARIS) == datetime(2026, 1, 12, 3, 0, tzinfo=PARIS)


def test_a_time_daylight_saving_skips_does_not_fire_that_day() -> None:
    # Paris moves from 02:00 to 03:00 on 29 March 2026: 02:30 does not exist that day
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert _fields("30 2 * * *").next_time(after, PARIS) == datetime(
        2026, 3, 30, 2, 30, tzinfo=PARIS
    )
    assert _fields("0 3 * * *").next_time(after, PARIS) == datetime(2026, 3, 29, 3, 0, tzinfo=PARIS)


def test_next_time_finds_a_leap_day_and_weekdays() -> None:
    after = datetime(2026, 7, 3, 18, 0, tzinfo=UTC)  # a Friday
    assert _fields("0 0 29 2 *").next_time(after, UTC) == datetime(2028, 2, 29, tzinfo=UTC)
    assert _fields("0 9 * * MON-FRI").next_time(after, UTC) == datetime(
        2026, 7, 6, 9, 0, tzinfo=UTC
    )


def test_a_schedule_starts_next_at_its_earliest_expression() -> None:
    schedule = ir.Schedule(crons=["0 12 * * *", "30 6 * * *"], timezone="Europe/Paris")
    after = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    assert schedule.next_time(after) == datetime(2026, 1, 11, 6, 30, tzinfo=PARIS)
    assert ir.Schedule(crons=["@every 1h", "@daily"]).next_time(after) is None
