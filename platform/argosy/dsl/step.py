"""``@step``: a typed Python function that becomes one step of a pipeline.

Outside a ``@pipeline`` function a step is the plain function (call it, unit-test it). Inside
one, calling it records a step and returns a handle to its output, and ``step.map(...)`` records
a fan-out: one task per item of exactly one list-valued argument, the other arguments broadcast.
A step called twice gets ``name_2`` for its second call unless ``step.named("...")`` names it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import inspect
import re
import textwrap
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Generic, ParamSpec, TypeVar, overload

from argosy import ir
from argosy.dsl._context import Builder, current
from argosy.dsl.arguments import input_source
from argosy.dsl.handles import HANDLE_ATTRIBUTES, FanInHandle, Handle, OutputHandle
from argosy.dsl.items import ItemField
from argosy.errors import PipelineError

P = ParamSpec("P")
R = TypeVar("R")

_DURATION = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: str | float | int) -> float:
    """Seconds in ``value``: a number, or text such as ``"90s"``, ``"10m"``, ``"1h30m"``, ``"2d"``
    or ``"1w"``."""
    if isinstance(value, int | float):
        return float(value)
    text = value.replace(" ", "")
    parts = list(_DURATION.finditer(text))
    if not parts or "".join(part.group(0) for part in parts) != text:
        raise ValueError(f"{value!r} is not a duration; write e.g. '30s', '10m' or '1h30m'")
    return sum(float(part["number"]) * _UNIT_SECONDS[part["unit"]] for part in parts)


def code_digest(function: Callable[..., Any]) -> str:
    """sha256 of the function's source (its bytecode when the source is unavailable)."""
    try:
        source = textwrap.dedent(inspect.getsource(function)).encode()
    except (OSError, TypeError):
        source = function.__code__.co_code
    return hashlib.sha256(source).hexdigest()


def type_hints(function: Callable[..., Any], **where: str) -> dict[str, Any]:
    """The function's resolved annotations; PipelineError naming one that does not resolve.

    ``where`` (pipeline, step) places the error.
    """
    try:
        return typing.get_type_hints(function)
    except Exception as error:
        argument, annotation = _unresolved(function)
        raise PipelineError(
            f"the annotation {annotation!r} cannot be resolved ({type(error).__name__}: {error}); "
            "import the names it uses at module level (not only under TYPE_CHECKING)",
            argument=None if argument == "return" else argument,
            **where,
        ) from None


def _unresolved(function: Callable[..., Any]) -> tuple[str | None, Any]:
    """The first annotation of ``function`` that does not resolve on its own, and its name."""
    annotations = dict(getattr(function, "__annotations__", {}))
    namespace = getattr(function, "__globals__", {})
    for name, annotation in annotations.items():
        alone = SimpleNamespace(__annotations__={name: annotation})
        try:
            typing.get_type_hints(alone, globalns=namespace)
        except Exception:
            return name, annotation
    return None, annotations


def named_outputs(annotation: Any) -> tuple[str, ...]:
    """The output names a return annotation declares: the fields of a NamedTuple or of a
    dataclass whose fields are all given to its constructor (so it can be made again from
    them); none for any other type."""
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        fields = dataclasses.fields(annotation)
        return tuple(f.name for f in fields) if all(f.init for f in fields) else ()
    if isinstance(annotation, type) and issubclass(annotation, tuple):
        return tuple(getattr(annotation, "_fields", ()))
    return ()


def output_annotation(annotation: Any, field: str | None) -> Any:
    """The annotation of named output ``field`` of a step returning ``annotation``."""
    if field is None:
        return annotation
    try:
        return typing.get_type_hints(annotation).get(field)
    except Exception:
        return None


