"""Loading never unpickles unless asked to: a planted pickle runs no code on a plain load.

Before, a value's format decided whether its bytes were unpickled, and anyone who can write a
record or an object decides the format: loading ran whatever the writer planted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.config import Settings
from argosy.errors import PickleNotAllowed, TaskFailed
from argosy.store import ArtifactStore, load, save
from tests.store.planted import Box, Planted, boxes, trusted_boxes


def test_a_pickled_value_is_refused_without_the_opt_in(
    store: ArtifactStore, tmp_path: Path
) -> None:
    marker = tmp_path / "code-ran"
    info = save(store, Planted(str(marker)))
    assert info.format == "pickle"
    with pytest.raises(PickleNotAllowed) as refused:
        load(store, info)
    message = str(refused.value)
    assert "stored with pickle" in message and "runs whatever code" in message
    assert ".load(allow_pickle=True)" in message and "@pipeline(allow_pickle=True)" in message
    assert not marker.exists(), "loading ran the planted code"
    load(store, info, allow_pickle=True)  # the caller trusts it: now it is unpickled
    assert marker.is_dir()


def test_a_pickle_claimed_by_a_changed_format_is_refused(store: ArtifactStore) -> None:
    info = save(store, {"plain": "data"})
    claimed = info.model_copy(update={"format": "pickle"})  # a forged record or metadata row
    with pytest.raises(PickleNotAllowed):
        load(store, claimed)


def test_steps_unpickle_their_inputs_only_in_a_pipeline_that_allows_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    with pytest.raises(TaskFailed, match=r"open_box.*PickleNotAllowed.*@pipeline\(allow_pickle"):
        boxes.run(settings=settings)
    run = trusted_boxes.run(settings=settings)
    assert run.output("open_box").load() == 42
    boxed = run.output("make_box")
    assert boxed.format == "pickle"
    with pytest.raises(PickleNotAllowed):
        boxed.load()  # the pipeline's setting is for its own steps, not for later readers
    assert boxed.load(allow_pickle=True) == Box(21)
