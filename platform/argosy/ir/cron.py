"""Cron expressions as Argo reads them: parsed, checked, and stepped to their next time.

Argo's CronWorkflow controller parses schedules with robfig/cron v3's standard parser, and this
module accepts what it accepts (a little less, never more), so a schedule that passes here is
not refused by the controller later:

* five fields, ``minute hour day-of-month month day-of-week``, each a comma-separated list of
  ``*`` (or ``?``), a number, a range ``a-b``, or a step ``*/n``, ``a-b/n`` or ``a/n`` (from
  ``a`` to the field's end); months and weekdays also by name (``JAN``, ``MON``, any case);
  Sunday is 0 (7 is refused, as Argo refuses it);
* or a macro: ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily``
  (``@midnight``), ``@hourly``, or ``@every DURATION`` (Go's duration syntax, ``1h30m``).

Day of month and day of week combine as cron's do: when both are restricted (neither starts
with ``*``), a day that matches either one runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
EVERY = "@every "
"""The macro of a fixed interval, counted from when the controller takes the schedule up."""

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_WEEKDAYS = {
    name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
}
_MONTH_DAYS = dict(enumerate([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], start=1))
"""The most days each month has."""
_GO_DURATION = re.compile(r"^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$")
_DIGITS = re.compile(r"^[0-9]+$")
_SEARCH_YEARS = 5
"""How far ahead `CronFields.next_time` looks (robfig/cron gives up after five years too)."""


@dataclass(frozen=True)
class _Field:
    label: str
    low: int
    high: int
    names: Mapping[str, int] = field(default_factory=dict)
    hint: str = ""


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, _MONTHS, " (or JAN-DEC)"),
    _Field("day of week", 0, 6, _WEEKDAYS, " (Sunday is 0; or SUN-SAT)"),
)


@dataclass(frozen=True)
class CronFields:
    """A five-field expression as the sets of values each field allows."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 is Sunday."""
    any_day: bool
    """The day of month starts with ``*`` (no step): only the day of week decides."""
    any_weekday: bool
    """The day of week starts with ``*`` (no step): only the day of month decides."""

    def runs_on(self, day: date) -> bool:
        """Whether the expression fires on ``day`` (at some hour and minute)."""
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = (day.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return in_days and in_weekdays
        return in_days or in_weekdays

    def next_time(self, after: datetime, zone: tzinfo) -> datetime | None:
        """The first time after ``after`` the expression fires, read in ``zone``; None when it
        does not within five years. Wall times a daylight-saving change skips do not fire."""
        start = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
        start += timedelta(minutes=1)
        for offset in range(_SEARCH_YEARS * 366):
            day = start.date() + timedelta(days=offset)
            if not self.runs_on(day):
                continue
            for hour in sorted(self.hours):
                for minute in sorted(self.minutes):
                    wall = datetime.combine(day, time(hour, minute))
                    moment = wall.replace(tzinfo=zone)
                    exists = moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
                    if wall >= start and exists:
                        return moment
        return None


@dataclass(frozen=True)
class Interval:
    """``@every DURATION``: a start every so often, from when the controller took it up."""

    duration: str


def parse(expression: str) -> CronFields | Interval:
    """The fields (or interval) of a cron expression; ValueError saying what is wrong."""
    text = expression.strip()
    if text.startswith("@"):
        return _macro(text)
    if "=" in text:
        raise ValueError("a timezone goes in timezone=, not in the expression")
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise ValueError(f"it has {len(parts)} field(s), not 5")
    parsed = [_parse_field(part, spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    fields = CronFields(
        minutes=parsed[0][0],
        hours=parsed[1][0],
        days=parsed[2][0],
        months=parsed[3][0],
        weekdays=parsed[4][0],
        any_day=parsed[2][1],
        any_weekday=parsed[4][1],
    )
    if fields.any_weekday and not fields.any_day and not _some_month_has(fields):
        raise ValueError("it never runs: no month it names has that day")
    return fields


def _macro(text: str) -> CronFields | Interval:
    if text in MACROS:
        return parse(MACROS[text])
    if text.startswith(EVERY):
        duration = text.removeprefix(EVERY).strip()
        if not _GO_DURATION.match(duration) or not re.search(r"[1-9]", duration):
            raise ValueError(f"{duration!r} is not a positive duration such as 90s, 15m or 1h30m")
        return Interval(duration)
    known = ", ".join([*MACROS, "@every DURATION"])
    raise ValueError(f"unknown macro; the macros are {known}")


def _parse_field(text: str, spec: _Field) -> tuple[frozenset[int], bool]:
    """The values one field allows, and whether it starts with ``*`` (or ``?``) and no step."""
    values: set[int] = set()
    star = False
    for part in text.split(","):
        if not part:
            raise ValueError(f"the {spec.label} {text!r} has an empty item")
        part_values, part_star = _parse_range(part, spec)
        values |= part_values
        star = star or part_star
    return frozenset(values), star


def _parse_range(part: str, spec: _Field) -> tuple[set[int], bool]:
    span, slash, step_text = part.partition("/")
    low_text, dash, high_text = span.partition("-")
    where = f"the {spec.label} {part!r}"
    if "/" in step_text or "-" in high_text:
        raise ValueError(f"{where} is not a value, a range a-b or a step */n")
    star = low_text in ("*", "?")
    if star:
        if dash:
            raise ValueError(f"{where} is not a range; write a-b, or * alone")
        start, end = spec.low, spec.high
    else:
        start = _value(low_text, spec, where)
        end = _value(high_text, spec, where) if dash else start
    step = 1
    if slash:
        if not _DIGITS.match(step_text) or int(step_text) == 0:
            raise ValueError(f"{where} needs a step of 1 or more after the /")
        step = int(step_text)
        end = end if dash else spec.high
    for value in (start, end):
        if not spec.low <= value <= spec.high:
            raise ValueError(f"{where}: {value} is outside {spec.low}-{spec.high}{spec.hint}")
    if start > end:
        raise ValueError(f"{where} is a range from {start} back to {end}")
    return set(range(start, end + 1, step)), star and step == 1


def _value(text: str, spec: _Field, where: str) -> int:
    if _DIGITS.match(text):
        return int(text)
    if text.lower() in spec.names:
        return spec.names[text.lower()]
    raise ValueError(f"{where}: {text!r} is not a number{spec.hint}")


def _some_month_has(fields: CronFields) -> bool:
    return any(day <= _MONTH_DAYS[month] for month in fields.months for day in fields.days)


__all__ = ["EVERY", "MACROS", "CronFields", "Interval", "parse"]
