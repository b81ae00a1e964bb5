"""The built-in ``parquet`` format: pandas DataFrames as Parquet files, through pyarrow.

Registered (`register_if_installed`, when `argosy.store` is imported) only where both pandas
and pyarrow can be imported; neither is imported until a DataFrame is saved or a ``parquet``
artifact loaded. It is an ordinary registered serializer: one a pipeline registers for
DataFrames later is asked before it. The index is kept; the file records the pandas and
pyarrow versions that wrote it (equal frames give equal bytes with equal versions).
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any

from argosy.store import registry


def _save(frame: Any, path: Path) -> None:
    frame.to_parquet(path, engine="pyarrow", index=True)


def _load(path: Path) -> Any:
    import pandas

    return pandas.read_parquet(path, engine="pyarrow")


PARQUET = registry.Serializer("parquet", ("pandas.DataFrame",), _save, _load)


def register_if_installed() -> None:
    """Register `PARQUET` if pandas and pyarrow are installed (without importing them)."""
    if find_spec("pandas") is not None and find_spec("pyarrow") is not None:
        registry.add(PARQUET)


__all__ = ["PARQUET", "register_if_installed"]
