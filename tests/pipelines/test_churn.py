"""pipelines/churn.py end to end (``argosy run``, read back by the Client): the imported table
in the lineage, named outputs read one by one, fields of each grid item, the report file with
its metadata, the project and tags; no schedule, since the table is captured by a submitter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from argosy import Client
from argosy.config import Settings
from argosy.dsl import load_pipeline
from tests.pipelines.recorded import argosy, run_json

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return Client(Settings(home=tmp_path), owner=None)


def test_churn_picks_a_model_and_reports_what_drives_churn(tmp_path: Path, client: Client) -> None:
    args = ["run", "pipelines/churn.py", "--tag", "trial"]
    run = client.run(run_json(tmp_path, *args, status="succeeded"))
    assert (run.project, list(run.tags)) == ("churn", ["trial"])
    accuracies = [a.load() for a in run.output("fit", "accuracy")]  # type: ignore[union-attr]
    best = run.output("choose").load()  # type: ignore[union-attr]
    assert (
        best["accuracy"] == max(accuracies) and best["c"] == [0.01, 0.1, 1.0, 10.0][best["index"]]
    )
    report = run.output("report")
    assert report.name == "churn_report.md"  # type: ignore[union-attr]
    assert report.metadata["strongest"] == "tenure_months"  # type: ignore[union-attr]
    text = report.load().read_text()  # type: ignore[union-attr]
    assert text.startswith("# Churn drivers (churn)") and "- tenure_months: -" in text
    table = run.tasks("load_table")[0].record.inputs[0].artifact
    assert table.metadata == {"source": "pipelines/data/customers.csv"}
    assert table.digest == _sha256(ROOT / "pipelines" / "data" / "customers.csv")

    shown = argosy(tmp_path, "show", run.id)
    assert f"import customers <- pipelines/data/customers.csv ({table.digest[:12]}, file" in (
        shown.stdout + shown.stderr
    )
    assert "fit[3].accuracy" in shown.stdout + shown.stderr  # named outputs, one row each
    payload = json.loads(argosy(tmp_path, "show", run.id, "--json").stdout)
    assert [(i["name"], i["artifact"]["digest"]) for i in payload["imports"]] == [
        ("customers", table.digest)
    ]


def test_churn_reads_a_changed_table_and_its_cache_notices(tmp_path: Path, client: Client) -> None:
    changed = tmp_path / "customers.csv"
    shutil.copy(ROOT / "pipelines" / "data" / "customers.csv", changed)
    first = run_json(tmp_path, "run", "pipelines/churn.py", "--cache", status="succeeded")
    with changed.open("a") as table:
        table.write("70,20.00,0,24,0\n")
    args = ["run", "pipelines/churn.py", "--cache", "--param", f"table={changed}"]
    second = client.run(run_json(tmp_path, *args, status="succeeded"))
    loaded = second.tasks("load_table")[0]
    assert not loaded.record.cache_hit  # another table, another cache key
    assert first != second.id


def test_churn_cannot_be_scheduled_since_it_imports_its_table() -> None:
    from argosy.backends.argo import compile_pipeline
    from argosy.errors import CompileError

    definition = load_pipeline(str(ROOT / "pipelines" / "churn.py"))
    with pytest.raises(CompileError, match=r"imports outside data \(customers\).*CronWorkflow"):
        compile_pipeline(definition, kind="cron", schedule="0 3 * * *", image="argosy/base:abc")


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
