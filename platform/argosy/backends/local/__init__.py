"""The local backend: a run of a whole pipeline on this machine, over a warm worker pool.

`run_pipeline` checks what the run needs before anything runs, forks a pool of worker
processes that each run many tasks (through `argosy.runtime.run_task`, the code Argo pods
run), schedules the tasks as their inputs become ready (parallel branches, fan-out whose width
is known at run time, retries with backoff, timeouts, crash isolation, CPU slots and GPUs),
and records every task in the metadata in batches. `resume_run` continues a failed run.
"""

from argosy.backends.local.gpu import visible_gpus
from argosy.backends.local.result import RunResult, StepResult
from argosy.backends.local.runner import new_run_id, resume_run, run_pipeline

__all__ = ["RunResult", "StepResult", "new_run_id", "resume_run", "run_pipeline", "visible_gpus"]
