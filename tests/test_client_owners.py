"""`argosy.Client` scoped like Metaflow's namespaces: the current user's runs by default, another
owner's or everyone's when asked; project and tag filters; reading and changing a run's tags.

Every test runs twice: on the embedded database, and through the metadata service (in-process,
over HTTP) with the HTTP `MetadataClient`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from argosy import Client
from argosy.config import Settings
from argosy.errors import NotFound, TagError
from argosy.metadata.reader import MetadataReader
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunStatus, RunUpdate
from tests.metadata.conftest import read_through
from tests.metadata.factories import run

RECORDED = [  # oldest first: (id, pipeline, project, owner, tags)
    ("old-1", "demo", None, None, []),
    ("alice-1", "demo", "fraud", "user:alice", ["nightly"]),
    ("bob-1", "demo", "fraud", "user:bob", ["nightly"]),
    ("prod-1", "demo", "fraud", "production", ["nightly", "release"]),
    ("alice-2", "demo", None, "user:alice", ["adhoc"]),
    ("alice-3", "other", "churn", "user:alice", ["nightly"]),
]


@pytest.fixture(params=["embedded", "http"])
def reader(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataReader]:
    with Repository(f"sqlite:///{tmp_path / 'metadata.db'}") as repository:
        for run_id, pipeline, project, owner, tags in RECORDED:
            repository.create_run(run(run_id, pipeline, project=project, owner=owner, tags=tags))
        repository.update_run("alice-1", RunUpdate(status=RunStatus.FAILED))
        with read_through(request.param, repository, tmp_path) as reader:
            yield reader


def _client(reader: MetadataReader, tmp_path: Path, **options: object) -> Client:
    return Client(Settings(home=tmp_path / "home", user="alice"), reader=reader, **options)  # type: ignore[arg-type]


def _ids(runs: list) -> list[str]:
    return [found.id for found in runs]


def test_by_default_a_client_lists_the_current_users_runs(
    reader: MetadataReader, tmp_path: Path
) -> None:
    client = _client(reader, tmp_path)
    assert client.owner == "user:alice"
    assert _ids(client.runs()) == ["alice-3", "alice-2", "alice-1"]
    assert client.latest_run("demo").id == "alice-2"  # not bob's, production's or an unowned one
    assert client.latest_run("demo", status="failed").id == "alice-1"


def test_another_owner_or_every_owner_when_asked(reader: MetadataReader, tmp_path: Path) -> None:
    assert _ids(_client(reader, tmp_path, owner="production").runs()) == ["prod-1"]
    assert _ids(_client(reader, tmp_path, owner="user:bob").runs()) == ["bob-1"]
    everyone = _client(reader, tmp_path, owner=None)
    assert everyone.owner is None
    assert _ids(everyone.runs()) == [r[0] for r in reversed(RECORDED)]
    assert everyone.latest_run("demo").id == "alice-2"
    assert everyone.latest_run("demo", project="fraud").id == "prod-1"
    with pytest.raises(TagError, match="owner 'alice' does not start with 'user:'"):
        _client(reader, tmp_path, owner="alice")


def test_the_user_comes_from_argosy_user(
    reader: MetadataReader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOSY_USER", "bob")
    assert _ids(Client(Settings(home=tmp_path), reader=reader).runs()) == ["bob-1"]


def test_runs_and_latest_run_filter_by_project_and_every_tag(
    reader: MetadataReader, tmp_path: Path
) -> None:
    client = _client(reader, tmp_path)
    assert _ids(client.runs(project="fraud")) == ["alice-1"]
    assert _ids(client.runs(tags=["nightly"])) == ["alice-3", "alice-1"]
    assert _ids(client.runs(pipeline="demo", tags=["nightly"])) == ["alice-1"]
    assert _ids(_client(reader, tmp_path, owner=None).runs(tags=["nightly", "release"])) == [
        "prod-1"
    ]
    assert client.latest_run("demo", tags=["nightly"]).id == "alice-1"
    with pytest.raises(NotFound) as missing:
        client.latest_run("demo", project="churn", tags=["adhoc"])
    message = str(missing.value)
    assert "no runs of demo (project churn, owner user:alice, tags adhoc)" in message
    assert "Client(owner=None)" in message
    with pytest.raises(TagError, match="not a project name"):
        client.runs(project="Fraud")
    with pytest.raises(TagError, match="control character"):
        client.latest_run("demo", tags=["a\tb"])


def test_a_run_by_id_is_found_whoever_owns_it(reader: MetadataReader, tmp_path: Path) -> None:
    found = _client(reader, tmp_path).run("prod-1")
    assert (found.project, found.owner, found.tags) == (
        "fraud",
        "production",
        ("nightly", "release"),
    )
    assert _client(reader, tmp_path).run("old-").owner is None  # a unique prefix works too


def test_a_run_adds_and_removes_tags(reader: MetadataReader, tmp_path: Path) -> None:
    client = _client(reader, tmp_path)
    before = client.run("alice-2")
    after = before.add_tags("baseline", "v2", "baseline")
    assert after.tags == ("adhoc", "baseline", "v2")
    assert before.tags == ("adhoc",)  # a view keeps what it read
    assert client.latest_run("demo", tags=["baseline"]).id == "alice-2"
    assert after.remove_tags("adhoc", "never-there").tags == ("baseline", "v2")
    assert client.run("alice-2").tags == ("baseline", "v2")
    with pytest.raises(TagError, match="name at least one tag"):
        after.add_tags()
    with pytest.raises(TagError, match="tag ' v3' starts or ends with a space"):
        after.add_tags("ok", " v3")
    assert client.run("alice-2").tags == ("baseline", "v2")  # nothing of a refused change
