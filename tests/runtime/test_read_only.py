"""A step that writes into an input array (a read-only memory map) fails with a note that names
the argument and says to copy it; other failures get no such note."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from argosy.backends.local import run_pipeline
from argosy.config import Settings
from argosy.metadata import open_reader
from argosy.metadata.schemas import RunStatus, TaskStatus
from argosy.runtime.read_only import note_read_only_inputs
from argosy.store import LocalStore, load, save
from tests.store import artifact_flows


def _failure(action: object) -> ValueError:
    with pytest.raises(ValueError) as raised:
        action()  # type: ignore[operator]
    return raised.value


def test_the_note_names_the_read_only_arguments_and_items(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    mapped = load(store, save(store, np.arange(3.0)))
    assert not mapped.flags.writeable
    writable = np.zeros(3)

    def write() -> None:
        mapped[0] = 1

    failure = _failure(write)
    arguments = {"x": mapped, "y": writable, "parts": [writable, mapped], "named": {"a": mapped}}
    note_read_only_inputs(failure, arguments)
    [note] = failure.__notes__
    assert note.startswith("argosy: x, parts[1], named['a'] arrived as read-only arrays")
    assert "`x = x.copy()` or `x = np.array(x)`" in note


def test_other_failures_and_writable_arguments_get_no_note() -> None:
    other = ValueError("shapes (2,) and (3,) not aligned")
    note_read_only_inputs(other, {"x": np.zeros(2)})
    frozen = np.zeros(2)
    frozen.flags.writeable = False
    mine = _failure(lambda: frozen.__setitem__(0, 1))  # read-only, but none of the arguments
    note_read_only_inputs(mine, {"y": np.zeros(2)})
    assert not hasattr(other, "__notes__") and not hasattr(mine, "__notes__")


def test_a_step_writing_into_its_input_fails_saying_to_copy_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ARGOSY_METADATA_URL", "ARGOSY_S3_ENDPOINT", "ARGOSY_S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(home=tmp_path / "home")
    result = run_pipeline(
        artifact_flows.writes_into_inputs, {}, settings, max_workers=2, progress=False
    )

    assert result.status is RunStatus.FAILED
    tasks = {t.step: t for t in open_reader(settings).list_tasks(result.run_id)}
    for step, argument, numpy_says in (
        ("overwrite", "x", "assignment destination is read-only"),
        ("double", "values", "output array is read-only"),
    ):
        task = tasks[step]
        assert task.status is TaskStatus.FAILED and task.error is not None
        assert numpy_says in task.error
        assert f"argosy: {argument} arrived as read-only arrays" in task.error
        assert f"`{argument} = {argument}.copy()`" in task.error
