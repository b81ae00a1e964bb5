"""Pipelines passing files, folders, described outputs and values of a registered format between
steps; the tests run them locally and on S3, workers and the CLI load them by reference.

Importing this module registers the ``fraction`` format, as a pipeline file would: every process
that runs one of these steps imports it first, so the format is known wherever it is needed.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np

from argosy import Artifact, pipeline, register_serializer, step


def _save_fraction(value: Fraction, path: Path) -> None:
    path.write_text(f"{value.numerator}/{value.denominator}")


def _load_fraction(path: Path) -> Fraction:
    return Fraction(path.read_text())


register_serializer("fraction", Fraction, save=_save_fraction, load=_load_fraction)


@step
def write_report(workdir: str, n: int) -> Path:
    report = Path(workdir) / "report.csv"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("".join(f"{i},{i * i}\n" for i in range(n)))
    return report


@step
def write_model(workdir: str, n: int) -> Artifact:
    model = Path(workdir) / "model"
    (model / "weights").mkdir(parents=True, exist_ok=True)
    np.save(model / "weights" / "w.npy", np.arange(n, dtype=float))
    (model / "config.json").write_text(json.dumps({"n": n}))
    return Artifact(model, metadata={"framework": "numpy", "n": n})


@step
def share(n: int) -> Fraction:
    return Fraction(n, 6)


@step
def summarize(report: Path, model: Path, part: Fraction) -> Artifact:
    rows = report.read_text().splitlines()
    summary = {
        "report": report.name,
        "rows": len(rows),
        "model": model.name,
        "config": json.loads((model / "config.json").read_text()),
        "weights": float(np.load(model / "weights" / "w.npy").sum()),
        "part": str(part * 2),
    }
    return Artifact(summary, metadata={"rows": len(rows), "checked": ["report", "model"]})


@pipeline
def artifacts(workdir: str, n: int = 4):
    """A file, a folder with metadata and a fraction, read by one step."""
    return summarize(write_report(workdir, n), write_model(workdir, n), share(n))


@step
def array(n: int) -> np.ndarray:
    return np.arange(n, dtype=float)


@step
def overwrite(x: np.ndarray) -> float:
    x[0] = -1.0
    return float(x.sum())


@step
def double(values: np.ndarray, scale: float = 2.0) -> float:
    values *= scale
    return float(values.sum())


@pipeline
def writes_into_inputs(n: int = 5):
    """Steps that write into arrays they were given, as numpy code often does."""
    x = array(n)
    overwrite(x)
    double(x)
