"""Named outputs, fields of mapped items and imported data in real local runs (pipelines in
`data_flows`): what each step received, what was stored, and what each step read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from argosy.backends.local import RunResult, run_pipeline
from argosy.config import Settings
from argosy.dsl import PipelineDefinition
from argosy.errors import PipelineError
from argosy.metadata import open_reader
from argosy.metadata.schemas import TaskStatus
from argosy.runtime import read_output
from argosy.store import open_store
from argosy.store.fields import FIELDS_FORMAT, field_infos
from tests.backends.local import data_flows as flows
from tests.backends.local.conftest import output, tasks


def _run(definition: PipelineDefinition, settings: Settings, **params: Any) -> RunResult:
    return run_pipeline(definition, params, settings, max_workers=2, progress=False)


def test_each_named_output_is_an_artifact_of_its_own_read_alone(settings: Settings) -> None:
    result = _run(flows.named_outputs, settings)
    assert result.status.value == "succeeded", result
    store = open_store(settings)
    whole = read_output(store, result.run_id, "train", 0).artifact
    assert whole.format == FIELDS_FORMAT
    fields = field_infos(store, whole)
    assert list(fields) == ["weights", "accuracy", "notes"]
    assert [fields[f].format for f in fields] == ["npy", "json", "json"]
    recorded = tasks(settings, result.run_id)
    read_by_norm = recorded[("norm", 0)].inputs
    assert [(i.argument, i.artifact.digest) for i in read_by_norm] == [
        ("weights", fields["weights"].digest)
    ]
    assert output(settings, result, "norm") == pytest.approx(sum(x * x for x in range(30)) ** 0.5)


def test_a_whole_output_comes_back_as_the_type_the_step_returned(settings: Settings) -> None:
    result = _run(flows.named_outputs, settings)
    assert output(settings, result, "describe") == "Trained 0.8 Split [30, 31]"


def test_a_named_output_is_mapped_over_and_tested_by_a_condition(settings: Settings) -> None:
    result = _run(flows.named_outputs, settings)
    assert [output(settings, result, "square", i) for i in range(2)] == [900, 961]
    assert output(settings, result, "deploy") == "deployed at 0.8"
    low = _run(flows.named_outputs, settings, size=10)
    deploy = tasks(settings, low.run_id)[("deploy", 0)]
    assert deploy.status is TaskStatus.SKIPPED
    assert "train.accuracy > 0.7 is false" in str(deploy.error)


def test_fields_of_each_item_and_of_each_task_of_a_map(settings: Settings) -> None:
    result = _run(flows.sweep, settings)
    assert result.status.value == "succeeded", result
    assert [output(settings, result, "fit", i).accuracy for i in range(3)] == pytest.approx(
        [0.2, 1.2, 0.6]
    )
    expected = {"accuracy": pytest.approx(1.2), "notes": ["lr=0.3"]}
    assert output(settings, result, "best") == expected
    assert output(settings, result, "best_again") == expected


def test_a_missing_field_of_an_item_names_the_fields_it_has(settings: Settings) -> None:
    result = _run(flows.sweep, settings, configs=[{"lr": 0.1, "layers": 2}])
    failed = tasks(settings, result.run_id)[("fit", 0)]
    assert failed.status is TaskStatus.FAILED
    assert "takes field 'depth' of each item" in str(failed.error)
    assert "it has lr, layers" in str(failed.error)


def test_a_step_that_returns_something_else_than_its_named_outputs_fails_clearly(
    settings: Settings,
) -> None:
    result = _run(flows.wrong_outputs, settings)
    failed = tasks(settings, result.run_id)[("half_trained", 0)]
    assert failed.status is TaskStatus.FAILED
    assert "named outputs are weights, accuracy, notes, but it returned no notes" in str(
        failed.error
    )


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding ``table.csv`` and a folder ``corpus``."""
    work = tmp_path / "work"
    (work / "corpus" / "b").mkdir(parents=True)
    (work / "table.csv").write_text("a,b\n1,2\n3,4\n")
    (work / "corpus" / "one.txt").write_text("one")
    (work / "corpus" / "b" / "two.txt").write_text("two")
    monkeypatch.chdir(work)
    return work


def test_imports_are_captured_and_read_as_local_paths(settings: Settings, data_dir: Path) -> None:
    result = _run(flows.imports, settings)
    assert result.status.value == "succeeded", result
    assert output(settings, result, "count_lines") == 3
    assert output(settings, result, "list_files") == ["b/two.txt", "one.txt"]
    read = tasks(settings, result.run_id)[("count_lines", 0)].inputs
    assert read[0].artifact.metadata == {"source": "table.csv"}


def test_an_import_is_the_data_as_it_was_when_the_run_started(
    settings: Settings, data_dir: Path
) -> None:
    first = _run(flows.imports, settings)
    (data_dir / "table.csv").write_text("changed\n")
    assert output(settings, first, "count_lines") == 3
    assert output(settings, _run(flows.imports, settings), "count_lines") == 1


