"""How `argosy.Client` finds what a reference names: a run by id, by its pipeline's name (the
owner's newest run, else anyone's) or by a unique id prefix; an artifact by digest or unique
prefix; and an ambiguous prefix answered with the candidates.

Every test runs twice: on the embedded database, and through the metadata service (in-process,
over HTTP) with the HTTP `MetadataClient`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from argosy import Client
from argosy.config import Settings
from argosy.errors import Ambiguous, NotFound
from argosy.metadata.reader import MetadataReader
from argosy.metadata.repository import Repository
from argosy.store.base import ArtifactInfo
from tests.metadata.conftest import read_through
from tests.metadata.factories import run

RECORDED = [  # oldest first: (id, pipeline, owner)
    ("train-1", "train", "user:alice"),
    ("train-2", "train", "production"),
    ("train-3", "train", "user:bob"),
    ("score-1", "score", "user:bob"),
    *((f"sweep-{n:02}", "sweep", "user:alice") for n in range(12)),
]
DIGESTS = ["abcd" + "0" * 60, "abcd" + "1" * 60, "abce" + "0" * 60]


@pytest.fixture(params=["embedded", "http"])
def reader(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataReader]:
    with Repository(f"sqlite:///{tmp_path / 'metadata.db'}") as repository:
        for run_id, pipeline, owner in RECORDED:
            repository.create_run(run(run_id, pipeline, owner=owner))
        repository.put_artifacts(
            [ArtifactInfo(digest=d, format="json", type="builtins.int", size=1) for d in DIGESTS]
        )
        with read_through(request.param, repository, tmp_path) as reader:
            yield reader


def _client(
    reader: MetadataReader, tmp_path: Path, user: str = "alice", **options: object
) -> Client:
    settings = Settings(home=tmp_path / "home", user=user)
    return Client(settings, reader=reader, **options)  # type: ignore[arg-type]


def test_a_run_by_id_or_unique_prefix_whoever_owns_it(
    reader: MetadataReader, tmp_path: Path
) -> None:
    alice = _client(reader, tmp_path)
    assert alice.run("score-1").id == "score-1"
    assert alice.run("scor").id == "score-1"
    with pytest.raises(NotFound, match="no run 'nope-1'"):
        alice.run("nope-1")
    with pytest.raises(NotFound, match="no run 'sco'"):
        alice.run("sco")  # shorter than a prefix may be


def test_a_pipeline_name_is_its_newest_run_the_owners_first(
    reader: MetadataReader, tmp_path: Path
) -> None:
    assert _client(reader, tmp_path).run("train").id == "train-1"  # alice's newest
    assert _client(reader, tmp_path, user="bob").run("train").id == "train-3"
    assert _client(reader, tmp_path, owner="production").run("train").id == "train-2"
    assert _client(reader, tmp_path, user="carol").run("train").id == "train-3"  # anyone's
    assert _client(reader, tmp_path, owner=None).run("train").id == "train-3"
    assert _client(reader, tmp_path).run("score").id == "score-1"  # only bob has run it


def test_an_ambiguous_run_prefix_lists_the_runs_newest_first(
    reader: MetadataReader, tmp_path: Path
) -> None:
    with pytest.raises(Ambiguous) as found:
        _client(reader, tmp_path).run("train-")
    lines = str(found.value).splitlines()
    assert lines[0] == "run prefix 'train-' is ambiguous; it matches 3 runs:"
    assert lines[1].split() == ["id", "pipeline", "status", "started"]
    assert [line.split()[:3] for line in lines[2:5]] == [
        ["train-3", "train", "running"],
        ["train-2", "train", "running"],
        ["train-1", "train", "running"],
    ]
    assert lines[5:] == ["give more characters"]
    assert lines[2].index("train ") == lines[1].index("pipeline")  # a table: columns aligned

    with pytest.raises(Ambiguous) as many:
        _client(reader, tmp_path).run("sweep-")
    lines = str(many.value).splitlines()
    assert (
        lines[0] == "run prefix 'sweep-' is ambiguous; it matches more than 10 runs, newest first:"
    )
    assert [line.split()[0] for line in lines[2:-1]] == [f"sweep-{n:02}" for n in range(11, 1, -1)]


def test_an_artifact_by_digest_or_unique_prefix(reader: MetadataReader, tmp_path: Path) -> None:
    client = _client(reader, tmp_path)
    assert client.artifact(DIGESTS[2]).digest == DIGESTS[2]
    assert client.artifact("abce").digest == DIGESTS[2]
    with pytest.raises(Ambiguous) as found:
        client.artifact("abcd")
    assert str(found.value).splitlines() == [
        "artifact prefix 'abcd' is ambiguous; it matches 2 artifacts:",
        "  digest",
        f"  {DIGESTS[0]}",
        f"  {DIGESTS[1]}",
        "give more characters",
    ]
    with pytest.raises(NotFound, match="no artifact 'abcf'"):
        client.artifact("abcf")
    with pytest.raises(NotFound, match="no artifact 'abc'"):
        client.artifact("abc")
