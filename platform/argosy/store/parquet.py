"""The built-in ``parquet`` format: pandas DataFrames as Parquet files, through pyarrow.

Registered (`register_if_installed`, when `argosy.store` is imported) only where both pandas and
pyarrow (`MIN_PYARROW` or later) can be imported; neither is imported until a DataFrame is saved
or a ``parquet`` artifact loaded. It is an ordinary registered serializer: one a pipeline
registers for DataFrames later is asked before it. The index is kept; the file records the
pandas and pyarrow versions that wrote it (equal frames give equal bytes with equal versions)."""

from __future__ import annotations

import re
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from argosy.errors import StoreError
from argosy.store import registry


def _save(frame: Any, path: Path) -> None:
    try:
        frame.to_parquet(path, engine="pyarrow", index=True)
    except (TypeError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise StoreError(
            f"cannot store this DataFrame as Parquet ({type(error).__name__}: {error}); give "
            "each column one type (a column mixing numbers and text cannot be stored), or "
            "register a serializer of your own for it (argosy.register_serializer)"
        ) from error


def _load(path: Path) -> Any:
    import pandas

    return pandas.read_parquet(path, engine="pyarrow")


PARQUET = registry.Serializer("parquet", ("pandas.DataFrame",), _save, _load)


MIN_PYARROW = (14, 0, 1)
"""The first pyarrow that does not run code from a Parquet file it reads (CVE-2023-47248)."""


def register_if_installed() -> None:
    """Register `PARQUET` if pandas and a safe pyarrow are installed (without importing them)."""
    if find_spec("pandas") is None or find_spec("pyarrow") is None:
        return
    release = tuple(int(part) for part in re.findall(r"\d+", version("pyarrow"))[:3])
    if release >= MIN_PYARROW:
        registry.add(PARQUET)


__all__ = ["MIN_PYARROW", "PARQUET", "register_if_installed"]
