"""The rules a `Pipeline` is checked against when it is built: names, a DAG in topological
order, inputs that exist, mapping, run-time resources, sub-pipeline calls, exit handlers, and
the schedule (`argosy.ir.schedule`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from argosy.errors import PipelineError, TagError
from argosy.ir.inputs import (
    FanInInput,
    ImportInput,
    Input,
    LiteralInput,
    OneOfInput,
    ParameterInput,
    RunStatusInput,
    steps_read,
)
from argosy.ir.model import NAME_PATTERN, OUTPUT_NAME_PATTERN
from argosy.ir.resources import RESOURCE_FIELDS
from argosy.ir.schedule import check_schedule
from argosy.ir.step import Step
from argosy.ownership import check_project

if TYPE_CHECKING:
    from argosy.ir.pipeline import Pipeline


def validate(pipeline: Pipeline) -> None:
    """Raise PipelineError unless the pipeline is a well-formed DAG in topological order."""
    name = pipeline.name
    if not NAME_PATTERN.match(name):
        raise PipelineError(_bad_name("pipeline name"), pipeline=name)
    if not pipeline.steps:
        raise PipelineError("a pipeline needs at least one step", pipeline=name)
    if pipeline.max_parallel is not None and pipeline.max_parallel < 1:
        raise PipelineError("max_parallel must be 1 or more", pipeline=name)
    if pipeline.project is not None:
        try:
            check_project(pipeline.project)
        except TagError as error:
            raise PipelineError(str(error), pipeline=name) from None
    parameters = {p.name for p in pipeline.parameters}
    for parameter in pipeline.parameters:
        if not NAME_PATTERN.match(parameter.name):
            raise PipelineError(_bad_name("parameter name"), pipeline=name, argument=parameter.name)
    _check_imports(pipeline, parameters)
    seen: dict[str, Step] = {}
    for step in pipeline.steps:
        if not NAME_PATTERN.match(step.name):
            raise PipelineError(_bad_name("step name"), pipeline=name, step=step.name)
        if step.name in seen:
            raise PipelineError("two steps share this name", pipeline=name, step=step.name)
        _check_outputs(pipeline, step)
        for argument, source in step.inputs.items():
            _check_input(pipeline, step, argument, source, parameters, seen)
        for before in [*step.after, *step.runs_on]:
            _check_after(pipeline, step, before, seen)
        for condition in step.when:
            _check_input(pipeline, step, None, condition.subject, parameters, seen)
        _check_mapping(pipeline, step)
        _check_resources_from(pipeline, step, parameters, seen)
        _check_exit(pipeline, step, seen)
        if step.timeout_seconds is not None and step.timeout_seconds <= 0:
            raise PipelineError("timeout must be positive", pipeline=name, step=step.name)
        if step.retry.limit < 0:
            raise PipelineError("retries must be zero or more", pipeline=name, step=step.name)
        seen[step.name] = step
    _check_groups(pipeline)
    if pipeline.schedule is not None:
        check_schedule(pipeline.schedule, pipeline=name)
    if pipeline.output is not None and pipeline.output not in seen:
        raise PipelineError(
            f"the pipeline's output names unknown step {pipeline.output!r}", pipeline=name
        )


def _check_input(
    pipeline: Pipeline,
    step: Step,
    argument: str | None,
    source: Input,
    parameters: set[str],
    earlier: dict[str, Step],
) -> None:
    where = {"pipeline": pipeline.name, "step": step.name, "argument": argument}
    if isinstance(source, ParameterInput) and source.name not in parameters:
        raise PipelineError(f"reads unknown pipeline parameter {source.name!r}", **where)
    if isinstance(source, RunStatusInput) and not step.exit:
        raise PipelineError(
            "reads the run's status, which only an exit handler (.on_exit()) is given", **where
        )
    for read in steps_read(source):
        upstream = earlier.get(read)
        if upstream is None:
            raise PipelineError(
                f"reads step {read!r}, which is not defined before it (unknown step, or a cycle)",
                **where,
            )
        if not isinstance(source, FanInInput) and upstream.mapped is not None:
            raise PipelineError(f"step {read!r} is mapped; read it as a fan-in list", **where)
        if isinstance(source, FanInInput) and upstream.mapped is None:
            raise PipelineError(f"step {read!r} is not mapped; it has no fan-in", **where)
        field = getattr(source, "field", None)
        if field is not None and field not in upstream.outputs:
            named = ", ".join(upstream.outputs) or "none: it returns one value"
            raise PipelineError(
                f"reads output {field!r} of step {read!r}, whose named outputs are {named}", **where
            )
    if isinstance(source, ImportInput) and source.name not in {i.name for i in pipeline.imports}:
        raise PipelineError(f"reads unknown import {source.name!r}", **where)
    if (
        argument in step.mapped_arguments
        and isinstance(source, LiteralInput)
        and not isinstance(source.value, list)
    ):
        raise PipelineError(
            f"is mapped over, but its value is a {type(source.value).__name__}, not a list", **where
        )


def _check_mapping(pipeline: Pipeline, step: Step) -> None:
    where = {"pipeline": pipeline.name, "step": step.name}
    for argument in step.mapped_arguments:
        if argument not in step.inputs:
            raise PipelineError(
                "the mapped argument is not one of the step's inputs", argument=argument, **where
            )
        if isinstance(step.inputs[argument], OneOfInput | RunStatusInput | ImportInput):
            raise PipelineError(
                "is mapped over, but a join, the run's status or an import is not a list to "
                "map over",
                argument=argument, **where,
            )  # fmt: skip
    for argument in step.item_fields:
        if argument not in step.mapped_arguments:
            raise PipelineError(
                "takes a field of each item, but it is not mapped over", argument=argument, **where
            )
    if len(set(step.mapped_arguments)) < len(step.mapped_arguments):
        raise PipelineError("an argument is mapped over twice", **where)
    if step.map_product and not step.map_with:
        raise PipelineError("a product map needs two or more mapped arguments", **where)
    if step.max_parallel is not None:
        if step.mapped is None:
            raise PipelineError(
                "max_parallel limits the tasks of a map; this step is not mapped (set it on "
                "the pipeline instead)",
                **where,
            )
        if step.max_parallel < 1:
            raise PipelineError("max_parallel must be 1 or more", **where)


def _check_outputs(pipeline: Pipeline, step: Step) -> None:
    for output in step.outputs:
        if not OUTPUT_NAME_PATTERN.match(output):
            raise PipelineError(
                f"has an output named {output!r}; output names are Python identifiers of 63 "
                "characters at most",
                pipeline=pipeline.name, step=step.name,
            )  # fmt: skip
    if len(set(step.outputs)) < len(step.outputs):
        raise PipelineError("two outputs share a name", pipeline=pipeline.name, step=step.name)


def _check_imports(pipeline: Pipeline, parameters: set[str]) -> None:
    names = [i.name for i in pipeline.imports]
    for item in pipeline.imports:
        if not NAME_PATTERN.match(item.name):
            raise PipelineError(_bad_name("import name"), pipeline=pipeline.name)
        if item.parameter is not None and item.parameter not in parameters:
            raise PipelineError(
                f"import {item.name!r} takes its location from unknown parameter "
                f"{item.parameter!r}",
                pipeline=pipeline.name,
            )
    if len(set(names)) < len(names):
        raise PipelineError("two imports share a name", pipeline=pipeline.name)


def _check_resources_from(
    pipeline: Pipeline, step: Step, parameters: set[str], earlier: dict[str, Step]
) -> None:
    for field_name, source in step.resources_from.items():
        where = {"pipeline": pipeline.name, "step": step.name, "argument": field_name}
        if field_name not in RESOURCE_FIELDS:
            raise PipelineError(
                f"is not a resource decided at run time; those are {', '.join(RESOURCE_FIELDS)}",
                **where,
            )
        if isinstance(source, FanInInput) and step.mapped is None:
            raise PipelineError(
                f"takes a resource item by item from the fan-in of {source.step!r}, but this step "
                "is not mapped; pass an unmapped step's output or a parameter",
                **where,
            )
        _check_input(pipeline, step, field_name, source, parameters, earlier)


def _check_groups(pipeline: Pipeline) -> None:
    groups = {group.name: group for group in pipeline.groups}
    if len(groups) < len(pipeline.groups):
        raise PipelineError("two sub-pipeline calls share a name", pipeline=pipeline.name)
    for group in pipeline.groups:
        if not NAME_PATTERN.match(group.name) or group.name in pipeline.steps_by_name:
            raise PipelineError(
                f"sub-pipeline call {group.name!r} needs a valid name no step has",
                pipeline=pipeline.name,
            )
        if group.retry.limit < 0:
            raise PipelineError(
                f"sub-pipeline call {group.name!r}: retries must be zero or more",
                pipeline=pipeline.name,
            )
    for step in pipeline.steps:
        if step.group is None:
            continue
        where = {"pipeline": pipeline.name, "step": step.name}
        if step.group not in groups:
            raise PipelineError(f"belongs to unknown sub-pipeline call {step.group!r}", **where)
        if step.exit:
            raise PipelineError(
                "is an exit handler inside a sub-pipeline; make exit handlers in the pipeline "
                "that is run",
                **where,
            )


def _check_exit(pipeline: Pipeline, step: Step, earlier: dict[str, Step]) -> None:
    if step.exit:
        return
    for upstream in step.upstream:
        if upstream in earlier and earlier[upstream].exit:
            raise PipelineError(
                f"waits for exit handler {upstream!r}; only other exit handlers may (an exit "
                "handler runs once everything else has ended)",
                pipeline=pipeline.name, step=step.name,
            )  # fmt: skip


def _check_after(pipeline: Pipeline, step: Step, before: str, earlier: dict[str, Step]) -> None:
    where = {"pipeline": pipeline.name, "step": step.name}
    if before in earlier:
        return
    if before not in pipeline.steps_by_name:
        raise PipelineError(f"runs after unknown step {before!r}", **where)
    cycle = waiting_chain(pipeline.steps_by_name, before, step.name)
    if cycle:
        raise PipelineError(
            f"runs after step {before!r}, which itself waits for it: a cycle "
            f"({' -> '.join([step.name, *cycle])}, each waiting for the next)",
            **where,
        )
    raise PipelineError(f"runs after step {before!r}, which is listed after it", **where)


def waiting_chain(steps: Mapping[str, Step], start: str, goal: str) -> list[str]:
    """Steps from ``start`` to ``goal``, each waiting for the next (`Step.upstream`), or []."""
    stack: list[list[str]] = [[start]]
    seen: set[str] = set()
    while stack:
        chain = stack.pop()
        if chain[-1] == goal:
            return chain
        step = steps.get(chain[-1])
        for upstream in [] if step is None else step.upstream:
            if upstream not in seen:
                seen.add(upstream)
                stack.append([*chain, upstream])
    return []


def _bad_name(what: str) -> str:
    return (
        f"a {what} must start with a lower-case letter and hold only lower-case letters, "
        "digits and underscores (63 characters at most)"
    )


__all__ = ["validate", "waiting_chain"]
