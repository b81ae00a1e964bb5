"""``@pipeline``: a typed Python function whose body wires steps together.

The decorated function becomes a `PipelineDefinition`. Its body runs once, with parameters
replaced by handles, to record the steps (the IR); it never runs step code itself. The
definition checks run parameters against the function's annotations; running, submitting and
compiling it go to `argosy.launch`, above the backends, imported by those three methods (the
one upward import of the DSL, so the DSL itself never imports a backend).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from pydantic import TypeAdapter, ValidationError

from argosy import ir
from argosy.dsl._context import Builder, building, current
from argosy.dsl.handles import FanInHandle, Handle, OutputHandle, ParameterHandle
from argosy.dsl.schedule import make_schedule
from argosy.dsl.step import parse_duration, type_hints
from argosy.errors import PipelineError

if TYPE_CHECKING:
    from argosy.client import Run
    from argosy.config import Settings


class PipelineDefinition:
    """A pipeline: its IR, its step functions, and its typed parameters."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        max_parallel: int | None = None,
        allow_pickle: bool = False,
        retry: ir.Retry | None = None,
        project: str | None = None,
        schedule: ir.Schedule | None = None,
    ) -> None:
        self.name = name or function.__name__
        self.description = description or inspect.cleandoc(function.__doc__ or "")
        self.max_parallel = max_parallel
        self.allow_pickle = allow_pickle
        self.retry = retry or ir.Retry()
        """How often a call of this pipeline inside another is run again as a whole."""
        self.project = project
        """The project its runs belong to (`argosy.ownership`), unless a run names another."""
        self.schedule = schedule
        """When Argo starts it on its own (`argosy schedule`); local runs do not read it."""
        self.ref = f"{function.__module__}:{function.__name__}"
        """How workers load this pipeline again; `load_pipeline` sets it to what it was given."""
        self.__doc__ = function.__doc__
        self.__wrapped__ = function
        self._adapters = self._parameter_adapters()

    def __repr__(self) -> str:
        return f"<pipeline {self.name} ({self.ref})>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Inside another pipeline's definition: use this pipeline as one of its steps.

        Its steps join the caller's, named ``<call>__<step>`` (the call is named after this
        pipeline, ``_2``... for later calls), with the arguments in place of its parameters;
        the call returns what this pipeline returns. When one of its branches fails, all of
        its steps run again, up to this pipeline's ``retries``.
        """
        builder = current()
        if builder is None:
            raise PipelineError(
                "a pipeline is not called directly; use .run(**params) to run it here, "
                ".submit(namespace=..., **params) to run it on Argo, or `argosy run`; called "
                "inside another @pipeline it becomes one of its steps",
                pipeline=self.name,
            )
        where = {"pipeline": builder.pipeline, "step": self.name}
        try:
            bound = inspect.signature(self.__wrapped__).bind(*args, **kwargs)
        except TypeError as error:
            raise PipelineError(
                f"bad arguments for sub-pipeline {self.name!r}: {error}", **where
            ) from None
        bound.apply_defaults()
        call = builder.unique_name(self.name)
        with builder.calling(call, self.name, self.retry):
            result = self.__wrapped__(*bound.args, **bound.kwargs)
        if result is not None and not isinstance(result, Handle):
            raise PipelineError(
                f"sub-pipeline {self.name!r} returns a {type(result).__name__}; a pipeline "
                "returns the output of a step, or nothing",
                **where,
            )
        return result

    def _parameter_adapters(self) -> dict[str, tuple[inspect.Parameter, TypeAdapter[Any]]]:
        adapters = {}
        hints = type_hints(self.__wrapped__, pipeline=self.name)
        for parameter in inspect.signature(self.__wrapped__).parameters.values():
            where = {"pipeline": self.name, "argument": parameter.name}
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise PipelineError("*args and **kwargs cannot be pipeline parameters", **where)
            annotation = hints.get(parameter.name, Any)
            if annotation is Any and parameter.default is not inspect.Parameter.empty:
                annotation = type(parameter.default)
            try:
                adapter: TypeAdapter[Any] = TypeAdapter(annotation)
                adapter.json_schema()
            except Exception:
                raise PipelineError(
                    f"type {annotation!r} cannot be a parameter type; parameters are JSON values "
                    "(int, float, str, bool, lists and dicts of them)",
                    **where,
                ) from None
            if parameter.default is not inspect.Parameter.empty:
                try:
                    json.dumps(parameter.default, allow_nan=False)
                except (TypeError, ValueError):
                    raise PipelineError(
                        f"the default {parameter.default!r} is not a JSON value; use numbers, "
                        "strings, booleans, lists or dicts",
                        **where,
                    ) from None
            adapters[parameter.name] = (parameter, adapter)
        return adapters

    @cached_property
    def parameters(self) -> list[ir.Parameter]:
        return [
            ir.Parameter(
                name=name,
                json_schema=adapter.json_schema(),
                default=None if parameter.default is inspect.Parameter.empty else parameter.default,
                required=parameter.default is inspect.Parameter.empty,
            )
            for name, (parameter, adapter) in self._adapters.items()
        ]

    @cached_property
    def _built(self) -> tuple[ir.Pipeline, dict[str, Callable[..., Any]]]:
        builder = Builder(self.name, {p.name: p for p in self.parameters})
        handles = {
            p.name: ParameterHandle(self.name, f"pipeline parameter {p.name!r}", p.name)
            for p in self.parameters
        }
        with building(builder):
            result = self.__wrapped__(**handles)
        if result is not None and not isinstance(result, OutputHandle | FanInHandle):
            raise PipelineError(
                "a pipeline function returns the output of a step (or nothing), "
                f"not a {type(result).__name__}",
                pipeline=self.name,
            )
        if isinstance(result, Handle) and result.pipeline != self.name:
            raise PipelineError("returns a value of another pipeline", pipeline=self.name)
        if isinstance(result, OutputHandle | FanInHandle) and result.field is not None:
            raise PipelineError(
                f"returns {result.description}; a pipeline's result is a whole step output: "
                "return the step's output (or a step that picks the field)",
                pipeline=self.name,
            )
        pipeline = ir.Pipeline(
            name=self.name,
            description=self.description,
            parameters=self.parameters,
            steps=builder.ordered_steps(),
            output=None if result is None else result.step,
            max_parallel=self.max_parallel,
            allow_pickle=self.allow_pickle,
            groups=builder.groups,
            imports=builder.imports,
            project=self.project,
            schedule=self.schedule,
        )
        return pipeline, builder.functions

    @property
    def ir(self) -> ir.Pipeline:
        """The pipeline as validated IR."""
        return self._built[0]

    def function(self, step: str) -> Callable[..., Any]:
        """The plain Python function of ``step``."""
        self.ir.step(step)
        return self._built[1][step]

    @property
    def source_file(self) -> Path | None:
        """The file that defines the pipeline; None when it has none (a notebook, ``-c``)."""
        try:
            name = inspect.getsourcefile(self.__wrapped__)
        except TypeError:
            return None
        path = Path(name).resolve() if name else None
        return path if path is not None and path.is_file() else None

    def resolve_parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter's value for a run: ``values`` type-checked, defaults filled."""
        unknown = sorted(set(values) - set(self._adapters))
        if unknown:
            known = ", ".join(self._adapters) or "none"
            raise PipelineError(
                f"unknown parameter(s) {', '.join(unknown)}; the parameters are: {known}",
                pipeline=self.name,
            )
        resolved = {}
        for name, (parameter, adapter) in self._adapters.items():
            if name in values:
                try:
                    value = adapter.validate_python(values[name])
                except ValidationError as error:
                    problem = error.errors()[0]["msg"]
                    raise PipelineError(
                        f"{values[name]!r} is not valid: {problem}",
                        pipeline=self.name,
                        argument=name,
                    ) from None
                resolved[name] = adapter.dump_python(value, mode="json")
            elif parameter.default is not inspect.Parameter.empty:
                resolved[name] = parameter.default
            else:
                raise PipelineError(
                    "is required; give it with --param NAME=VALUE",
                    pipeline=self.name,
                    argument=name,
                )
        return resolved

    def parse_params(self, assignments: Iterable[str]) -> dict[str, Any]:
        """Resolve ``NAME=VALUE`` strings, each VALUE read as its parameter's type.

        A VALUE that is JSON of that type is taken as JSON (``ks=[2,4]``, ``n=3``); any other is
        the text itself, so a ``str`` parameter takes ``creature=123`` as ``"123"``.
        """
        values: dict[str, Any] = {}
        for assignment in assignments:
            name, equals, text = assignment.partition("=")
            if not equals or not name:
                raise PipelineError(
                    f"--param {assignment!r} is not NAME=VALUE (e.g. --param ks='[2,4]')",
                    pipeline=self.name,
                )
            values[name.strip()] = self._parse_value(name.strip(), text)
        return self.resolve_parameters(values)

    def _parse_value(self, name: str, text: str) -> Any:
        if name not in self._adapters:
            return text  # resolve_parameters names the unknown parameter
        try:
            return self._adapters[name][1].validate_json(text)
        except ValidationError:
            return text  # checked as text by resolve_parameters, which says what is wrong

    def run(
        self,
        *,
        settings: Settings | None = None,
        project: str | None = None,
        tags: Iterable[str] = (),
        production: bool = False,
        **params: Any,
    ) -> Run:
        """Run locally on a warm worker pool; return the finished run (outputs, metrics, lineage).

        The run belongs to ``project`` (default: the pipeline's) and to the current user, or
        to ``production`` when ``production=True``, with ``tags``; these three names are
        taken, so pipeline parameters called so are given with ``argosy run --param``.
        TaskFailed (naming the failed step and the resume command) when the run fails.
        """
        from argosy import launch

        return launch.run(
            self, settings=settings, project=project, tags=tags, production=production, **params
        )

    def submit(
        self,
        *,
        namespace: str = "argosy",
        settings: Settings | None = None,
        project: str | None = None,
        tags: Iterable[str] = (),
        production: bool = False,
        **params: Any,
    ) -> Any:
        """Submit to Argo Workflows through the Kubernetes API; returns a handle to the workflow.

        ``project``, ``tags`` and ``production`` as for `run`.
        """
        from argosy import launch

        return launch.submit(
            self,
            namespace=namespace,
            settings=settings,
            project=project,
            tags=tags,
            production=production,
            **params,
        )

    def compile(self, **options: Any) -> Any:
        """The Hera workflow of this pipeline (options of `argosy.backends.argo.compile_pipeline`,
        and ``project``, ``tags`` and ``production`` as for `run`): a CronWorkflow when it has a
        schedule, unless ``kind="workflow"`` asks for one run.

        Steps that name no image run in the components image `argosy build` makes.
        """
        from argosy import launch

        return launch.compile(self, **options)


