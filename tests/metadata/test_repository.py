"""What only the embedded repository does: tokens in the database, bulk-write speed."""

from __future__ import annotations

import time

from argosy.metadata.repository import Repository
from tests.metadata.factories import artifact, run, task


def test_tokens_are_kept_hashed(repo: Repository) -> None:
    repo.add_token("secret-token", "read", "ci")
    repo.add_token("secret-token", "read", "ci")
    assert repo.token_scope("secret-token") == "read"
    assert repo.token_scope("other") is None
    with repo.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT token_hash FROM api_tokens").scalars().all()
    assert stored and "secret-token" not in stored[0]


def test_a_thousand_tasks_are_recorded_fast(repo: Repository) -> None:
    """The local runner's budget is 2 ms per task, all of it; metadata must take far less."""
    repo.create_run(run("r1", steps=("work",)))
    shared = artifact("shared")
    records = [
        task("r1", "work", i, output=artifact(f"out{i}"), inputs={"x": shared}, metrics={"t": 1.0})
        for i in range(1000)
    ]
    began = time.perf_counter()
    for start in range(0, 1000, 100):
        repo.record_tasks(records[start : start + 100])
    elapsed = time.perf_counter() - began
    assert len(repo.list_tasks("r1")) == 1000
    assert elapsed / 1000 < 0.002, f"{elapsed / 1000 * 1e3:.2f} ms per task"
