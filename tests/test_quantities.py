"""Kubernetes quantities, read once for the DSL, the local backend and the Argo compiler."""

from __future__ import annotations

from decimal import Decimal

import pytest

from argosy.quantities import cpu_cores, cpu_quantity, memory_bytes, quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("512Mi", 512 * 2**20),
        ("1.5Gi", 3 * 2**29),
        ("650M", 650 * 10**6),
        ("2k", 2000),
        ("1Ti", 2**40),
        ("1T", 10**12),
        ("1000000", 10**6),
        ("2e9", 2 * 10**9),
        ("500m", Decimal("0.5")),
        (".5", Decimal("0.5")),
    ],
)
def test_every_kubernetes_form_is_read(text: str, value: Decimal | int) -> None:
    assert quantity(text) == value


@pytest.mark.parametrize("text", ["lots", "", "5 Gi", "-1Gi", "1GB", "1gi", "1e"])
def test_what_kubernetes_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a Kubernetes quantity"):
        quantity(text)


def test_memory_is_whole_bytes_and_milli_is_a_mistake() -> None:
    assert memory_bytes("650M") == 650_000_000
    assert memory_bytes("0.5Ki") == 512
    with pytest.raises(ValueError, match=r"not a memory quantity.*'512Mi'"):
        memory_bytes("lots")
    with pytest.raises(ValueError, match=r"'m' is milli.*'500M'.*'500Mi'"):
        memory_bytes("500m")


def test_cpu_reads_millicores_and_writes_them_back() -> None:
    assert cpu_cores("500m") == 0.5
    assert cpu_cores("2") == 2.0
    assert cpu_cores(1.5) == 1.5
    assert [cpu_quantity(c) for c in (2, 0.5, 0.25, 1.0)] == ["2", "500m", "250m", "1"]
    with pytest.raises(ValueError, match="not a CPU quantity"):
        cpu_cores("two")
