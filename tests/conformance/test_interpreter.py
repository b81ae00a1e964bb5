"""The Argo interpreter itself: its semantics on small hand-written Workflows, and its refusals.

Pods here are tiny ``python -c`` programs, so each behaviour (fan-out from an output parameter,
private /tmp, retries with backoff, deadlines, fail-fast, onExit) is checked on its own. Every
document is valid for Argo's strict schema first: the harness is only asked about real Argo.
"""

from __future__ import annotations

import copy
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.backends.argo.argo_schema import assert_valid
from tests.conformance.argo_interpreter import SCRATCH, Unsupported, run_workflow


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder every pod sees (outside /tmp, which each pod gets fresh)."""
    path = SCRATCH / f"shared-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path)


def _python(code: str, *args: str, **template: Any) -> dict[str, Any]:
    """A container template running ``code`` with ``args``."""
    return {
        "container": {
            "image": "python:3.11-slim",
            "command": [sys.executable, "-c", code],
            "args": list(args),
        },
        **template,
    }


def _workflow(templates: list[dict[str, Any]], tasks: list[dict[str, Any]], **spec: Any) -> dict:
    document = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "harness-"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "dag": {"tasks": tasks}}, *templates],
            **spec,
        },
    }
    assert_valid(document)
    return document


WRITE_LENGTH = """
import os, sys
assert not os.path.exists('/tmp/seen'), 'another pod wrote this /tmp'
open('/tmp/seen', 'w').write('x')
os.makedirs('/tmp/out'); open('/tmp/out/length', 'w').write(sys.argv[1])
"""
RECORD_ITEM = """
import os, sys
assert not os.path.exists('/tmp/seen'), 'another pod wrote this /tmp'
open('/tmp/seen', 'w').write('x')
open(os.path.join(sys.argv[1], 'item-' + sys.argv[2]), 'w').write(os.environ['RUN'])
"""


def test_a_fan_out_counts_an_output_parameter_and_every_pod_has_its_own_tmp(
    shared: Path,
) -> None:
    templates = [
        _python(WRITE_LENGTH, "{{workflow.parameters.width}}", name="produce",
                outputs={"parameters": [{"name": "length",
                                         "valueFrom": {"path": "/tmp/out/length"}}]}),
        _python(RECORD_ITEM, str(shared), "{{inputs.parameters.index}}", name="consume",
                inputs={"parameters": [{"name": "index"}]}),
    ]  # fmt: skip
    templates[1]["container"]["env"] = [{"name": "RUN", "value": "{{workflow.name}}"}]
    tasks = [
        {"name": "produce", "template": "produce"},
        {"name": "consume", "template": "consume", "depends": "produce",
         "withSequence": {"count": "{{tasks.produce.outputs.parameters.length}}"},
         "arguments": {"parameters": [{"name": "index", "value": "{{item}}"}]}},
    ]  # fmt: skip
    document = _workflow(templates, tasks, arguments={"parameters": [{"name": "width",
                                                                      "value": "2"}]})  # fmt: skip
    result = run_workflow(document, parameters={"width": "4"})
    assert result.phase == "Succeeded", [a.stderr for a in result.attempts]
    assert result.tasks["produce"].outputs == {"length": "4"}
    assert result.tasks["consume"].items == 4
    assert sorted(p.name for p in shared.iterdir()) == [f"item-{i}" for i in range(4)]
    assert {p.read_text() for p in shared.iterdir()} == {result.name}


COUNT_ATTEMPTS = """
import os, sys
path = os.path.join(sys.argv[1], 'attempts')
seen = open(path).read() if os.path.exists(path) else ''
open(path, 'a').write(sys.argv[2])
sys.exit(0 if len(seen) >= 1 else 3)
"""


def test_a_failed_attempt_is_retried_after_its_backoff(shared: Path) -> None:
    retry = {"limit": 3, "retryPolicy": "Always",
             "backoff": {"duration": "2s", "factor": 2, "cap": "60s"}}  # fmt: skip
    templates = [_python(COUNT_ATTEMPTS, str(shared), "{{retries}}", name="flaky",
                         retryStrategy=retry)]  # fmt: skip
    document = _workflow(templates, [{"name": "flaky", "template": "flaky"}])
    start = time.monotonic()
    result = run_workflow(document, backoff_scale=0.25)
    assert result.phase == "Succeeded"
    assert time.monotonic() - start >= 0.5  # the first wait: 2 s, scaled by 0.25
    assert [(a.attempt, a.returncode) for a in result.attempts] == [(0, 3), (1, 0)]
    assert (shared / "attempts").read_text() == "01"  # {{retries}} is the attempt number


def test_a_deadline_fails_the_task_omits_its_dependents_and_the_exit_handler_sees_it(
    shared: Path,
) -> None:
    templates = [
        _python("import time; time.sleep(30)", name="slow", activeDeadlineSeconds=1),
        _python("pass", name="after"),
        _python("import sys; open(sys.argv[1] + '/status', 'w').write(sys.argv[2])",
                str(shared), "{{workflow.status}}", name="exit"),
    ]  # fmt: skip
    tasks = [
        {"name": "slow", "template": "slow"},
        {"name": "after", "template": "after", "depends": "slow"},
    ]
    start = time.monotonic()
    result = run_workflow(_workflow(templates, tasks, onExit="exit"))
    assert time.monotonic() - start < 20
    assert (result.phase, result.exit_phase) == ("Failed", "Succeeded")
    assert result.tasks["slow"].phase == "Failed"
    assert result.attempts[0].timed_out
    assert result.tasks["after"].phase == "Omitted"
    assert (shared / "status").read_text() == "Failed"


def test_secrets_become_environment_and_a_missing_secret_fails() -> None:
    code = "import os, sys; sys.exit(0 if os.environ['KEY'] == 's3cret' else 5)"
    templates = [_python(code, name="env")]
    templates[0]["container"]["env"] = [
        {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "k"}}}
    ]
    document = _workflow(templates, [{"name": "env", "template": "env"}])
    assert run_workflow(document, secrets={("creds", "k"): "s3cret"}).phase == "Succeeded"
    assert run_workflow(document, secrets={("creds", "k"): "wrong"}).phase == "Failed"
    with pytest.raises(AssertionError, match="Secret 'creds' key 'k' does not exist"):
        run_workflow(document)


def _base() -> dict[str, Any]:
    return _workflow([_python("pass", name="a"), _python("pass", name="b")],
                     [{"name": "a", "template": "a"},
                      {"name": "b", "template": "b", "depends": "a"}])  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["spec"]["templates"][0]["dag"]["tasks"][1].update(withItems=[1]), "withItems"),
        (lambda d: d["spec"]["templates"][0]["dag"]["tasks"][1].update(depends="a.Succeeded"),
         "depends"),
        (lambda d: d["spec"]["templates"][1]["container"].update(args=["{{=sprig.trim('x')}}"]),
         "expression"),
        (lambda d: d["spec"]["templates"][1].update(
            retryStrategy={"limit": 1, "retryPolicy": "OnError"}), "retryPolicy"),
        (lambda d: d["spec"].update(activeDeadlineSeconds=5), "activeDeadlineSeconds"),
        (lambda d: d["spec"]["templates"][1]["container"].update(workingDir="/x"), "workingDir"),
    ],
)  # fmt: skip
def test_anything_not_interpreted_is_refused(change: Any, message: str) -> None:
    document = copy.deepcopy(_base())
    change(document)
    assert_valid(document)  # real Argo: the harness must say it does not know it
    with pytest.raises(Unsupported, match=message):
        run_workflow(document)


def test_an_output_of_a_task_that_is_not_an_ancestor_does_not_resolve() -> None:
    document = _base()
    document["spec"]["templates"][0]["dag"]["tasks"][0]["withSequence"] = {
        "count": "{{tasks.b.outputs.parameters.length}}"
    }
    with pytest.raises(AssertionError, match="failed to resolve"):
        run_workflow(document)