@overload
def pipeline(function: Callable[..., Any], /) -> PipelineDefinition: ...


@overload
def pipeline(
    *,
    name: str | None = None,
    description: str | None = None,
    max_parallel: int | None = None,
    allow_pickle: bool = False,
    retries: int = 0,
    backoff: str | float = 1.0,
    project: str | None = None,
    schedule: str | Sequence[str] | None = None,
    timezone: str | None = None,
    concurrency: str | None = None,
    starting_deadline: str | float | None = None,
) -> Callable[[Callable[..., Any]], PipelineDefinition]: ...


def pipeline(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    max_parallel: int | None = None,
    allow_pickle: bool = False,
    retries: int = 0,
    backoff: str | float = 1.0,
    project: str | None = None,
    schedule: str | Sequence[str] | None = None,
    timezone: str | None = None,
    concurrency: str | None = None,
    starting_deadline: str | float | None = None,
) -> PipelineDefinition | Callable[[Callable[..., Any]], PipelineDefinition]:
    """Make a function a pipeline: its parameters are the run parameters, its body wires steps.

    ``allow_pickle=True`` lets its steps receive values stored with pickle from the steps
    before them (fitted scikit-learn models, say): unpickling runs code, so declare it only when
    you trust every step's output. Reading the outputs afterwards asks for it again
    (``Artifact.load(allow_pickle=True)``). ``retries`` (after ``backoff``, doubling) apply
    when the pipeline is called as a step of another: all of its steps run again.
    ``project`` names the project its runs belong to (``argosy run --project`` overrides it).

    ``schedule`` (a cron expression such as ``"0 3 * * *"`` or ``"@daily"``, or a list of them)
    makes Argo start the pipeline on its own: `argosy compile` writes a CronWorkflow and
    `argosy schedule` puts it on the cluster. The expressions are read in ``timezone`` (an IANA
    name, default ``"UTC"``); ``concurrency`` says what a start does while a run is still
    going (``"allow"``, ``"forbid"`` or ``"replace"``, Argo's ``concurrencyPolicy``);
    ``starting_deadline`` (``"10m"``) how late a missed start may still happen. A local run
    is one run, now.
    """
    retry = ir.Retry(limit=retries, backoff_seconds=parse_duration(backoff))

    def decorate(f: Callable[..., Any]) -> PipelineDefinition:
        return PipelineDefinition(
            f,
            name=name,
            description=description,
            max_parallel=max_parallel,
            allow_pickle=allow_pickle,
            retry=retry,
            project=project,
            schedule=make_schedule(
                name or f.__name__,
                schedule,
                timezone=timezone,
                concurrency=concurrency,
                starting_deadline=starting_deadline,
            ),
        )

    return decorate if function is None else decorate(function)


__all__ = ["PipelineDefinition", "pipeline"]
