"""load_pipeline: file paths, file:name and module:name references, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.dsl import load_pipeline
from argosy.errors import PipelineError

PIPELINE_FILE = """
from argosy import pipeline, step
from {helper} import double

@step
def one() -> int:
    return double(1)

@pipeline
def {name}():
    return one()
"""


def _write(folder: Path, name: str, *, helper: str) -> Path:
    (folder / f"{helper}.py").write_text("def double(x):\n    return 2 * x\n")
    path = folder / f"{name}.py"
    path.write_text(PIPELINE_FILE.format(name=name, helper=helper))
    return path


def test_a_file_loads_with_its_sibling_modules(tmp_path: Path) -> None:
    path = _write(tmp_path, "loader_single", helper="loader_single_helper")
    definition = load_pipeline(str(path))
    assert definition.name == "loader_single"
    assert definition.ref == str(path)
    assert definition.function("one")() == 2
    assert definition.source_file == path.resolve()
    assert load_pipeline(str(path)) is definition


def test_module_references_load() -> None:
    definition = load_pipeline("tests.dsl.sample_pipelines:diamond")
    assert definition.name == "diamond"


def test_a_file_with_several_pipelines_needs_a_name() -> None:
    path = Path(__file__).with_name("sample_pipelines.py")
    with pytest.raises(PipelineError, match=r"several pipelines \(diamond, failing, squares\)"):
        load_pipeline(str(path))
    assert load_pipeline(f"{path}:squares").name == "squares"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("no/such/file.py", "no pipeline file"),
        ("tests.dsl.sample_pipelines:nothing", "has no @pipeline named 'nothing'"),
        ("tests.dsl.no_such_module:p", "cannot import module"),
    ],
)
def test_bad_references_say_what_is_wrong(ref: str, message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        load_pipeline(ref)


def test_an_import_error_in_user_code_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "loader_broken.py"
    path.write_text("import numpy\nraise RuntimeError('bad day')\n")
    with pytest.raises(PipelineError, match="RuntimeError: bad day"):
        load_pipeline(str(path))
