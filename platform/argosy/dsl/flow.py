"""Control flow while a pipeline is defined: ``with when(...)`` blocks, the ``one_of`` join
after branches, and ``run_status()`` for exit handlers.

Each needs the pipeline being defined (`argosy.dsl._context.current`) and gives the steps
called in it a condition, or an argument that `argosy.dsl.step` records as an `ir.Input`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from argosy.dsl._context import current
from argosy.dsl.handles import ConditionHandle, Handle, OutputHandle, described
from argosy.errors import PipelineError


@contextmanager
def when(condition: ConditionHandle) -> Iterator[None]:
    """Steps called in this block run only when ``condition`` holds, and are skipped otherwise
    (and so is what needs their outputs). Blocks nest: all their conditions must hold."""
    builder = current()
    if not isinstance(condition, ConditionHandle):
        raise PipelineError(
            f"when() takes a comparison of a parameter or step output with a constant "
            f"(when(flip == 'heads')), not {described(condition)}",
            pipeline=None if builder is None else builder.pipeline,
        )  # fmt: skip
    if builder is None or builder.pipeline != condition.pipeline:
        raise PipelineError(
            "with when(...) makes steps conditional while their @pipeline function is defined",
            pipeline=condition.pipeline,
        )  # fmt: skip
    builder.conditions.append(condition.condition)
    try:
        yield
    finally:
        builder.conditions.pop()


@dataclass(frozen=True)
class OneOfHandle(Handle):
    """The output of whichever of several steps ran: ``one_of(a, b)`` after an if/else."""

    steps: tuple[str, ...]


def one_of(*outputs: OutputHandle) -> OneOfHandle:
    """The output of the first of ``outputs`` that ran and succeeded: the join after branches
    of which only one runs (KFP ``dsl.OneOf``). A step reading it waits until every branch has
    ended; it is skipped if none ran."""
    builder = current()
    pipeline = None if builder is None else builder.pipeline
    if builder is None:
        raise PipelineError("one_of() joins branches while a @pipeline function is defined")
    if len(outputs) < 2:
        raise PipelineError("one_of() joins two or more step outputs", pipeline=pipeline)
    for output in outputs:
        if isinstance(output, OutputHandle) and output.field is not None:
            raise PipelineError(
                f"one_of() joins whole outputs of steps, not {output.description}; join the "
                "steps and read the field in the step that takes the join",
                pipeline=pipeline,
            )  # fmt: skip
        if not isinstance(output, OutputHandle) or output.pipeline != pipeline:
            raise PipelineError(
                f"one_of() takes outputs of unmapped steps of this pipeline, not "
                f"{described(output)}",
                pipeline=pipeline,
            )  # fmt: skip
    names = ", ".join(repr(o.step) for o in outputs)
    return OneOfHandle(
        pipeline, f"the output of one of steps {names}", tuple(o.step for o in outputs)
    )


@dataclass(frozen=True)
class RunStatusHandle(Handle):
    """The run's outcome, ``"succeeded"`` or ``"failed"``, as an exit handler's argument."""


def run_status() -> RunStatusHandle:
    """The run's outcome so far, ``"succeeded"`` or ``"failed"``: an argument for a step made
    an exit handler with ``.on_exit()``."""
    builder = current()
    if builder is None:
        raise PipelineError("run_status() is an argument of an exit handler inside a @pipeline")
    return RunStatusHandle(builder.pipeline, "the run's status")


__all__ = ["OneOfHandle", "RunStatusHandle", "one_of", "run_status", "when"]
