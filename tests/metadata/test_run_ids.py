"""Run ids: fresh ones are readable, valid Kubernetes names and practically never collide; and a
collision that does happen is refused, never merged, by every sink (repository on SQLite and
Postgres, client in-process and over HTTP)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

import pytest

from argosy.errors import Conflict
from argosy.ir import NAME_PATTERN
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import TaskStatus
from argosy.run_ids import RANDOM_CHARS, RUN_ID_PATTERN, new_run_id
from tests.metadata.factories import run, task

KUBERNETES_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
Metadata = Repository


@pytest.mark.parametrize("pipeline", ["kmeans_sweep", "a", "p" + "_x" * 31])
def test_a_fresh_id_is_readable_and_a_kubernetes_name(pipeline: str) -> None:
    assert NAME_PATTERN.match(pipeline)
    run_id = new_run_id(pipeline)
    assert re.match(RUN_ID_PATTERN, run_id) and KUBERNETES_NAME.match(run_id)
    assert len(run_id) <= 63
    prefix, day, time_, random = run_id.rsplit("-", 3)
    assert pipeline.replace("_", "-").startswith(prefix) and prefix
    stamp = datetime.strptime(f"{day}{time_}", "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 5
    assert len(random) == RANDOM_CHARS


def test_fresh_ids_of_one_second_do_not_collide() -> None:
    """50 random bits a second: 20,000 ids drawn at once are all different (16 bits, as before,
    collide with near certainty: 1 - e^(-20000^2 / 2^17))."""
    ids = [new_run_id("p") for _ in range(20_000)]
    assert len(set(ids)) == len(ids)


def test_a_collision_is_refused_and_a_retry_is_not(metadata: Metadata) -> None:
    first = run("r1", parameters={"k": 1}, nonce=secrets.token_hex(16))
    metadata.create_run(first)
    metadata.create_run(first)  # the client's retry after a lost answer: a no-op
    metadata.create_run(run("r1", parameters={"k": 1}))  # a pod of that run: no nonce, agrees
    metadata.record_tasks([task("r1", "load", status=TaskStatus.SUCCEEDED)])

    same_content = run("r1", parameters={"k": 1}, nonce=secrets.token_hex(16))
    with pytest.raises(Conflict, match=r"run id r1 is taken by another run .*draw a new id"):
        metadata.create_run(same_content)  # another run whose fresh id collided
    with pytest.raises(Conflict, match="already recorded with another parameters"):
        metadata.create_run(run("r1", parameters={"k": 2}))
    recorded = metadata.get_run("r1")
    assert recorded.parameters == {"k": 1}
    assert [t.step for t in metadata.list_tasks("r1")] == ["load"]
