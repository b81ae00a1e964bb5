"""The DAGs of a compiled pipeline: the main one, one per sub-pipeline call, the exit handler.

Each step is one DAG task running its container template (`argosy.backends.argo.compiler`
makes those): after the steps it needs and if its conditions hold
(`argosy.backends.argo.conditions`), fanned out with ``withSequence`` when it is mapped. The
width comes from a tiny ``length`` output parameter of the step it maps over, an expression
over a pipeline parameter, or a product of those for a crossed map, so the document has the
same size for a 10-wide and a 100,000-wide fan-out. A map with ``max_parallel`` runs inside a
DAG template of its own with that ``parallelism``. A sub-pipeline call is a DAG template with
the call's ``retryStrategy``, run by one task of the main DAG; values crossing its border
travel as parameters (`argosy.backends.argo.scopes`). The workflow's ``onExit`` runs the exit
handlers, then the task that records the run's end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hera.workflows import DAG, Container, Parameter, Task
from hera.workflows.models import Sequence, ValueFrom

from argosy import ir
from argosy.backends.argo import conditions, expressions, pod_settings
from argosy.backends.argo.conditions import dns, parameter_of
from argosy.backends.argo.scopes import Scope
from argosy.errors import CompileError

LENGTH_PARAMETER = "length"
INDEX_PARAMETER = "index"
COUNT_PARAMETER = "count"
"""The width a map limited by ``max_parallel`` gets from the task that runs its DAG."""
GROUP_ATTEMPT_PARAMETER = "group-attempt"
"""How often the sub-pipeline call a task belongs to has run before (its DAG's retries)."""
EXIT_STATUSES_PARAMETER = "exit-statuses"
"""How each exit handler ended, for the task that records the run's end."""


@dataclass(frozen=True, kw_only=True)
class DoneStep:
    """A step whose every task a resumed run took over from its origin: it gets no DAG task."""

    width: int
    """How many tasks it had (1 unless mapped)."""
    lengths: Mapping[str | None, int | None] = field(default_factory=dict)
    """Length of its output (by named output; None for the whole), when a downstream step maps
    over it."""
    values: Mapping[str | None, str] = field(default_factory=dict)
    """Its ``value`` output parameters (Argo's JSON list of its tasks' values when it is
    mapped), by named output, when a condition or a resource reads them."""


def group_retried(pipeline: ir.Pipeline, step: ir.Step) -> bool:
    """Whether ``step`` belongs to a sub-pipeline call that is run again when it fails."""
    return any(g.name == step.group and g.retry.limit > 0 for g in pipeline.groups)


def free_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base-x`` (``-x-x``...) when a template already has that name; taken."""
    name = base
    while name in taken:
        name = f"{name}-x"
    taken.add(name)
    return name


@dataclass
class DagWriter:
    """Writes the DAG templates of one compilation into the workflow being defined."""

    pipeline: ir.Pipeline
    done: Mapping[str, DoneStep]
    containers: Mapping[str, Container]
    """Each step's container template."""
    taken: set[str]
    """Template names in use."""
    root: Scope = field(init=False)
    _limited: dict[str, DAG] = field(init=False, default_factory=dict)
    _groups: dict[str, tuple[DAG, Scope]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.root = Scope(self.pipeline)

    def main(self) -> DAG:
        """The DAG of the pipeline's steps; the templates it runs are written first."""
        steps = [s for s in self.pipeline.steps if s.name not in self.done and not s.exit]
        for step in self.pipeline.steps:
            if step.max_parallel is not None and step.name not in self.done:
                self._limited[step.name] = self._limited_map(step)
        for group in self.pipeline.groups:
            members = [step for step in steps if step.group == group.name]
            if members:
                self._groups[group.name] = self._group_dag(group, members)
        with DAG(name=free_name("main", self.taken)) as dag:
            called: set[str] = set()
            for step in steps:
                if step.group is None:
                    self._task(self.root, step)
                elif step.group not in called:
                    called.add(step.group)
                    self._group_task(step.group)
        for group, exports in self.root.exports.items():
            self._groups[group][0].outputs = [
                Parameter(name=name, value_from=ValueFrom(parameter=tag))
                for name, tag in exports.items()
            ]
        return dag

    def exit_handler(self, exits: list[ir.Step], finish: Container) -> Container | DAG:
        """The workflow's onExit: the exit handlers, then ``finish`` (told how each ended),
        or ``finish`` alone."""
        if not exits:
            return finish
        statuses = ",".join(f"{s.name}={expressions.task_status(dns(s.name))}" for s in exits)
        scope = Scope(self.pipeline)
        with DAG(name=free_name("exit-handler", self.taken)) as dag:
            for step in exits:
                self._task(scope, step)
            Task(
                name=finish.name,
                template=finish.name,
                depends=conditions.ended_statuses(exits),
                arguments=[Parameter(name=EXIT_STATUSES_PARAMETER, value=statuses)],
            )
        return dag

    def _task(self, scope: Scope, step: ir.Step) -> Task:
        """The step's task in ``scope``'s DAG.

        The template is named, not passed: it is already in the workflow, and Hera would search
        every template for it again (quadratic in steps).
        """
        arguments = self._resource_arguments(scope, step)
        if group_retried(self.pipeline, step):
            arguments.append(Parameter(name=GROUP_ATTEMPT_PARAMETER, value=expressions.RETRIES))
        fan_out = None
        template = self.containers[step.name].name
        if step.mapped is not None:
            count = self.width(scope, step)
            if step.name in self._limited:
                template = self._limited[step.name].name
                arguments.append(Parameter(name=COUNT_PARAMETER, value=count))
            else:
                arguments.append(Parameter(name=INDEX_PARAMETER, value=expressions.ITEM))
                fan_out = Sequence(count=count)
        return Task(
            name=dns(step.name),
            template=template,
            depends=conditions.depends(self.pipeline, step, self.done, scope),
            when=conditions.when(self.pipeline, step, self.done, scope),
            arguments=arguments or None,
            with_sequence=fan_out,
        )

    def _resource_arguments(self, scope: Scope, step: ir.Step) -> list[Parameter]:
        """The values of the resources decided at run time, as text, for the step's pod."""
        for source in step.resources_from.values():
            if isinstance(source, ir.FanInInput) and self.pipeline.step(source.step).max_parallel:
                raise CompileError(
                    f"step {step.name!r} takes resources item by item from map {source.step!r}, "
                    "which has max_parallel; on Argo its tasks' outputs are out of reach then: "
                    "drop max_parallel there, or size the tasks with an unlimited map"
                )
        return [
            Parameter(
                name=name,
                value=conditions.value_source(self.pipeline, step, source, self.done, scope),
            )
            for name, source in step.resources_from.items()
        ]

    def _limited_map(self, step: ir.Step) -> DAG:
        """A DAG template running the map's tasks at most ``max_parallel`` at once (Argo's
        ``parallelism`` counts a template's children); its width and the rest come as inputs."""
        for downstream in self.pipeline.steps:
            if downstream.runs_on.get(step.name) in ("any_succeeded", "all_failed"):
                raise CompileError(
                    f"step {downstream.name!r} waits for {downstream.runs_on[step.name]} of map "
                    f"{step.name!r}, which has max_parallel; Argo counts the tasks of a limited "
                    "map as one, so drop max_parallel or wait for the map's failure or end"
                )
        passed = list(step.resources_from)
        if group_retried(self.pipeline, step):
            passed.append(GROUP_ATTEMPT_PARAMETER)
        with DAG(
            name=free_name(f"{dns(step.name)}-limited", self.taken),
            parallelism=step.max_parallel,
            inputs=[Parameter(name=name) for name in [COUNT_PARAMETER, *passed]],
        ) as dag:
            Task(
                name=dns(step.name),
                template=self.containers[step.name].name,
                arguments=[
                    Parameter(name=INDEX_PARAMETER, value=expressions.ITEM),
                    *(Parameter(name=n, value=expressions.input_parameter(n)) for n in passed),
                ],
                with_sequence=Sequence(count=expressions.input_parameter(COUNT_PARAMETER)),
            )
        return dag

    def _group_dag(self, group: ir.Group, members: list[ir.Step]) -> tuple[DAG, Scope]:
        """The DAG template of a sub-pipeline call, retried as a whole."""
        scope = self.root.child(group.name)
        with DAG(
            name=free_name(dns(group.name), self.taken),
            retry_strategy=pod_settings.retry_strategy(group.retry),
        ) as dag:
            for step in members:
                self._task(scope, step)
        dag.inputs = [Parameter(name=name) for name in scope.inputs] or None
        return dag, scope

    def _group_task(self, group: str) -> Task:
        """The main DAG's task running a sub-pipeline call: after what its steps need outside."""
        dag, scope = self._groups[group]
        clauses = [
            conditions.needs(self.pipeline, self.root, upstream, step.outcome(upstream))
            for step in self.pipeline.group_steps(group)
            if step.name not in self.done
            for upstream in step.upstream
            if upstream not in self.done and self.pipeline.step(upstream).group != group
        ]
        return Task(
            name=dns(group),
            template=dag.name,
            depends=" && ".join(dict.fromkeys(c for c in clauses if c)) or None,
            arguments=[Parameter(name=n, value=v) for n, v in scope.inputs.items()] or None,
        )

    def width(self, scope: Scope, step: ir.Step) -> str:
        """How many tasks a mapped step has, as Argo will know it when the step is ready."""
        if step.map_product:
            return expressions.expression(self._product_term(scope, step))
        source = step.mapped_input
        if isinstance(source, ir.LiteralInput):
            assert isinstance(source.value, list)  # the IR checks this
            return str(len(source.value))
        if isinstance(source, ir.ParameterInput):
            return expressions.parameter_list_length(source.name)
        if isinstance(source, ir.OutputInput):
            if source.step in self.done:
                return str(self.done[source.step].lengths[source.field])
            return scope.output(source.step, parameter_of(LENGTH_PARAMETER, source.field))[0]
        if isinstance(source, ir.FanInInput):
            if source.step in self.done:
                return str(self.done[source.step].width)
            return self.width(scope, self.pipeline.step(source.step))
        raise CompileError(f"step {step.name!r} is mapped over an input Argo cannot count")

    def _product_term(self, scope: Scope, step: ir.Step) -> str:
        """The width of a crossed map: the product of its arguments' lengths."""
        return " * ".join(self._width_term(scope, step, a) for a in step.mapped_arguments)

    def _width_term(self, scope: Scope, step: ir.Step, argument: str) -> str:
        """The length of one mapped argument's source, as a term of an expression."""
        source = step.inputs[argument]
        if isinstance(source, ir.LiteralInput):
            assert isinstance(source.value, list)  # the IR checks this
            return str(len(source.value))
        if isinstance(source, ir.ParameterInput):
            return expressions.list_length_term(expressions.workflow_parameter_term(source.name))
        if isinstance(source, ir.OutputInput | ir.FanInInput) and source.step in self.done:
            resumed = self.done[source.step]
            if isinstance(source, ir.OutputInput):
                return str(resumed.lengths[source.field])
            return str(resumed.width)
        if isinstance(source, ir.OutputInput):
            length = scope.output(source.step, parameter_of(LENGTH_PARAMETER, source.field))
            return expressions.int_term(length[1])
        if isinstance(source, ir.FanInInput):
            producer = self.pipeline.step(source.step)
            if producer.map_product:
                return f"({self._product_term(scope, producer)})"
            return self._width_term(scope, producer, producer.mapped_arguments[0])
        raise CompileError(f"step {step.name!r} is mapped over an input Argo cannot count")


__all__ = [
    "COUNT_PARAMETER",
    "EXIT_STATUSES_PARAMETER",
    "GROUP_ATTEMPT_PARAMETER",
    "INDEX_PARAMETER",
    "LENGTH_PARAMETER",
    "DagWriter",
    "DoneStep",
    "free_name",
    "group_retried",
]
