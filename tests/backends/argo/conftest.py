"""Fixtures of the Argo backend tests: a fake Kubernetes API serving Argo's objects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backends.argo.fake_kube import FakeCluster, fake_cluster


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    with fake_cluster() as running:
        yield running
