"""Compiling a pipeline with a schedule: a CronWorkflow by default, valid against Argo's strict
schema, with its timezone and policies; a Workflow on request, which never names
``{{workflow.scheduledTime}}``; ``--schedule`` in place of the declared expressions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hera.workflows import CronWorkflow, Workflow

from argosy.backends.argo.compiler import compile_pipeline, render_yaml
from argosy.dsl import load_pipeline
from argosy.errors import CompileError, PipelineError
from tests.backends.argo.argo_schema import assert_valid
from tests.backends.argo.compiled import IMAGE

ROOT = Path(__file__).resolve().parents[3]
FLOWS = Path(__file__).with_name("scheduled.py")
SCHEDULED_TIME = "{{workflow.scheduledTime}}"


def _compiled(name: str, **options: Any) -> dict[str, Any]:
    compiled = compile_pipeline(load_pipeline(f"{FLOWS}:{name}"), image=IMAGE, **options)
    document = compiled.to_dict()
    assert_valid(document)
    return document


def _task_args(document: dict[str, Any]) -> dict[str, list[str]]:
    spec = document["spec"].get("workflowSpec", document["spec"])
    return {
        t["name"]: t["container"]["args"]
        for t in spec["templates"]
        if "container" in t and t["container"].get("command", [])[-1:] == ["task"]
    }


def test_a_scheduled_pipeline_compiles_to_a_cron_workflow_by_default() -> None:
    document = _compiled("nightly")
    assert document["kind"] == "CronWorkflow"
    assert document["metadata"]["name"] == "nightly"
    spec = document["spec"]
    assert spec["schedules"] == ["0 3 * * *"]
    assert spec["timezone"] == "Europe/Paris"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 600
    labels_from = spec["workflowSpec"]["workflowMetadata"]["labelsFrom"]  # each run's id
    assert labels_from["argosy.io/run-id"]["expression"] == "workflow.name"


def test_every_task_of_a_cron_workflow_reads_the_scheduled_time() -> None:
    args = _task_args(_compiled("nightly"))
    assert set(args) == {"stamp", "report"}  # the exit handler too
    for task_args in args.values():
        assert task_args[task_args.index("--scheduled-time") + 1] == SCHEDULED_TIME


@pytest.mark.parametrize("kind", ["workflow", "template"])
def test_a_workflow_or_template_of_it_never_names_the_scheduled_time(kind: str) -> None:
    document = _compiled("nightly", kind=kind)
    assert document["kind"] == {"workflow": "Workflow", "template": "WorkflowTemplate"}[kind]
    assert "scheduledTime" not in json.dumps(document)
    assert "schedules" not in document["spec"]


def test_a_pipeline_without_a_schedule_stays_a_workflow() -> None:
    document = _compiled("unscheduled")
    assert document["kind"] == "Workflow"
    assert "scheduledTime" not in json.dumps(document)


def test_schedule_replaces_the_declared_expressions_and_keeps_the_rest() -> None:
    spec = _compiled("nightly", schedule="30 4 * * MON")["spec"]
    assert spec["schedules"] == ["30 4 * * MON"]
    assert (spec["timezone"], spec["concurrencyPolicy"]) == ("Europe/Paris", "Forbid")


def test_schedule_alone_makes_a_cron_workflow_in_utc_that_allows_overlaps() -> None:
    document = _compiled("unscheduled", schedule="@daily")
    assert document["kind"] == "CronWorkflow"
    spec = document["spec"]
    assert (spec["schedules"], spec["timezone"], spec["concurrencyPolicy"]) == (
        ["@daily"],
        "UTC",
        "Allow",
    )
    assert "startingDeadlineSeconds" not in spec


def test_a_wrong_schedule_flag_and_kinds_that_cannot_hold_one_are_errors() -> None:
    with pytest.raises(PipelineError, match=r"pipeline 'nightly', argument 'schedule'.*5"):
        _compiled("nightly", schedule="0 3 * *")
    with pytest.raises(CompileError, match=r"only for --kind cron.*compiled to a template"):
        _compiled("nightly", kind="template", schedule="@daily")
    with pytest.raises(CompileError, match=r"'unscheduled' declares none.*--schedule"):
        _compiled("unscheduled", kind="cron")


def test_the_cron_workflow_survives_a_hera_round_trip() -> None:
    text = render_yaml(compile_pipeline(load_pipeline(f"{FLOWS}:nightly"), image=IMAGE))
    assert render_yaml(CronWorkflow.from_yaml(text)) == text
    plain = render_yaml(
        compile_pipeline(load_pipeline(f"{FLOWS}:nightly"), image=IMAGE, kind="workflow")
    )
    assert render_yaml(Workflow.from_yaml(plain)) == plain


def _argosy(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "argosy", "compile", *args, "--image", IMAGE]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)


def test_argosy_compile_writes_the_cron_workflow_or_a_workflow_on_request(tmp_path: Path) -> None:
    written = _argosy(f"{FLOWS}:nightly", "-o", str(tmp_path / "cron.yaml"))
    assert written.returncode == 0, written.stderr
    assert "compiled nightly (2 steps) as a CronWorkflow" in " ".join(written.stdout.split())
    assert (
        yaml.safe_load((tmp_path / "cron.yaml").read_text())["spec"]["timezone"] == "Europe/Paris"
    )
    once = _argosy(f"{FLOWS}:nightly", "--kind", "workflow")
    assert once.returncode == 0, once.stderr
    assert yaml.safe_load(once.stdout)["kind"] == "Workflow"
    refused = _argosy(f"{FLOWS}:nightly", "--kind", "workflow", "--schedule", "@daily")
    assert refused.returncode == 1
    assert "--schedule is only for --kind cron" in refused.stderr
    assert "Traceback" not in refused.stderr
