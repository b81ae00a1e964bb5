"""Every Argo template tag (``{{...}}``) the compiler writes, built in one place.

Argo substitutes these strings when it runs a workflow (``tests/cluster`` runs every example
on Argo's real controller). Keeping them here means a tag is spelled once, in one vocabulary:

* simple tags: ``{{workflow.name}}``, ``{{workflow.parameters.NAME}}``, ``{{workflow.status}}``,
  ``{{inputs.parameters.NAME}}``, ``{{tasks.TASK.outputs.parameters.NAME}}``, ``{{item}}``,
  ``{{retries}}``;
* one expression tag: the length of a JSON list held in a workflow parameter,
  ``{{=len(jsonpath(workflow.parameters['NAME'], '$'))}}`` (Argo evaluates ``{{=...}}`` with
  expr-lang, where ``len`` is built in and ``jsonpath`` is one of Argo's own functions).

See https://argo-workflows.readthedocs.io/en/latest/variables/.
"""

from __future__ import annotations

WORKFLOW_NAME = "{{workflow.name}}"
"""The workflow's name: the run id of an Argosy run on Argo."""
WORKFLOW_STATUS = "{{workflow.status}}"
"""``Succeeded``, ``Failed`` or ``Error``; defined in the onExit handler."""
ITEM = "{{item}}"
"""The current element of ``withSequence``: the task index of a mapped step."""
RETRIES = "{{retries}}"
"""The retry number of the current attempt (0 first); defined only with a retryStrategy."""


def workflow_parameter(name: str) -> str:
    """The value of a workflow-level parameter."""
    return f"{{{{workflow.parameters.{name}}}}}"


def input_parameter(name: str) -> str:
    """The value of an input parameter of the current template."""
    return f"{{{{inputs.parameters.{name}}}}}"


def task_output_parameter(task: str, name: str) -> str:
    """An output parameter of an earlier task of the same DAG."""
    return f"{{{{tasks.{task}.outputs.parameters.{name}}}}}"


def parameter_list_length(name: str) -> str:
    """The length of the JSON list held in a workflow parameter, evaluated by Argo at run time."""
    return f"{{{{=len(jsonpath(workflow.parameters['{name}'], '$'))}}}}"


__all__ = [
    "ITEM",
    "RETRIES",
    "WORKFLOW_NAME",
    "WORKFLOW_STATUS",
    "input_parameter",
    "parameter_list_length",
    "task_output_parameter",
    "workflow_parameter",
]
