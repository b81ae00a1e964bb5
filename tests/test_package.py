"""The public surface of `argosy`, and that importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import argosy


def test_all_lists_exactly_the_public_names() -> None:
    assert argosy.__all__ == sorted(argosy.__all__)
    for name in argosy.__all__:
        assert getattr(argosy, name) is not None


def test_import_argosy_does_not_load_heavy_parts() -> None:
    heavy = ["hera", "sqlalchemy", "minio", "fastapi", "numpy", "kubernetes", "httpx"]
    code = f"import sys, argosy, argosy.ir; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
