"""What every IR model shares: frozen pydantic models, the name rule, empty optional fields."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
"""Step and parameter names: Python identifiers in lower case, short enough for Kubernetes."""


OUTPUT_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
"""Names of a step's outputs: the fields of the NamedTuple or dataclass it returns."""


class Model(BaseModel):
    """A frozen IR model that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def empty(value: Any) -> bool:
    """Whether an optional field holds nothing (left out of the JSON, keeping digests)."""
    return value is None or value is False or not value


__all__ = ["NAME_PATTERN", "OUTPUT_NAME_PATTERN", "Model", "empty"]
