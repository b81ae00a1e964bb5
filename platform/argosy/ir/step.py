"""One step of a pipeline (`Step`): its function, inputs, mapping, resources and control flow."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from argosy.ir.inputs import (
    Condition,
    FanInInput,
    Input,
    OneOfInput,
    Outcome,
    Subject,
    steps_read,
)
from argosy.ir.model import Model, empty
from argosy.ir.resources import Resources, Retry


class Step(Model):
    """One step of a pipeline: a function, where its arguments come from, how it runs."""

    name: str
    function: str
    """Where the code lives, ``module:qualname``."""
    code_digest: str
    """sha256 of the function's source; part of the cache key."""
    inputs: dict[str, Input] = Field(default_factory=dict)
    mapped: str | None = None
    """The argument that is fanned out over (one task per item), or None for one task."""
    resources: Resources = Field(default_factory=Resources)
    retry: Retry = Field(default_factory=Retry)
    timeout_seconds: float | None = None
    image: str | None = None
    cache: bool = False
    description: str = ""
    after: list[str] = Field(default_factory=list, exclude_if=empty)
    """Steps that must succeed first although this step reads nothing of theirs (ordering only).
    This and the fields below are left out of the JSON while empty (or off), so a pipeline that
    does not use them keeps its digest."""
    runs_on: dict[str, Outcome] = Field(default_factory=dict, exclude_if=empty)
    """Steps this one waits for with another outcome than success: it runs when each of them
    ended so (``on_failure`` handlers, ``any_succeeded`` after a fan-out)."""
    when: list[Condition] = Field(default_factory=list, exclude_if=empty)
    """Conditions that must all hold, or the step is skipped (and what needs it with it)."""
    catch: bool = Field(default=False, exclude_if=empty)
    """A task that fails for good is recorded ``caught``, its output is None, and the run goes
    on as if it had succeeded (Metaflow ``@catch``)."""
    exit: bool = Field(default=False, exclude_if=empty)
    """An exit handler: runs once every other step has ended, whatever the run's outcome."""
    map_with: list[str] = Field(default_factory=list, exclude_if=empty)
    """Further mapped arguments, taken item by item with `mapped` (zip) or crossed with it."""
    map_product: bool = Field(default=False, exclude_if=empty)
    """The mapped arguments are crossed (one task per combination, the last varying fastest)
    rather than zipped."""
    max_parallel: int | None = Field(default=None, exclude_if=empty)
    """At most this many tasks of this step at once."""
    group: str | None = Field(default=None, exclude_if=empty)
    """The sub-pipeline call this step belongs to (`Pipeline.groups`), retried as a whole."""
    outputs: list[str] = Field(default_factory=list, exclude_if=empty)
    """Names of the step's outputs when it returns several (a NamedTuple or a dataclass): each
    is stored as an artifact of its own, and a downstream step can read only one of them."""
    item_fields: dict[str, str] = Field(default_factory=dict, exclude_if=empty)
    """For a mapped argument, the field of each item it takes (``item["lr"]``) rather than the
    whole item: ``.map(lr=each(configs).lr)``."""
    resources_from: dict[str, Subject | FanInInput] = Field(default_factory=dict, exclude_if=empty)
    """Resources decided at run time (``cpu``, ``memory``, ``gpu``), overriding `resources`:
    the value of a parameter or an upstream output, or a fan-in read item by item."""

    @property
    def upstream(self) -> list[str]:
        """Steps that must end first: those it reads in argument order, then `after`, `runs_on`,
        the subjects of `when` and `resources_from`; each once."""
        names: list[str] = []
        sources = [*self.inputs.values(), *(c.subject for c in self.when)]
        for source in [*sources, *self.resources_from.values()]:
            names += steps_read(source)
        names += self.after + list(self.runs_on)
        return list(dict.fromkeys(names))

    def outcome(self, upstream: str) -> Outcome | Literal["succeeded", "one_of"]:
        """What this step needs of the step ``upstream``: success unless `runs_on` says
        otherwise; ``one_of`` when it only reads it in a join (it may have been skipped)."""
        if upstream in self.runs_on:
            return self.runs_on[upstream]
        needed = {
            step
            for source in [*self.inputs.values(), *(c.subject for c in self.when)]
            for step in steps_read(source)
            if not isinstance(source, OneOfInput)
        }
        if upstream in needed or upstream in self.after or upstream in self.resources_from_steps:
            return "succeeded"
        return "one_of"

    @property
    def resources_from_steps(self) -> list[str]:
        return [s for source in self.resources_from.values() for s in steps_read(source)]

    @property
    def mapped_arguments(self) -> list[str]:
        """Every mapped argument, `mapped` first; empty for an unmapped step."""
        return [] if self.mapped is None else [self.mapped, *self.map_with]

    @property
    def mapped_input(self) -> Input | None:
        """The source of the (first) mapped argument, if this step is mapped."""
        return None if self.mapped is None else self.inputs[self.mapped]

    def items(self, index: int, lengths: list[int]) -> dict[str, int]:
        """The item of each mapped argument task ``index`` takes, given their ``lengths``."""
        arguments = self.mapped_arguments
        if not self.map_product:
            return dict.fromkeys(arguments, index)
        items: dict[str, int] = {}
        for argument, length in zip(reversed(arguments), reversed(lengths), strict=True):
            index, items[argument] = divmod(index, length)
        return {argument: items[argument] for argument in arguments}


__all__ = ["Step"]
