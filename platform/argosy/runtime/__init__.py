"""The runtime: the one place a step's code is executed (``python -m argosy task ...``).

`run_task` runs one attempt of one task from a `TaskSpec`: it resolves the task's inputs from
the store, checks the cache, calls the step function with stdout and stderr captured, stores
the output and its `OutputRecord`, and records a `TaskRecord` through a `MetadataSink`. Local
workers and Argo pods both run this code; it imports neither backends nor the CLI. Output
records and map widths (`argosy.outputs`) are re-exported here; the client reads them too.
`argosy.runtime.resume` decides which tasks of an earlier run a resumed run takes over, for
both backends.
"""

from argosy.outputs import OutputRecord, find_output, map_width, read_output, write_output
from argosy.runtime.cache import cache_key
from argosy.runtime.context import log_metric
from argosy.runtime.execute import run_task
from argosy.runtime.inputs import ResolvedInputs, resolve_inputs
from argosy.runtime.spec import TaskSpec

__all__ = [
    "OutputRecord",
    "ResolvedInputs",
    "TaskSpec",
    "cache_key",
    "find_output",
    "log_metric",
    "map_width",
    "read_output",
    "resolve_inputs",
    "run_task",
    "write_output",
]
