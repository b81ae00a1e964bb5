"""A run's project, owner and tags on Argo: labels that pass Kubernetes' rules, annotations the
pods read, in documents of every kind that pass Argo's strict schema."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from argosy import ir
from argosy.backends.argo.compiler import compile_pipeline
from argosy.backends.argo.run_labels import annotations, label_safe, labels
from argosy.errors import CompileError
from argosy.ownership import Ownership
from tests.backends.argo.argo_schema import assert_valid

LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
"""Kubernetes' label value rule (apimachinery's IsValidLabelValue), with its 63-character cap."""
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
OWNED = Ownership("fraud", "user:alice@corp.com", ("nightly", "dataset:v2", 'say "hi"', "日本"))


def _valid_label(key: str, value: str) -> bool:
    prefix, _, name = key.rpartition("/")
    return (
        bool(DNS_SUBDOMAIN.match(prefix)) and len(prefix) <= 253
        and bool(name) and len(name) <= 63 and bool(LABEL_VALUE.match(name))
        and len(value) <= 63 and bool(LABEL_VALUE.match(value))
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("nightly", "nightly"),
        ("user:alice", "user-alice"),
        ("dataset:v2", "dataset-v2"),
        ("user:alice@corp.com", "user-alice-corp.com"),
        ("  --x__ ", "x"),
        ("Best model (v3)", "Best-model-v3"),
        ("日本", ""),
        ("!!!", ""),
    ],
)
def test_label_safe_forms(text: str, safe: str) -> None:
    assert label_safe(text) == safe


def test_long_texts_are_cut_with_a_hash_that_keeps_them_apart() -> None:
    a, b = label_safe("x" * 100 + "a"), label_safe("x" * 100 + "b")
    assert len(a) == 63 and a != b and LABEL_VALUE.match(a)
    assert label_safe("y" * 63) == "y" * 63


def test_labels_and_annotations_of_a_run() -> None:
    found = labels(OWNED)
    assert found == {
        "argosy.io/project": "fraud",
        "argosy.io/owner": "user-alice-corp.com",
        "tags.argosy.io/nightly": "true",
        "tags.argosy.io/dataset-v2": "true",
        "tags.argosy.io/say-hi": "true",  # 日本 has nothing label-safe: no label, still recorded
    }
    assert all(_valid_label(key, value) for key, value in found.items())
    assert labels(Ownership()) == {}
    exact = annotations(OWNED)
    assert exact["argosy.io/project"] == "fraud"
    assert exact["argosy.io/owner"] == "user:alice@corp.com"
    assert json.loads(exact["argosy.io/tags"]) == list(OWNED.tags)
    assert annotations(Ownership()) == {
        "argosy.io/project": "",
        "argosy.io/owner": "",
        "argosy.io/tags": "[]",
    }


@pytest.mark.parametrize("tag", ["{{workflow.name}}", "a }} b"])
def test_a_tag_argo_would_read_as_a_variable_is_a_compile_error(tag: str) -> None:
    with pytest.raises(CompileError, match="which Argo reads as a variable"):
        annotations(Ownership(tags=(tag,)))


def _pipeline(**fields: Any) -> ir.Pipeline:
    step = ir.Step(name="only", function="flow:only", code_digest="0" * 64)
    return ir.Pipeline(name="tagged", steps=[step], **fields)


def _compiled(kind: str, **options: Any) -> dict[str, Any]:
    workflow = compile_pipeline(
        _pipeline(project="fraud"),
        ref="flow.py",
        image="argosy/base:0123abcd",
        kind=kind,  # type: ignore[arg-type]
        schedule="0 3 * * *" if kind == "cron" else None,
        **options,
    )
    document = workflow.to_dict()
    assert_valid(document)
    return document


@pytest.mark.parametrize("kind", ["workflow", "template", "cron"])
def test_every_kind_carries_them_and_its_tasks_read_them(kind: str) -> None:
    document = _compiled(kind, ownership=OWNED)
    spec = document["spec"].get("workflowSpec", document["spec"])
    for where in (document["metadata"]["labels"], spec["workflowMetadata"]["labels"]):
        assert {key: where[key] for key in labels(OWNED)} == labels(OWNED)
    assert spec["workflowMetadata"]["annotations"] == annotations(OWNED)
    templates = {template["name"]: template for template in spec["templates"]}
    args = templates["only"]["container"]["args"]
    read = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
    assert read["--project"] == "{{workflow.annotations.argosy.io/project}}"
    assert read["--owner"] == "{{workflow.annotations.argosy.io/owner}}"
    assert read["--tags"] == "{{workflow.annotations.argosy.io/tags}}"
    assert "--owner" not in templates["finish-run"]["container"]["args"]


def test_compiled_without_an_owner_its_runs_are_productions_of_the_pipelines_project() -> None:
    document = _compiled("workflow")
    assert document["metadata"]["labels"]["argosy.io/project"] == "fraud"
    assert document["metadata"]["labels"]["argosy.io/owner"] == "production"
    exact = document["spec"]["workflowMetadata"]["annotations"]
    assert (exact["argosy.io/project"], exact["argosy.io/owner"]) == ("fraud", "production")
    unowned = compile_pipeline(_pipeline(), ref="flow.py", image="argosy/base:0123abcd")
    assert "argosy.io/project" not in unowned.labels  # type: ignore[operator]
