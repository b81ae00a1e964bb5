"""The pipeline intermediate representation: what a pipeline *is*, as plain data.

`dsl` builds it, `backends/local` schedules it, `backends/argo` compiles it and `runtime`
executes one step of it. It imports nothing else of Argosy's but `errors`, `quantities` and
`ownership` (the rule of project names), and validates itself on construction, so a `Pipeline`
that exists is a well-formed DAG whose errors, when it is not, name the pipeline, the step and
the argument at fault.

Models are frozen and JSON round-trip exactly; `Pipeline.digest()` is the sha256 of canonical
JSON and serves as the pipeline version.

Modules: `model` (shared base), `resources`, `inputs` (argument sources, conditions), `step`,
`pipeline`, `imports` (outside data a run captures), `schedule` (when Argo starts it) and `cron`
(its expressions), `validate` (the rules a pipeline is checked against).
"""

from argosy.ir.imports import Import
from argosy.ir.inputs import (
    Condition,
    FanInInput,
    ImportInput,
    Input,
    LiteralInput,
    OneOfInput,
    Operator,
    Outcome,
    OutputInput,
    ParameterInput,
    RunStatusInput,
    Subject,
)
from argosy.ir.model import NAME_PATTERN
from argosy.ir.pipeline import GROUP_SEPARATOR, Group, Parameter, Pipeline
from argosy.ir.resources import RESOURCE_FIELDS, Resources, Retry
from argosy.ir.schedule import Concurrency, Schedule
from argosy.ir.step import Step
from argosy.ir.validate import waiting_chain

__all__ = [
    "GROUP_SEPARATOR",
    "NAME_PATTERN",
    "RESOURCE_FIELDS",
    "Concurrency",
    "Condition",
    "FanInInput",
    "Group",
    "Import",
    "ImportInput",
    "Input",
    "LiteralInput",
    "OneOfInput",
    "Operator",
    "Outcome",
    "OutputInput",
    "Parameter",
    "ParameterInput",
    "Pipeline",
    "Resources",
    "Retry",
    "RunStatusInput",
    "Schedule",
    "Step",
    "Subject",
    "waiting_chain",
]
