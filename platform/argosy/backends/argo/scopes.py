"""Where a DAG task is written, and how it names the tasks and values it needs from there.

A pipeline compiles to a main DAG; each sub-pipeline call (`ir.Group`) to a DAG of its own, run
by one task of the main DAG. Argo lets a task see only the tasks of its own DAG, so a value
crossing that border travels as a parameter: into a sub-pipeline's DAG as an input its task is
given, out of it as an output its DAG exports. A `Scope` knows which DAG it writes and makes
those parameters as references need them; the compiler then declares them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from argosy import ir
from argosy.backends.argo import expressions
from argosy.backends.argo.conditions import dns


@dataclass
class Scope:
    """One DAG being written: the main one (``group`` None) or a sub-pipeline call's."""

    pipeline: ir.Pipeline
    group: str | None = None
    parent: Scope | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    """Input parameters of this DAG, each with what its task in the parent DAG passes."""
    exports: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per sub-pipeline call, the output parameters its DAG must declare, each with the tag
    of the inner task's output (shared by the main scope and its children)."""

    def child(self, group: str) -> Scope:
        """The scope of sub-pipeline call ``group``'s DAG."""
        return Scope(self.pipeline, group, parent=self, exports=self.exports)

    def task(self, step: str) -> str | None:
        """The task of this DAG that stands for ``step``: its own, its sub-pipeline call's,
        or None when it lies outside this sub-pipeline (the call's task waits for it)."""
        group = self.pipeline.step(step).group
        if group == self.group:
            return dns(step)
        return dns(group) if self.group is None and group is not None else None

    def output(self, step: str, name: str) -> tuple[str, str]:
        """Output parameter ``name`` of ``step`` as seen from this DAG (of a mapped step, Argo's
        JSON list of its tasks' values): a tag for arguments, a term for expressions."""
        group = self.pipeline.step(step).group
        if group == self.group:
            return _task_output(dns(step), name)
        local = f"{dns(step)}-{name}"
        if self.group is None:
            assert group is not None
            self.exports.setdefault(group, {})[local] = _task_output(dns(step), name)[0]
            return _task_output(dns(group), local)
        assert self.parent is not None
        self.inputs[local] = self.parent.output(step, name)[0]
        return expressions.input_parameter(local), expressions.input_parameter_term(local)


def _task_output(task: str, name: str) -> tuple[str, str]:
    return expressions.task_output_parameter(task, name), expressions.task_output_term(task, name)


__all__ = ["Scope"]
