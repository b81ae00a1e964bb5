"""A service or database restart in the middle of a run loses nothing: the client retries until
it is back."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from argosy.metadata.client import MetadataClient
from argosy.metadata.repository import Repository
from argosy.metadata.schemas import RunStatus, RunUpdate, TaskStatus
from argosy.metadata.service import create_app
from tests.metadata.conftest import ADMIN_TOKEN, service_settings
from tests.metadata.factories import artifact, run, task
from tests.metadata.service_thread import ServiceThread
from tests.servers.postgres import PostgresServer


def _batch(start: int) -> list:
    shared = artifact("X")
    return [
        task("r1", "fit", i, output=artifact(f"m{i}"), inputs={"X": shared}, metrics={"i": i})
        for i in range(start, start + 10)
    ]


def test_restart_mid_run_loses_nothing(tmp_path: Path, fresh_postgres_url: str) -> None:
    settings = service_settings(tmp_path)
    first = Repository(fresh_postgres_url)
    service = ServiceThread(create_app(settings, repository=first))
    service.start()
    client = MetadataClient(service.url, ADMIN_TOKEN, retry_for=15.0, backoff=0.05)
    client.create_run(run("r1", steps=("fit",)))
    for start in range(0, 50, 10):
        client.record_tasks(_batch(start))

    service.stop()  # the service goes away mid-run...
    first.close()
    during = threading.Thread(target=lambda: [client.record_tasks(_batch(s)) for s in (50, 60)])
    during.start()
    time.sleep(0.5)
    assert during.is_alive(), "the writes should be waiting for the service"
    second = Repository(fresh_postgres_url)
    service.start(create_app(settings, repository=second))  # ...and comes back on the same port
    during.join(30)
    assert not during.is_alive()
    for start in range(70, 100, 10):
        client.record_tasks(_batch(start))
    client.record_tasks(_batch(60))  # a batch sent twice, as a retry after a lost answer would
    client.update_run("r1", RunUpdate(status=RunStatus.SUCCEEDED))

    tasks = second.list_tasks("r1")
    assert [t.index for t in tasks] == list(range(100))
    assert all(t.status == TaskStatus.SUCCEEDED and t.attempts == 1 for t in tasks)
    assert len(second.metrics("r1")) == 100
    assert len(second.get_artifact(artifact("X").digest).consumed_by) == 100
    assert second.get_run("r1").status == RunStatus.SUCCEEDED
    service.stop()
    second.close()
    client.close()


def test_a_database_outage_is_waited_out(
    tmp_path: Path, private_postgres_server: PostgresServer
) -> None:
    """503s while Postgres is down are retried; the pool reconnects once it is back."""
    url = private_postgres_server.url(private_postgres_server.create_database())
    repository = Repository(url)
    service = ServiceThread(create_app(service_settings(tmp_path), repository=repository))
    service.start()
    client = MetadataClient(service.url, ADMIN_TOKEN, retry_for=15.0, backoff=0.05)
    client.create_run(run("r1", steps=("fit",)))
    client.record_tasks(_batch(0))

    private_postgres_server.stop()
    during = threading.Thread(target=client.record_tasks, args=(_batch(10),))
    during.start()
    time.sleep(0.5)
    assert during.is_alive(), "the write should be waiting for the database"
    private_postgres_server.start()
    during.join(30)
    assert not during.is_alive()
    assert [t.index for t in client.list_tasks("r1")] == list(range(20))
    service.stop()
    repository.close()
    client.close()