def test_the_cache_key_changes_with_imported_data(settings: Settings, data_dir: Path) -> None:
    first = _run(flows.cached_import, settings)
    again = _run(flows.cached_import, settings)
    assert tasks(settings, again.run_id)[("cached_count", 0)].cache_hit
    (data_dir / "table.csv").write_text("x\n")
    changed = _run(flows.cached_import, settings)
    recount = tasks(settings, changed.run_id)[("cached_count", 0)]
    assert not recount.cache_hit
    assert [output(settings, r, "cached_count") for r in (first, changed)] == [3, 1]


def test_a_missing_import_stops_the_run_before_it_is_recorded(
    settings: Settings, data_dir: Path
) -> None:
    with pytest.raises(PipelineError, match=r"import 'table' reads nope.csv, which does not exist"):
        _run(flows.imports, settings, table="nope.csv")
    assert open_reader(settings).list_runs().count == 0


def test_named_outputs_are_recorded_in_the_ir(settings: Settings) -> None:
    steps = json.loads(flows.named_outputs.ir.canonical_json())["steps"]
    assert next(s for s in steps if s["name"] == "train")["outputs"] == [
        "weights",
        "accuracy",
        "notes",
    ]


def test_each_named_output_has_its_own_lineage_edge(settings: Settings) -> None:
    result = _run(flows.named_outputs, settings)
    store = open_store(settings)
    weights = field_infos(store, read_output(store, result.run_id, "train", 0).artifact)["weights"]
    graph = open_reader(settings).lineage(weights.digest, direction="upstream", depth=1)
    produced = [(e.source, e.argument) for e in graph.edges if e.kind == "output"]
    assert produced == [(f"{result.run_id}.train.0", "weights")]
    below = open_reader(settings).lineage(weights.digest, direction="downstream", depth=1)
    assert {e.target for e in below.edges if e.kind == "input"} == {f"{result.run_id}.norm.0"}


def test_imported_data_shows_in_lineage_with_its_source(settings: Settings, data_dir: Path) -> None:
    result = _run(flows.imports, settings)
    read = tasks(settings, result.run_id)[("count_lines", 0)].inputs[0].artifact
    artifact = open_reader(settings).get_artifact(read.digest)
    assert artifact.consumed_by == [f"{result.run_id}.count_lines.0"]
    assert artifact.metadata == {"source": "table.csv"} and artifact.name == "table.csv"


def test_the_client_reads_named_outputs_one_by_one(settings: Settings) -> None:
    from argosy.client import Client
    from argosy.errors import NotFound

    result = _run(flows.sweep, settings)
    run = Client(settings).run(result.run_id)
    accuracies = run.output("fit", "accuracy")
    assert isinstance(accuracies, list)
    assert [a.load() for a in accuracies] == pytest.approx([0.2, 1.2, 0.6])
    assert list(run.output("fit")[0].fields) == ["weights", "accuracy", "notes"]  # type: ignore[index]
    with pytest.raises(NotFound, match="no output named 'loss'; its named outputs are weights"):
        run.output("fit", "loss")
    with pytest.raises(NotFound, match="its named outputs are none: it returned one value"):
        run.output("best", "accuracy")


def test_a_resumed_run_reads_the_data_its_origin_imported(
    settings: Settings, data_dir: Path
) -> None:
    from argosy.backends.local import resume_run

    gate = data_dir / "gate"
    gate.touch()
    failed = _run(flows.gated_import, settings, gate=str(gate))
    assert failed.status.value == "failed"
    gate.unlink()
    (data_dir / "table.csv").write_text("one line now\n")
    resumed = resume_run(failed.run_id, settings, max_workers=2, progress=False)
    assert resumed.succeeded
    assert output(settings, resumed, "gated_count") == 3  # the table as the origin captured it


def test_each_named_output_of_a_caught_task_is_none(settings: Settings) -> None:
    result = _run(flows.caught_outputs, settings)
    assert result.succeeded, result.steps
    assert output(settings, result, "say_accuracy") == "accuracy None"
    assert output(settings, result, "no_model") == "accuracy None"


def test_a_whole_output_is_rebuilt_without_running_its_constructor() -> None:
    from dataclasses import dataclass, field

    from argosy.store.fields import rebuild

    @dataclass
    class Scaled:
        values: list[int]
        calls: list[str] = field(default_factory=list)

        def __post_init__(self) -> None:
            self.values = [v * 100 for v in self.values]

    import sys

    module = sys.modules[__name__]
    module.Scaled = Scaled  # type: ignore[attr-defined]
    Scaled.__qualname__ = "Scaled"
    made = rebuild(f"{__name__}.Scaled", {"values": [1, 2], "calls": []})
    assert isinstance(made, Scaled) and made.values == [1, 2]  # no second __post_init__
    assert rebuild("nowhere.Imported", {"a": 1}) == {"a": 1}  # never imported: a dict


def test_the_cache_key_tells_apart_fields_of_the_same_items(settings: Settings) -> None:
    first = _run(flows.cached_fields, settings, field="lr")
    second = _run(flows.cached_fields, settings, field="depth")
    assert output(settings, first, "echo", 0) == 0.1
    assert output(settings, second, "echo_depth", 0) == 2
    assert not tasks(settings, second.run_id)[("echo_depth", 0)].cache_hit
