"""Values every metadata database can store: timestamps within its years, JSON of valid Unicode.

Annotated types for the fields of `argosy.metadata.schemas`, so a value the database would
refuse fails validation (a 422 naming the field) instead of failing the write.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, JsonValue


def _storable_time(value: datetime) -> datetime:
    """``value``, if it stays within the years 1 to 9999 in UTC (as it is stored)."""
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError as error:
            raise ValueError(
                f"{value.isoformat()} is outside the years 1 to 9999 in UTC"
            ) from error
    return value


def _unicode_json(value: JsonValue) -> JsonValue:
    """``value``, if its strings are valid Unicode (no lone surrogate such as ``\\ud800``)."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError as error:
        raise ValueError(f"holds text that is not valid Unicode ({error.reason})") from error
    return value


StorableTime = Annotated[datetime, AfterValidator(_storable_time)]
"""A timestamp the database can store (naive ones are taken as UTC)."""
UnicodeJson = Annotated[JsonValue, AfterValidator(_unicode_json)]
"""A JSON value whose strings can be stored and sent back as UTF-8."""

__all__ = ["StorableTime", "UnicodeJson"]
