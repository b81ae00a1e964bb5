"""`argosy.Artifact` and an output's name and metadata: plain JSON, left out when empty, never
part of what is stored (equal bytes, one blob, one digest)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from argosy import Artifact
from argosy.errors import StoreError
from argosy.store import ArtifactInfo, ArtifactStore, load, save
from argosy.store.base import MAX_METADATA_BYTES
from tests.store.conftest import Backend

RECORDED = (
    '{"digest":"' + "ab" * 32 + '","format":"json","type":"builtins.list","size":5,"length":2}'
)
"""An artifact as records written before names and metadata hold it."""


def test_a_record_without_name_or_metadata_reads_and_writes_as_before() -> None:
    info = ArtifactInfo.model_validate_json(RECORDED)
    assert info.model_dump_json() == RECORDED
    described = info.model_copy(update={"name": "a.csv", "metadata": {"a": 1}})
    assert json.loads(described.model_dump_json()) == json.loads(RECORDED) | {
        "name": "a.csv", "metadata": {"a": 1},
    }  # fmt: skip
    assert hash(described) != hash(info.model_copy(update={"name": "b.csv"}))  # hashable


def test_metadata_describes_an_output_and_changes_nothing_stored(
    store: ArtifactStore, backend: Backend
) -> None:
    bare = save(store, [1, 2, 3])
    described = save(store, Artifact([1, 2, 3], metadata={"auc": 0.9, "shape": (3,)}))
    assert described.model_copy(update={"metadata": {}}) == bare
    assert described.metadata == {"auc": 0.9, "shape": [3]}  # a tuple is a JSON list
    assert backend.blob_names() == [bare.digest]
    assert load(backend.reopen(), described) == [1, 2, 3]
    array = save(store, Artifact(np.arange(4.0), metadata={"units": "m"}))
    assert (array.format, array.length, array.metadata) == ("npy", 4, {"units": "m"})


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"n": np.int64(3)}, r"metadata\['n'\] is a numpy.int64, which is not JSON: convert"),
        ({"x": [1.0, float("nan")]}, r"metadata\['x'\]\[1\] is nan, which JSON cannot hold"),
        ({1: "one"}, r"has the key 1, a int: keys must be str"),
        ({"deep": {"a": [object()]}}, r"metadata\['deep'\]\['a'\]\[0\] is a object"),
        ({"text": "\ud800"}, r"not valid Unicode"),
        ({"big": "x" * MAX_METADATA_BYTES}, r"over the 65,536 allowed"),
        ([("a", 1)], r"metadata is a list, not a dict"),
    ],
)
def test_metadata_that_is_not_json_is_refused_naming_the_value(metadata: Any, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Artifact(1, metadata=metadata)


def test_an_artifact_is_a_whole_output_and_keeps_what_it_was_given(
    store: ArtifactStore,
) -> None:
    with pytest.raises(StoreError, match="whole output"):
        save(store, {"model": Artifact(1)})
    with pytest.raises(StoreError, match="another Artifact"):
        Artifact(Artifact(1))
    given = {"layers": [1]}
    artifact = Artifact(0, metadata=given)
    given["layers"].append(2)
    assert artifact.metadata == {"layers": [1]}
    with pytest.raises(AttributeError, match="read-only"):
        artifact.value = 2  # type: ignore[misc]
