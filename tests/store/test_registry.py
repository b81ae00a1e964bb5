"""Registered serializers: asked first for their types, their name the artifact's format, a clear
error where an artifact's format is not registered; ``parquet`` where pandas and pyarrow are."""

from __future__ import annotations

import hashlib
import json
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from argosy import register_serializer
from argosy.errors import StoreError
from argosy.store import ArtifactInfo, ArtifactStore, load, registry, save
from tests.store.conftest import Backend


@dataclass(frozen=True)
class Vocabulary:
    words: tuple[str, ...]


def _save_vocabulary(vocabulary: Vocabulary, path: Path) -> None:
    path.write_text("\n".join(vocabulary.words))


def _load_vocabulary(path: Path) -> Vocabulary:
    return Vocabulary(tuple(path.read_text().split("\n")))


def _as_text(prefix: str) -> tuple[Callable[[Any, Path], None], Callable[[Path], Any]]:
    """Save and load functions of dicts as ``prefix`` + JSON."""

    def write(value: Any, path: Path) -> None:
        path.write_text(prefix + json.dumps(value))

    def read(path: Path) -> Any:
        return json.loads(path.read_text().removeprefix(prefix))

    return write, read


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry as it was, for each test to change."""
    monkeypatch.setattr(registry, "_registered", dict(registry._registered))


def test_a_registered_serializer_writes_its_type_on_every_store(
    store: ArtifactStore, backend: Backend
) -> None:
    written: list[Path] = []

    def write(vocabulary: Vocabulary, path: Path) -> None:
        written.append(path)
        _save_vocabulary(vocabulary, path)

    register_serializer("vocabulary", Vocabulary, save=write, load=_load_vocabulary)
    info = save(store, Vocabulary(("a", "b")))

    assert (info.format, info.type) == ("vocabulary", f"{__name__}.Vocabulary")
    assert info.digest == hashlib.sha256(b"a\nb").hexdigest() and info.size == 3
    assert written[0].suffix == ".vocabulary" and not written[0].exists()
    assert backend.blob_names() == [info.digest]
    assert load(backend.reopen(), info) == Vocabulary(("a", "b"))  # S3: fetched afresh
    assert list(store.staging_dir().iterdir()) == []


def test_the_last_registered_serializer_is_asked_first_and_before_the_built_ins(
    store: ArtifactStore,
) -> None:
    assert save(store, {"a": 1}).format == "json"
    first = register_serializer("first", dict, save=_as_text("1")[0], load=_as_text("1")[1])
    assert save(store, {"a": 1}).format == "first"
    register_serializer("second", "builtins.dict", save=_as_text("2")[0], load=_as_text("2")[1])
    assert save(store, {"a": 1}).format == "second"
    register_serializer("first", dict, save=first.save, load=first.load)  # again: asked first
    stored = save(store, {"a": 1})
    assert stored.format == "first" and load(store, stored) == {"a": 1}
    assert save(store, [1]).format == "json"  # other types as before


def test_a_type_named_by_string_matches_once_its_module_is_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serializer = register_serializer(
        "thing", "tests.store.not_imported.Thing", save=_save_vocabulary, load=_load_vocabulary
    )
    assert "tests.store.not_imported" not in sys.modules
    module = types.ModuleType("tests.store.not_imported")
    module.Thing = type("Thing", (), {})  # type: ignore[attr-defined]
    assert not serializer.handles(module.Thing())  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    assert serializer.handles(module.Thing())  # type: ignore[attr-defined]
    assert registry.for_value(module.Thing()) is serializer  # type: ignore[attr-defined]


def test_loading_a_format_not_registered_here_names_what_to_import(store: ArtifactStore) -> None:
    register_serializer("vocabulary", Vocabulary, save=_save_vocabulary, load=_load_vocabulary)
    info = save(store, Vocabulary(("a",)))
    del registry._registered["vocabulary"]  # a process that did not import the pipeline file
    with pytest.raises(StoreError, match=r"format 'vocabulary', and no serializer") as refused:
        load(store, info)
    assert "argosy.register_serializer('vocabulary', ...)" in str(refused.value)
    assert "the pipeline file that registers it" in str(refused.value)


@pytest.mark.parametrize(
    ("name", "kinds", "functions", "message"),
    [
        ("json", Vocabulary, {}, "is a built-in format"),
        ("parquet", Vocabulary, {}, "is a built-in format"),
        ("Vocab-1", Vocabulary, {}, "is not a format name"),
        ("vocabulary", [], {}, "must be given the types it handles"),
        ("vocabulary", "Vocabulary", {}, "must be given the types it handles"),
        ("vocabulary", Vocabulary, {"save": None}, "needs a save function"),
    ],
)
def test_a_serializer_that_cannot_work_is_refused_when_registered(
    name: str, kinds: Any, functions: dict[str, Any], message: str
) -> None:
    given = {"save": _save_vocabulary, "load": _load_vocabulary} | functions
    with pytest.raises(StoreError, match=message):
        register_serializer(name, kinds, **given)
    assert name not in registry.registered_names() or name == "parquet"


def test_parquet_is_registered_exactly_where_pandas_and_pyarrow_are_installed(
    store: ArtifactStore,
) -> None:
    installed = find_spec("pandas") is not None and find_spec("pyarrow") is not None
    assert ("parquet" in registry.registered_names()) == installed
    registry._registered.pop("parquet", None)
    frame = ArtifactInfo(digest="0" * 64, format="parquet", type="pandas.DataFrame", size=1)
    with pytest.raises(StoreError, match="needs pandas and pyarrow: install them"):
        load(store, frame)


def test_parquet_stores_data_frames(store: ArtifactStore, backend: Backend) -> None:
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pandas.DataFrame({"a": [1, 2], "b": ["x", "y"]}, index=[10, 20])

    info = save(store, frame)
    assert (info.format, info.type) == ("parquet", "pandas.core.frame.DataFrame")
    pandas.testing.assert_frame_equal(load(backend.reopen(), info), frame)
    assert save(store, frame.copy()).digest == info.digest  # equal frames, one blob


class Outer:
    class Inner:
        """A class nested in another: named ``module.Outer.Inner``."""


def test_a_class_is_found_by_its_qualified_name_without_importing_anything() -> None:
    from argosy.store.registry import imported_class

    assert imported_class(f"{__name__}.Outer.Inner") is Outer.Inner
    assert imported_class("collections.OrderedDict") is not None
    assert imported_class("surely_not_a_module_here.Thing") is None
    assert "surely_not_a_module_here" not in __import__("sys").modules
