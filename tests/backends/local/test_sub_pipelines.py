"""Sub-pipelines in real local runs: a call's steps run as a unit, run again as a whole when
one of its branches fails (attempts numbered on), and what waits for the call waits for all of
it, as an Argo DAG task running the call's DAG does (pipelines in `sub_flows`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from argosy.backends.local import RunResult, run_pipeline
from argosy.config import Settings
from argosy.dsl import PipelineDefinition
from argosy.metadata import open_reader
from argosy.metadata.schemas import RunStatus
from tests.backends.local import sub_flows as flows
from tests.backends.local.conftest import output, tasks


def _run(definition: PipelineDefinition, settings: Settings, **params: Any) -> RunResult:
    return run_pipeline(definition, params, settings, max_workers=2, progress=False)


def _tries(settings: Settings, run_id: str) -> dict[str, tuple[int, int, str]]:
    """Per step: its task's last attempt number, how many attempts it had, how it ended."""
    return {
        step: (task.attempt, task.attempts, task.status.value)
        for (step, _), task in tasks(settings, run_id).items()
    }


def test_a_failed_sub_pipeline_runs_again_as_a_whole_with_its_attempts_numbered_on(
    settings: Settings, tmp_path: Path
) -> None:
    result = _run(flows.retried, settings, marker=str(tmp_path / "marker"))

    assert result.succeeded
    assert output(settings, result, "double") == 6
    assert _tries(settings, result.run_id) == {
        "prepare__add_one": (1, 2, "succeeded"),
        "prepare__flaky": (1, 2, "succeeded"),  # attempt 0 failed: the whole call ran again
        "prepare__combine": (1, 2, "succeeded"),
        "double": (0, 1, "succeeded"),  # it waited for the whole call
    }


def test_a_sub_pipeline_out_of_runs_fails_the_run_and_skips_what_waits_for_it(
    settings: Settings, tmp_path: Path
) -> None:
    result = _run(flows.not_retried, settings, marker=str(tmp_path / "marker"))

    assert result.status is RunStatus.FAILED
    assert result.steps["prepare_once__combine"].state == "succeeded"
    assert result.steps["double"].state == "skipped"  # the call failed, though combine did not
    assert "prepare_once__flaky" in (open_reader(settings).get_run(result.run_id).error or "")


def test_two_calls_of_one_sub_pipeline_get_their_own_names(settings: Settings) -> None:
    result = _run(flows.twice, settings)

    assert result.succeeded
    names = ["chain__add_one", "chain__again", "chain_2__add_one", "chain_2__again"]
    assert list(result.steps) == names
    assert output(settings, result, "chain_2__again") == 5
