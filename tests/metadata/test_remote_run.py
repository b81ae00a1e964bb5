"""``argosy run`` with ARGOSY_METADATA_URL records, through the service, exactly what the
embedded mode records: the same run, tasks, outputs, metrics and lineage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from argosy.metadata.client import MetadataClient
from argosy.metadata.reader import MetadataReader
from argosy.metadata.repository import Repository
from tests.metadata.conftest import ADMIN_TOKEN
from tests.metadata.service_thread import ServiceThread

PIPELINE = """
from argosy import log_metric, pipeline, step


@step
def numbers(n: int) -> list[int]:
    return list(range(n))


@step
def square(x: int) -> int:
    log_metric("x", x)
    return x * x


@step
def total(values: list[int]) -> int:
    return sum(values)


@pipeline
def squares(n: int = 4):
    return total(square.map(x=numbers(n)))
"""


def _run(pipeline: Path, home: Path, **env: str) -> str:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ARGOSY_")}
    environment = inherited | {"ARGOSY_HOME": str(home), **env}
    done = subprocess.run(
        [sys.executable, "-m", "argosy", "run", str(pipeline), "--json", "--max-workers", "2"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["run_id"]


def _recorded(reader: MetadataReader, run_id: str) -> dict[str, Any]:
    """What a run recorded, with its run id taken out of every task id."""
    run = reader.get_run(run_id)
    tasks = reader.list_tasks(run_id)
    name = {t.id: f"{t.step}[{t.index}]" for t in tasks}
    final = next(t for t in tasks if t.step == "total").output
    lineage = reader.lineage(final.digest, "upstream")
    return {
        "run": (run.pipeline, run.pipeline_version, run.parameters, run.status),
        "tasks": [
            (
                name[t.id],
                t.status,
                t.attempts,
                t.output,
                [(i.argument, i.artifact.digest, i.item) for i in t.inputs],
                t.metrics,
            )
            for t in tasks
        ],
        "metrics": sorted((m.step, m.index, m.name, m.value) for m in reader.metrics(run_id)),
        "lineage": (
            sorted(name.get(n.id, n.id) for n in lineage.nodes),
            sorted(
                (name.get(e.source, e.source), name.get(e.target, e.target), e.kind)
                for e in lineage.edges
            ),
        ),
    }


def test_remote_run_records_what_an_embedded_run_records(
    tmp_path: Path, postgres_service: ServiceThread
) -> None:
    pipeline = tmp_path / "squares.py"
    pipeline.write_text(PIPELINE)

    embedded_id = _run(pipeline, tmp_path / "embedded")
    remote_id = _run(
        pipeline,
        tmp_path / "remote",
        ARGOSY_METADATA_URL=postgres_service.url,
        ARGOSY_TOKEN=ADMIN_TOKEN,
    )
    assert not (tmp_path / "remote" / "metadata.db").exists(), "the remote run wrote locally"

    with Repository(f"sqlite:///{tmp_path / 'embedded' / 'metadata.db'}") as embedded:
        expected = _recorded(embedded, embedded_id)
    with MetadataClient(postgres_service.url, ADMIN_TOKEN) as remote:
        got = _recorded(remote, remote_id)
    assert len(expected["tasks"]) == 1 + 4 + 1
    assert got == expected
