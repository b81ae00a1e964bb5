"""Kubernetes resource quantities (``"650M"``, ``"1.5Gi"``, ``"500m"``, ``"2e9"``), read one way.

`Resources` checks a step's memory and CPU with these functions, the local backend sizes its
slots and memory limits with them, and the Argo compiler writes the quantities they accept as
they were written: a quantity that runs locally compiles, and Kubernetes reads it as the local
backend did. The forms are Kubernetes' own: a plain number, a binary suffix (Ki Mi Gi Ti Pi
Ei), a decimal suffix (m k M G T P E) or an exponent (``e9``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

_QUANTITY = re.compile(
    r"(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE](?P<exponent>[+-]?[0-9]+))?"
)
_FACTORS = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    **{suffix: Decimal(1000) ** power for power, suffix in enumerate("kMGTPE", start=1)},
    **{f"{s}i": Decimal(1024) ** power for power, s in enumerate("KMGTPE", start=1)},
}


def quantity(text: str) -> Decimal:
    """The number a Kubernetes quantity stands for; ValueError when ``text`` is not one."""
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    number = Decimal(match["number"])
    if match["exponent"] is not None:
        return number.scaleb(int(match["exponent"]))
    return number * _FACTORS[match["suffix"]]


def memory_bytes(text: str) -> int:
    """Bytes in a memory quantity such as ``"512Mi"``, ``"650M"`` or ``"1000000"``."""
    try:
        value = quantity(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a memory quantity; write it as Kubernetes does: "
            "'512Mi', '2Gi', '650M' or a number of bytes"
        ) from None
    if text.endswith("m"):
        raise ValueError(
            f"{text!r} is {value} bytes ('m' is milli); write megabytes as '{text[:-1]}M' or "
            f"mebibytes as '{text[:-1]}Mi'"
        )
    return math.ceil(value)


def cpu_cores(value: str | float) -> float:
    """CPU cores in a CPU quantity (``"500m"``, ``"2"``) or a number of cores."""
    if not isinstance(value, str):
        return float(value)
    try:
        return float(quantity(value))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a CPU quantity; give cores (2, 0.5) or millicores ('500m')"
        ) from None


def cpu_quantity(cores: float) -> str:
    """The Kubernetes CPU quantity of ``cores``: whole cores as ``"2"``, else millicores."""
    if float(cores).is_integer():
        return str(int(cores))
    return f"{math.ceil(cores * 1000)}m"


__all__ = ["cpu_cores", "cpu_quantity", "memory_bytes", "quantity"]
