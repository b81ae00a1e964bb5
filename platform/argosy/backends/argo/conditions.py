"""Whether a DAG task runs: its ``depends`` expression and its ``when`` expression.

``depends`` spells what a step needs of each step before it (`ir.Step.outcome`) with Argo's
task results: success is the bare task name (succeeded, or skipped) unless that task has
conditions of its own, since a task skipped by its ``when`` would count as done; then
``.Succeeded`` is spelled out. (A ``catch`` step's caught task succeeds as far as Argo knows:
its pod records it ``caught`` and ends well; Argo 4 refuses ``continueOn`` beside
``depends``.) A failure is
``.Failed || .Errored``; a map's ``any_succeeded`` and ``all_failed`` are ``.AnySucceeded`` and
``.AllFailed``; a join's branches may have been ``.Skipped`` or ``.Omitted`` but one must have
succeeded. ``when`` compares each condition's subject, as text, with its constant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from argosy import ir
from argosy.backends.argo import expressions
from argosy.errors import CompileError

if TYPE_CHECKING:
    from argosy.backends.argo.scopes import Scope

VALUE_PARAMETER = "value"
"""The output parameter holding a task's output as text (`value_text`), for conditions and
resources."""

_ENDED = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted")


Reported = tuple[str, str | None]
"""A step's output, or one of its named outputs, that its task reports as an output parameter."""


def parameter_of(base: str, field: str | None) -> str:
    """The output parameter reporting ``base`` (``value``, ``length``) of a step's output, or of
    its named output ``field``: ``value-model``."""
    return base if field is None else f"{base}-{field}"


class Resumed(Protocol):
    """What a resumed run knows of a step it took over: its values as text, by named output."""

    values: Mapping[str | None, str]


def dns(name: str) -> str:
    """A step or pipeline name as Argo names templates and tasks (``[a-z0-9-]``)."""
    return name.replace("_", "-")


def depends(
    pipeline: ir.Pipeline, step: ir.Step, done: Mapping[str, object], scope: Scope
) -> str | None:
    """The ``depends`` expression of ``step``'s task in ``scope``'s DAG, or None when it waits
    for nothing there.

    Steps in ``done`` (a resumed run took them over) have no task and are not waited for; an
    exit handler waits only for other exit handlers (it runs after the whole DAG); a step
    outside the scope's sub-pipeline is waited for by the sub-pipeline call's task; a step of
    another sub-pipeline call is waited for as that call's task.
    """
    clauses = [
        clause
        for upstream in step.upstream
        if upstream not in done and (not step.exit or pipeline.step(upstream).exit)
        if (clause := needs(pipeline, scope, upstream, step.outcome(upstream))) is not None
    ]
    for source in step.inputs.values():
        if isinstance(source, ir.OneOfInput) and not any(s in done for s in source.steps):
            tasks = dict.fromkeys(scope.task(branch) for branch in source.steps)
            branches = [f"{task}.Succeeded" for task in tasks if task is not None]
            if branches:
                clauses.append(f"({' || '.join(branches)})")
    return " && ".join(dict.fromkeys(clauses)) or None


def needs(pipeline: ir.Pipeline, scope: Scope, upstream: str, outcome: str) -> str | None:
    """The ``depends`` clause for needing ``outcome`` of ``upstream`` in ``scope``'s DAG."""
    task = scope.task(upstream)
    if task is None:
        return None
    if task != dns(upstream):  # another sub-pipeline call: its DAG stands for its steps
        return _needs_of(task, outcome, conditional=False, mapped=False)
    step = pipeline.step(upstream)
    return _needs_of(task, outcome, conditional=bool(step.when), mapped=step.mapped is not None)


def _needs_of(task: str, outcome: str, *, conditional: bool, mapped: bool) -> str:
    if outcome == "succeeded":
        return f"{task}.Succeeded" if conditional else task
    if outcome == "one_of":
        return _any_of(task, ("Succeeded", "Skipped", "Omitted"))
    if outcome == "finished":
        return _any_of(task, _ENDED)
    if outcome == "any_succeeded":
        return f"{task}.AnySucceeded" if mapped else f"{task}.Succeeded"
    if outcome == "all_failed" and mapped:
        return f"{task}.AllFailed"
    return _any_of(task, ("Failed", "Errored"))


