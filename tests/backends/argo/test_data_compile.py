"""Named outputs and item fields compiled for Argo: each named output that a map or a condition
reads is reported as its own output parameter (``length-<name>``, ``value-<name>``), and the
task is asked to write it; fields of items are picked in the pod, so only indices cross Argo."""

from __future__ import annotations

from argosy.backends.argo.compiler import OUTPUTS_DIR
from tests.backends.argo.compiled import document, tasks, templates
from tests.backends.local import data_flows as flows


def _outputs(template: dict[str, object]) -> dict[str, str]:
    parameters = template.get("outputs", {}).get("parameters", [])  # type: ignore[union-attr]
    return {p["name"]: p["valueFrom"]["path"] for p in parameters}


def test_named_outputs_a_map_and_a_condition_read_are_reported() -> None:
    compiled = document(flows.named_outputs)
    by_name = templates(compiled)
    assert _outputs(by_name["train"]) == {"value-accuracy": f"{OUTPUTS_DIR}/value-accuracy"}
    assert _outputs(by_name["split"]) == {"length-test": f"{OUTPUTS_DIR}/length-test"}
    args = by_name["train"]["container"]["args"]
    assert args[args.index("--write-field-value") + 1] == "accuracy"
    assert "--write-value" not in args
    dag = tasks(compiled)
    assert dag["deploy"]["when"] == (
        "{{=asFloat(tasks['train'].outputs.parameters['value-accuracy']) > 0.7}}"
    )
    count = dag["square"]["withSequence"]["count"]
    assert count == "{{tasks.split.outputs.parameters.length-test}}"


def test_fields_of_items_map_over_the_list_by_index() -> None:
    compiled = document(flows.sweep)
    dag = tasks(compiled)
    assert "configs" in dag["fit"]["withSequence"]["count"]
    assert dag["refit"]["withSequence"]["count"] == "{{tasks.grid.outputs.parameters.length}}"
    for name in ("fit", "refit"):
        args = templates(compiled)[name]["container"]["args"]
        assert "--index" in args and "item" not in " ".join(args)


def test_imports_reach_pods_as_records_not_arguments() -> None:
    compiled = document(flows.imports)
    args = " ".join(templates(compiled)["count-lines"]["container"]["args"])
    assert "--param table={{workflow.parameters.table}}" in args  # a parameter like any other
    assert "corpus" not in args
