"""What ``argosy run`` prints after a run: the commands to look closer, and the run's page in the
web UI when a metadata service is configured."""

from __future__ import annotations

import io

from rich.console import Console

from argosy.backends.local import RunResult
from argosy.backends.local.result import StepResult
from argosy.cli.run import _next_steps
from argosy.config import Settings
from argosy.metadata.schemas import RunStatus


def _printed(result: RunResult, settings: Settings) -> str:
    out = io.StringIO()
    _next_steps(Console(file=out, width=200), result, settings, "total")
    return out.getvalue()


def test_a_failed_run_names_logs_and_resume_and_the_web_page_of_the_run(tmp_path) -> None:
    result = RunResult(
        run_id="wide-20261203-120000-abcdefghij",
        pipeline="wide",
        status=RunStatus.FAILED,
        steps={"inc": StepResult(state="failed", tasks=3, artifacts=[], mapped=True, failed=1)},
    )
    served = Settings(home=tmp_path, metadata_url="http://metadata.example:8000/")
    printed = _printed(result, served)
    assert f"argosy logs {result.run_id} inc" in printed
    assert f"argosy resume {result.run_id}" in printed
    assert f"http://metadata.example:8000/ui/runs/{result.run_id}" in printed
    assert "/ui/runs/" not in _printed(result, Settings(home=tmp_path))