def _is_list_type(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    return (
        isinstance(origin, type)
        and issubclass(origin, list | tuple | Sequence)
        and origin is not str
    )


@dataclass(frozen=True)
class StepOptions:
    """How every task of a step runs."""

    resources: ir.Resources
    retry: ir.Retry
    timeout_seconds: float | None
    image: str | None
    cache: bool
    catch: bool = False


class Step(Generic[P, R]):
    """A function decorated with ``@step``."""

    def __init__(self, function: Callable[P, R], options: StepOptions) -> None:
        self.function = function
        self.options = options
        self.name = re.sub(r"(?<!^)(?=[A-Z])", "_", function.__name__).lower().strip("_")
        self.signature = inspect.signature(function)
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__
        self.__qualname__ = function.__qualname__
        self.__module__ = function.__module__
        self.__wrapped__ = function
        self._hints: dict[str, Any] | None = None
        self._named = False

    def __repr__(self) -> str:
        return f"<step {self.name} of {self.function.__module__}>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        builder = current()
        if builder is None:
            for value in (*args, *kwargs.values()):
                if isinstance(value, Handle):
                    raise PipelineError(
                        f"step {self.name!r} was given {value.description} outside the pipeline "
                        "that defined it; call steps with handles only inside that @pipeline",
                        pipeline=value.pipeline, step=self.name,
                    )  # fmt: skip
            return self.function(*args, **kwargs)
        return self._record(builder, args, kwargs, over=None)  # type: ignore[return-value]

    def map(
        self,
        *args: Any,
        over: str | Sequence[str] | None = None,
        product: bool = False,
        max_parallel: int | None = None,
        **kwargs: Any,
    ) -> list[R]:
        """Fan out: one task per item of the one list-valued argument (or of ``over``).

        ``over`` naming several arguments zips them (task i takes item i of each; their lengths
        must match), or with ``product=True`` crosses them (one task per combination, the last
        argument varying fastest; the fan-in is flat in that order). ``max_parallel`` runs at
        most that many of the map's tasks at once.
        """
        builder = current()
        if builder is None:
            raise PipelineError(
                f".map() builds a fan-out and works only inside a @pipeline function; outside "
                f"one, call {self.name}(...) in a loop",
                step=self.name,
            )
        names = [over] if isinstance(over, str) else list(over or [])
        mapping = _Mapping(names, product, max_parallel)
        return self._record(builder, args, kwargs, over=mapping)  # type: ignore[return-value]

    def named(self, name: str) -> Step[P, R]:
        """This step under ``name`` for one call: ``echo.named("greet")(x)``, or ``.map(...)``.

        The name must be a valid step name that no other step of the pipeline has.
        """
        renamed = copy.copy(self)
        renamed.name, renamed._named = name, True
        return renamed

    def hints(self, where: dict[str, str]) -> dict[str, Any]:
        """The function's resolved annotations; ``where`` places an error in them."""
        if self._hints is None:
            self._hints = type_hints(self.function, **where)
        return self._hints

    def _record(
        self, builder: Builder, args: tuple[Any, ...], kwargs: dict[str, Any], over: _Mapping | None
    ) -> Handle:
        name = builder.claim_name(self.name) if self._named else builder.unique_name(self.name)
        where = {"pipeline": builder.pipeline, "step": name}
        accepted = self.signature.parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
        for argument in kwargs:
            if argument not in accepted and not takes_any:
                raise PipelineError(
                    f"is not an argument of this step; its arguments are: {', '.join(accepted)}",
                    argument=argument, **where,
                )  # fmt: skip
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as error:
            raise PipelineError(f"bad arguments: {error}", **where) from None
        item_fields = {
            argument: value.field
            for argument, value in bound.arguments.items()
            if isinstance(value, ItemField)
        }
        if item_fields and over is None:
            raise PipelineError(
                "takes a field of each item (each(...)), which fans out: call it with .map(...)",
                argument=next(iter(item_fields)), **where,
            )  # fmt: skip
        inputs = {
            argument: input_source(
                builder, name, argument, value.source if isinstance(value, ItemField) else value
            )
            for argument, value in bound.arguments.items()
        }
        if over is not None and item_fields:
            if over.product:
                raise PipelineError(
                    "crosses its mapped arguments (product=True), but fields of each item "
                    "(each(...)) go together, item by item; cross the lists themselves instead",
                    **where,
                )
            extra = [argument for argument in item_fields if argument not in over.names]
            over = dataclasses.replace(over, names=over.names + extra)
        mapped = [] if over is None else self._mapped_arguments(builder, name, inputs, over)
        returns = self.hints(where).get("return")
        taken = sorted(set(named_outputs(returns)) & HANDLE_ATTRIBUTES)
        if taken:
            raise PipelineError(
                f"returns named outputs called {', '.join(taken)}, which step handles use for "
                "themselves (out.step, out.after, ...); rename those fields",
                **where,
            )
        step = ir.Step(
            name=name,
            function=f"{self.function.__module__}:{self.function.__qualname__}",
            code_digest=code_digest(self.function),
            inputs=inputs,
            mapped=mapped[0] if mapped else None,
            map_with=mapped[1:],
            item_fields=item_fields,
            outputs=list(named_outputs(returns)),
            map_product=over is not None and over.product,
            max_parallel=None if over is None else over.max_parallel,
            when=list(builder.conditions),
            catch=self.options.catch,
            group=builder.group,
            resources=self.options.resources,
            retry=self.options.retry,
            timeout_seconds=self.options.timeout_seconds,
            image=self.options.image,
            cache=self.options.cache,
            description=inspect.cleandoc(self.function.__doc__ or "").split("\n\n")[0],
        )
        builder.add(step, self.function, returns)
        outputs = tuple(step.outputs)
        if not mapped:
            return OutputHandle(builder.pipeline, f"the output of step {name!r}", name, outputs)
        return FanInHandle(builder.pipeline, f"the outputs of mapped step {name!r}", name, outputs)

    def _mapped_arguments(
        self, builder: Builder, step: str, inputs: dict[str, ir.Input], over: _Mapping
    ) -> list[str]:
        """The arguments mapped over: those ``over`` names, or the one list-valued argument."""
        where = {"pipeline": builder.pipeline, "step": step}
        if over.product and len(over.names) < 2:
            raise PipelineError(
                "map(product=True) crosses two or more arguments; name them with over=['a', 'b']",
                **where,
            )
        if over.max_parallel is not None and over.max_parallel < 1:
            raise PipelineError("map(max_parallel=...) must be 1 or more", **where)
        for name in over.names:
            if name not in inputs:
                raise PipelineError(f"map(over={name!r}) names no argument given", **where)
            if _definitely_not_list(builder, inputs[name]):
                raise PipelineError(
                    "is mapped over, but its value is not a list", argument=name, **where
                )
        return over.names or [self._mapped_argument(builder, step, inputs)]

    def _mapped_argument(self, builder: Builder, step: str, inputs: dict[str, ir.Input]) -> str:
        where = {"pipeline": builder.pipeline, "step": step}
        if len(inputs) == 1:
            (only,) = inputs
            if _definitely_not_list(builder, inputs[only]):
                raise PipelineError(
                    "is mapped over, but its value is not a list", argument=only, **where
                )
            return only
        candidates = [
            argument
            for argument, source in inputs.items()
            if self._is_list_source(builder, source)
            and not _is_list_type(self.hints(where).get(argument))
        ]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise PipelineError(
                "map() needs one list-valued argument (a list, a list parameter, the output of a "
                "step returning a list, or a fan-in); none of "
                f"{', '.join(inputs)} is one. To map over the rows of an array, name the "
                "argument: map(..., over='name')",
                **where,
            )
        raise PipelineError(
            f"map() is ambiguous: {', '.join(candidates)} are all lists; "
            f"say which one with map(..., over={candidates[0]!r})",
            **where,
        )

    @staticmethod
    def _is_list_source(builder: Builder, source: ir.Input) -> bool:
        if isinstance(source, ir.LiteralInput):
            return isinstance(source.value, list)
        if isinstance(source, ir.FanInInput):
            return True
        if isinstance(source, ir.ParameterInput):
            schema = builder.parameters[source.name].json_schema
            return schema.get("type") == "array" or not schema
        if not isinstance(source, ir.OutputInput):
            return False
        annotation = output_annotation(builder.annotations.get(source.step), source.field)
        return _is_list_type(annotation) or annotation in (None, Any)


@dataclass(frozen=True)
class _Mapping:
    """How ``.map()`` was asked to fan out."""

    names: list[str]
    product: bool
    max_parallel: int | None


def _definitely_not_list(builder: Builder, source: ir.Input) -> bool:
    """True when the source is known not to be a list (a scalar literal or parameter)."""
    if isinstance(source, ir.LiteralInput):
        return not isinstance(source.value, list)
    if isinstance(source, ir.ParameterInput):
        kind = builder.parameters[source.name].json_schema.get("type")
        return kind is not None and kind != "array"
    return False


@overload
def step(function: Callable[P, R], /) -> Step[P, R]: ...


@overload
def step(
    *,
    resources: ir.Resources | None = None,
    retries: int | ir.Retry = 0,
    backoff: str | float = 1.0,
    timeout: str | float | None = None,
    image: str | None = None,
    cache: bool = False,
    catch: bool = False,
) -> Callable[[Callable[P, R]], Step[P, R]]: ...


def step(
    function: Callable[P, R] | None = None,
    /,
    *,
    resources: ir.Resources | None = None,
    retries: int | ir.Retry = 0,
    backoff: str | float = 1.0,
    timeout: str | float | None = None,
    image: str | None = None,
    cache: bool = False,
    catch: bool = False,
) -> Step[P, R] | Callable[[Callable[P, R]], Step[P, R]]:
    """Make a function a pipeline step.

    ``retries`` further attempts after a failure, the first after ``backoff`` (seconds or
    ``"30s"``), doubling each time; ``timeout`` per attempt (``"10m"``); ``cache`` reuses the
    output of an earlier task with the same code, inputs and image. ``catch`` lets the run go
    on past a task that fails for good: it is recorded ``caught`` and its output is None.
    """
    retry = (
        retries
        if isinstance(retries, ir.Retry)
        else ir.Retry(limit=retries, backoff_seconds=parse_duration(backoff))
    )
    options = StepOptions(
        resources=resources or ir.Resources(),
        retry=retry,
        timeout_seconds=None if timeout is None else parse_duration(timeout),
        image=image,
        cache=cache,
        catch=catch,
    )

    def decorate(f: Callable[P, R]) -> Step[P, R]:
        if not callable(f) or isinstance(f, Step):
            raise TypeError(f"@step decorates a plain function, not {f!r}")
        return Step(f, options)

    return decorate if function is None else decorate(function)


__all__ = [
    "Step",
    "StepOptions",
    "code_digest",
    "named_outputs",
    "parse_duration",
    "step",
    "type_hints",
]