def _any_of(task: str, results: tuple[str, ...]) -> str:
    return "(" + " || ".join(f"{task}.{result}" for result in results) + ")"


def ended_statuses(steps: list[ir.Step]) -> str:
    """``depends`` on each of ``steps`` having ended, however it ended."""
    return " && ".join(_any_of(dns(step.name), _ENDED) for step in steps)


def when(
    pipeline: ir.Pipeline, step: ir.Step, done: Mapping[str, Resumed], scope: Scope
) -> str | None:
    """The ``when`` expression of ``step``'s task: all its conditions, or None."""
    if not step.when:
        return None
    terms = [
        expressions.compare(_subject(pipeline, step, c.subject, done, scope), c.op, c.value)
        for c in step.when
    ]
    return expressions.expression(" && ".join(terms))


def value_source(
    pipeline: ir.Pipeline,
    step: ir.Step,
    source: ir.Subject | ir.FanInInput,
    done: Mapping[str, Resumed],
    scope: Scope,
) -> str:
    """A template argument holding ``source``'s value as text (a fan-in: Argo's JSON list of
    its tasks' values)."""
    if isinstance(source, ir.ParameterInput):
        return expressions.workflow_parameter(source.name)
    _check_in_scope(pipeline, step, source.step)
    if source.step in done:
        return _resumed_value(done, source.step, source.field)
    return scope.output(source.step, parameter_of(VALUE_PARAMETER, source.field))[0]


def _subject(
    pipeline: ir.Pipeline,
    step: ir.Step,
    subject: ir.Subject,
    done: Mapping[str, Resumed],
    scope: Scope,
) -> str:
    if isinstance(subject, ir.ParameterInput):
        return expressions.workflow_parameter_term(subject.name)
    _check_in_scope(pipeline, step, subject.step)
    if subject.step in done:
        return json.dumps(_resumed_value(done, subject.step, subject.field))
    return scope.output(subject.step, parameter_of(VALUE_PARAMETER, subject.field))[1]


def _resumed_value(done: Mapping[str, Resumed], step: str, field: str | None) -> str:
    value = done[step].values.get(field)
    if value is None:
        raise CompileError(f"step {step!r} was resumed without its value")
    return value


def _check_in_scope(pipeline: ir.Pipeline, step: ir.Step, read: str) -> None:
    if step.exit and not pipeline.step(read).exit:
        raise CompileError(
            f"pipeline {pipeline.name!r}, step {step.name!r}: an exit handler's conditions and "
            f"resources can read parameters and other exit handlers on Argo, not step {read!r} "
            "(the exit handler runs outside the pipeline's DAG); pass its output as an argument"
        )


def valued_outputs(pipeline: ir.Pipeline) -> frozenset[Reported]:
    """Outputs whose value a condition or a resource reads: their steps report them as
    `VALUE_PARAMETER` (``value-<field>`` for a named output)."""
    names = set()
    for step in pipeline.steps:
        sources = [condition.subject for condition in step.when]
        for source in [*sources, *step.resources_from.values()]:
            if not isinstance(source, ir.ParameterInput):
                names.add((source.step, source.field))
    return frozenset(names)


def counted_outputs(pipeline: ir.Pipeline) -> frozenset[Reported]:
    """Outputs a downstream step maps over: their steps report their ``length``."""
    return frozenset(
        (source.step, source.field)
        for step in pipeline.steps
        for source in (step.inputs[a] for a in step.mapped_arguments)
        if isinstance(source, ir.OutputInput)
    )


__all__ = [
    "VALUE_PARAMETER",
    "Reported",
    "Resumed",
    "counted_outputs",
    "depends",
    "dns",
    "ended_statuses",
    "needs",
    "parameter_of",
    "value_source",
    "valued_outputs",
    "when",
]
