"""Every Argo template tag (``{{...}}``) the compiler writes, built in one place.

Argo substitutes these strings when it runs a workflow (``tests/cluster`` runs every example
on Argo's real controller). Keeping them here means a tag is spelled once, in one vocabulary:

* simple tags: ``{{workflow.name}}``, ``{{workflow.parameters.NAME}}``, ``{{workflow.status}}``,
  ``{{workflow.annotations.KEY}}`` (the whole key, dots and slash included),
  ``{{workflow.scheduledTime}}``, ``{{inputs.parameters.NAME}}``,
  ``{{tasks.TASK.outputs.parameters.NAME}}``, ``{{item}}``, ``{{retries}}``;
* expression tags (Argo evaluates ``{{=...}}`` with expr-lang, where ``len`` is built in and
  ``jsonpath``, ``asInt`` and ``asFloat`` are Argo's own functions; names with dashes are
  indexed, ``tasks['name']``): the length of a JSON list held in a workflow parameter, the
  product of several widths, a step's conditions (``when``), and one item of a JSON list;
* DAG ``depends`` results: ``TASK.Succeeded``, ``.Failed``, ``.Errored``, ``.Skipped``,
  ``.Omitted``, ``.AnySucceeded``, ``.AllFailed``.

Values compared by conditions are text as a parameter holds it (a string as itself, anything
else as JSON; see `argosy.runtime.entrypoint.value_text`), the same in workflow parameters and a
task's ``value`` output parameter: numbers compare ``asFloat`` of it, anything else the text.

See https://argo-workflows.readthedocs.io/en/latest/variables/.
"""

from __future__ import annotations

import json
from typing import Any

WORKFLOW_NAME = "{{workflow.name}}"
"""The workflow's name: the run id of an Argosy run on Argo."""
WORKFLOW_STATUS = "{{workflow.status}}"
"""``Succeeded``, ``Failed`` or ``Error``; defined in the onExit handler."""
ITEM = "{{item}}"
"""The current element of ``withSequence``: the task index of a mapped step."""
RETRIES = "{{retries}}"
"""The retry number of the current attempt (0 first); defined only with a retryStrategy."""
SCHEDULED_TIME = "{{workflow.scheduledTime}}"
"""When the CronWorkflow that started the workflow meant it to start, RFC 3339 (Go's
``time.RFC3339``, in the schedule's timezone), from the workflow's
``workflows.argoproj.io/scheduled-time`` annotation; a workflow no CronWorkflow started has
none, so only a compiled CronWorkflow may name it."""


def workflow_parameter(name: str) -> str:
    """The value of a workflow-level parameter."""
    return f"{{{{workflow.parameters.{name}}}}}"


def workflow_annotation(key: str) -> str:
    """The value of one of the workflow's annotations (its own or its ``workflowMetadata``'s)."""
    return f"{{{{workflow.annotations.{key}}}}}"


def input_parameter(name: str) -> str:
    """The value of an input parameter of the current template."""
    return f"{{{{inputs.parameters.{name}}}}}"


def task_output_parameter(task: str, name: str) -> str:
    """An output parameter of an earlier task of the same DAG."""
    return f"{{{{tasks.{task}.outputs.parameters.{name}}}}}"


def parameter_list_length(name: str) -> str:
    """The length of the JSON list held in a workflow parameter, evaluated by Argo at run time."""
    return f"{{{{=len(jsonpath(workflow.parameters['{name}'], '$'))}}}}"


def expression(body: str) -> str:
    """An expression tag: Argo evaluates ``body`` with expr-lang."""
    return f"{{{{={body}}}}}"


def task_status(task: str) -> str:
    """The phase of an earlier task of the same DAG (``Succeeded``, ``Failed``, ...)."""
    return f"{{{{tasks.{task}.status}}}}"


def task_output_term(task: str, name: str) -> str:
    """An earlier task's output parameter inside an expression."""
    return f"tasks['{task}'].outputs.parameters['{name}']"


def workflow_parameter_term(name: str) -> str:
    """A workflow parameter inside an expression."""
    return f"workflow.parameters['{name}']"


def input_parameter_term(name: str) -> str:
    """An input parameter of the current template inside an expression."""
    return f"inputs.parameters['{name}']"


def list_length_term(json_list: str) -> str:
    """The length of the JSON list ``json_list`` (a term) inside an expression."""
    return f"len(jsonpath({json_list}, '$'))"


def int_term(text: str) -> str:
    """A number written as text (a term) as an int inside an expression."""
    return f"asInt({text})"


def item_term(values: str, index: str) -> str:
    """Item ``index`` (a term) of the JSON list ``values`` (a term): one task's output parameter
    out of Argo's list of a fanned-out task's values."""
    return f"jsonpath({values}, '$')[asInt({index})]"


def compare(subject: str, op: str, value: Any) -> str:
    """``subject OP value`` inside an expression, ``subject`` a term holding a value as a
    parameter holds it (a string as itself, anything else as JSON): numbers compare as
    numbers, anything else as that text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"asFloat({subject}) {op} {value!r}"
    text = value if isinstance(value, str) else json.dumps(value)
    return f"{subject} {op} {json.dumps(text)}"


__all__ = [
    "ITEM",
    "RETRIES",
    "SCHEDULED_TIME",
    "WORKFLOW_NAME",
    "WORKFLOW_STATUS",
    "compare",
    "expression",
    "input_parameter",
    "input_parameter_term",
    "int_term",
    "item_term",
    "list_length_term",
    "parameter_list_length",
    "task_output_parameter",
    "task_output_term",
    "task_status",
    "workflow_annotation",
    "workflow_parameter",
    "workflow_parameter_term",
]
