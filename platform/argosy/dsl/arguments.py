"""What a step was called with, as IR: a handle becomes the `ir.Input` it stands for, a
constant a `ir.LiteralInput`; a collection holding handles or a value that is not JSON is a
PipelineError saying what to pass instead."""

from __future__ import annotations

import json
from typing import Any

from argosy import ir
from argosy.dsl._context import Builder
from argosy.dsl.flow import OneOfHandle, RunStatusHandle
from argosy.dsl.handles import FanInHandle, Handle, OutputHandle, ParameterHandle
from argosy.dsl.imports import ImportHandle
from argosy.errors import PipelineError


def input_source(builder: Builder, step: str, argument: str, value: Any) -> ir.Input:
    """Where argument ``argument`` of step ``step`` comes from, given the value it was called
    with: a handle's source, or a constant (which must be JSON)."""
    inside = _handle_inside(value)
    if inside is not None:
        raise PipelineError(
            f"was given a {type(value).__name__} holding {inside.description}; an argument takes "
            "one step output, not a collection of them. Pass each as its own argument, or make "
            "them one mapped step's tasks (step.map) and pass its fan-in; to only wait for "
            "steps, use .after()",
            pipeline=builder.pipeline, step=step, argument=argument,
        )  # fmt: skip
    if isinstance(value, Handle):
        if value.pipeline != builder.pipeline:
            raise PipelineError(
                f"was given {value.description} from pipeline {value.pipeline!r}; a step can only "
                "read values of its own pipeline",
                pipeline=builder.pipeline, step=step, argument=argument,
            )  # fmt: skip
        if isinstance(value, ParameterHandle):
            return ir.ParameterInput(name=value.name)
        if isinstance(value, FanInHandle):
            return ir.FanInInput(step=value.step, field=value.field)
        if isinstance(value, OneOfHandle):
            return ir.OneOfInput(steps=list(value.steps))
        if isinstance(value, RunStatusHandle):
            return ir.RunStatusInput()
        if isinstance(value, ImportHandle):
            return ir.ImportInput(name=value.name)
        if not isinstance(value, OutputHandle):
            raise PipelineError(
                f"was given {value.description}, which a step cannot read",
                pipeline=builder.pipeline, step=step, argument=argument,
            )  # fmt: skip
        return ir.OutputInput(step=value.step, field=value.field)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise PipelineError(
            f"is a {type(value).__name__}, but constants in a pipeline must be JSON values "
            "(numbers, strings, lists, dicts); make it a pipeline parameter or a step output",
            pipeline=builder.pipeline, step=step, argument=argument,
        ) from None  # fmt: skip
    return ir.LiteralInput(value=value)


def _handle_inside(value: Any) -> Handle | None:
    """A handle inside a list, tuple or dict (at any depth), which no constant may hold."""
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list | tuple):
        return None
    for item in value:
        found = item if isinstance(item, Handle) else _handle_inside(item)
        if found is not None:
            return found
    return None


__all__ = ["input_source"]
