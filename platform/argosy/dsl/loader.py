"""Find a pipeline from a reference: ``path/file.py``, ``path/file.py:name`` or ``module:name``.

The same reference loads the same pipeline in the CLI, in every local worker and in every Argo
pod. A file is imported as a module named after it, with its folder first on ``sys.path`` so
the modules beside it import as they would when run as a script. A file defining several
pipelines names one by `file.py:NAME`, unless all but one are sub-pipelines the one calls.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from argosy.dsl.pipeline import PipelineDefinition
from argosy.errors import PipelineError

_loaded: dict[str, PipelineDefinition] = {}


def load_pipeline(ref: str) -> PipelineDefinition:
    """The pipeline ``ref`` names; PipelineError saying what to fix when it names none."""
    if ref in _loaded:
        return _loaded[ref]
    target, _, name = ref.rpartition(":") if _names_attribute(ref) else (ref, "", "")
    module = _import_file(Path(target)) if target.endswith(".py") else _import_module(target, ref)
    definition = _pick(module, name, ref)
    definition.ref = ref
    _loaded[ref] = definition
    return definition


def _names_attribute(ref: str) -> bool:
    head, colon, tail = ref.rpartition(":")
    return bool(colon and head and tail and "/" not in tail and "\\" not in tail)


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise PipelineError(
            f"no pipeline file {str(path)!r}; give a path to a .py file or module:name"
        )
    path = path.resolve()
    module_name = path.stem
    existing = sys.modules.get(module_name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path:
        return existing
    if existing is not None:
        raise PipelineError(
            f"cannot load {str(path)!r}: a module named {module_name!r} is already imported from "
            f"{getattr(existing, '__file__', 'elsewhere')}; rename the file"
        )
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except PipelineError:
        del sys.modules[module_name]
        raise
    except Exception as error:
        del sys.modules[module_name]
        raise PipelineError(
            f"could not import {str(path)!r}: {type(error).__name__}: {error}"
        ) from error
    return module


def _import_module(name: str, ref: str) -> ModuleType:
    if not name:
        raise PipelineError(
            f"{ref!r} is not a pipeline reference; use file.py, file.py:name or module:name"
        )
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        raise PipelineError(f"cannot import module {name!r} for {ref!r}: {error}") from error


def _pick(module: ModuleType, name: str, ref: str) -> PipelineDefinition:
    if name:
        found = getattr(module, name, None)
        if not isinstance(found, PipelineDefinition):
            raise PipelineError(f"{ref!r}: {module.__name__} has no @pipeline named {name!r}")
        return found
    found_all = [v for v in vars(module).values() if isinstance(v, PipelineDefinition)]
    unique = list({id(v): v for v in found_all}.values())
    if len(unique) > 1:  # those that other pipelines of the file call are sub-pipelines
        called = {group.pipeline for p in unique for group in p.ir.groups}
        unique = [p for p in unique if p.name not in called] or unique
    if len(unique) == 1:
        return unique[0]
    if not unique:
        raise PipelineError(f"{ref!r} defines no @pipeline function")
    names = ", ".join(sorted(p.__wrapped__.__name__ for p in unique))
    raise PipelineError(f"{ref!r} defines several pipelines ({names}); pick one with {ref}:NAME")


def durable_ref(definition: PipelineDefinition) -> str:
    """A reference that loads this pipeline again from any directory (files made absolute)."""
    ref = definition.ref
    target, colon, name = ref.rpartition(":")
    if colon and target.endswith(".py"):
        return f"{Path(target).resolve()}:{name}"
    if ref.endswith(".py"):
        return str(Path(ref).resolve())
    if target == "__main__" and definition.source_file is not None:
        return f"{definition.source_file}:{name}"
    return ref


__all__ = ["durable_ref", "load_pipeline"]
