"""Runs' project, owner and tags through every sink and reader: the repository on SQLite and
Postgres, the HTTP client in-process and against a real server (see conftest)."""

from __future__ import annotations

import pytest

from argosy.errors import NotFound
from argosy.metadata.client import MetadataClient
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunStatus, RunTagsChange, RunUpdate
from tests.metadata.factories import run

Metadata = Repository | MetadataClient


def _ids(metadata: Metadata, **filters: object) -> list[str]:
    return [found.id for found in metadata.list_runs(limit=100, **filters).data]  # type: ignore[arg-type]


def test_a_run_is_recorded_with_its_project_owner_and_tags(metadata: Metadata) -> None:
    metadata.create_run(run("r1", project="fraud", owner="user:alice", tags=["b", "a", "b"]))
    metadata.create_run(run("r2"))
    got = metadata.get_run("r1")
    assert (got.project, got.owner, got.tags) == ("fraud", "user:alice", ["a", "b"])
    bare = metadata.get_run("r2")
    assert (bare.project, bare.owner, bare.tags) == (None, None, [])
    assert metadata.list_runs().data[1].tags == ["a", "b"]  # listed runs carry their tags too


def test_recording_a_run_again_changes_none_of_them(metadata: Metadata) -> None:
    """Every pod of a run records it: none may undo a tag change made since, or move the run."""
    first = run("r1", project="fraud", owner="user:alice", tags=["submitted"], nonce="n1")
    metadata.create_run(first)
    metadata.update_tags("r1", RunTagsChange(add=["later"], remove=["submitted"]))
    metadata.create_run(first)  # the starting process retries
    metadata.create_run(run("r1", project="fraud", owner="user:alice", tags=["submitted"]))
    metadata.create_run(run("r1", project="churn", owner="production", tags=["other"]))
    got = metadata.get_run("r1")
    assert (got.project, got.owner, got.tags) == ("fraud", "user:alice", ["later"])


def test_tags_are_added_and_removed_idempotently(metadata: Metadata) -> None:
    metadata.create_run(run("r1", tags=["a"]))
    added = metadata.update_tags("r1", RunTagsChange(add=["b", "c", "a"]))
    assert added.id == "r1" and added.tags == ["a", "b", "c"]
    assert metadata.update_tags("r1", RunTagsChange(add=["b"])).tags == ["a", "b", "c"]
    removed = metadata.update_tags("r1", RunTagsChange(add=["d"], remove=["a", "never-there"]))
    assert removed.tags == ["b", "c", "d"]
    assert metadata.get_run("r1").tags == ["b", "c", "d"]
    with pytest.raises(NotFound, match="no run nope"):
        metadata.update_tags("nope", RunTagsChange(add=["x"]))


def test_tags_of_an_ended_run_still_change(metadata: Metadata) -> None:
    metadata.create_run(run("r1"))
    metadata.update_run("r1", RunUpdate(status=RunStatus.SUCCEEDED))
    assert metadata.update_tags("r1", RunTagsChange(add=["baseline"])).tags == ["baseline"]
    assert metadata.get_run("r1").status == RunStatus.SUCCEEDED


def test_runs_are_listed_by_project_owner_and_every_given_tag(metadata: Metadata) -> None:
    metadata.create_run(run("a1", project="fraud", owner="user:alice", tags=["nightly", "v2"]))
    metadata.create_run(run("a2", project="fraud", owner="user:alice", tags=["nightly"]))
    metadata.create_run(run("b1", project="churn", owner="user:bob", tags=["nightly", "v2"]))
    metadata.create_run(run("p1", "other", project="fraud", owner="production", tags=["v2"]))
    metadata.create_run(run("old"))  # recorded before runs had owners
    metadata.update_run("a2", RunUpdate(status=RunStatus.FAILED))

    assert _ids(metadata) == ["old", "p1", "b1", "a2", "a1"]
    assert _ids(metadata, project="fraud") == ["p1", "a2", "a1"]
    assert _ids(metadata, owner="user:alice") == ["a2", "a1"]
    assert _ids(metadata, owner="production") == ["p1"]
    assert _ids(metadata, tags=["nightly"]) == ["b1", "a2", "a1"]
    assert _ids(metadata, tags=["nightly", "v2"]) == ["b1", "a1"]  # all of them, not any
    assert _ids(metadata, tags=["v2", "v2"]) == ["p1", "b1", "a1"]
    assert _ids(metadata, tags=["nightly", "missing"]) == []
    assert _ids(metadata, project="fraud", owner="user:alice", tags=["v2"]) == ["a1"]
    assert _ids(metadata, pipeline="other", project="fraud") == ["p1"]
    assert _ids(metadata, owner="user:alice", status=RunStatus.FAILED) == ["a2"]
    assert _ids(metadata, owner="user:nobody") == []

    page = metadata.list_runs(limit=1, tags=["nightly"])
    assert page.count == 3 and [found.id for found in page.data] == ["b1"]
    rest = metadata.list_runs(limit=5, tags=["nightly"], cursor=page.next_cursor)
    assert [found.id for found in rest.data] == ["a2", "a1"] and rest.next_cursor is None

    metadata.update_tags("a2", RunTagsChange(add=["v2"], remove=["nightly"]))
    assert _ids(metadata, tags=["nightly", "v2"]) == ["b1", "a1"]
    assert _ids(metadata, tags=["v2"], owner="user:alice") == ["a2", "a1"]
