"""components.projection: the CUDA kernel and the CPU kernel compute the same integers."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from argosy.errors import PipelineError
from components.data import bag_of_words
from components.projection import gpu_available, project, signs

_COMPARE = """
import numpy as np
from components.data import bag_of_words
from components.projection import gpu_available, project
assert gpu_available()
counts = bag_of_words(n_docs=40, vocab_size=50, mean_length=8, seed=2)
gpu, cpu = project(counts, dim=5, device="gpu"), project(counts, dim=5, device="cpu")
assert gpu.dtype == cpu.dtype == np.int64
np.testing.assert_array_equal(gpu, cpu)
print("identical", int(np.abs(gpu).sum()))
"""


def test_cpu_projection_is_the_integer_product():
    counts = bag_of_words(n_docs=200, vocab_size=80, mean_length=10, seed=1)
    result = project(counts, dim=12, seed=3, device="cpu")
    expected = counts.toarray().astype(np.int64) @ signs(80, 12, 3)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, expected)
    assert set(np.unique(signs(80, 12, 3))) == {-1, 1}


def test_cuda_kernel_matches_the_cpu_kernel_in_numbas_simulator():
    # numba's CUDA simulator runs the real kernel (thread grid, indexing) without a GPU
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _COMPARE], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("identical ")


@pytest.mark.gpu
def test_cuda_kernel_matches_the_cpu_kernel_on_a_gpu():
    if not gpu_available():
        pytest.skip("no CUDA GPU")
    counts = bag_of_words(n_docs=5_000, vocab_size=2_000, seed=4)
    np.testing.assert_array_equal(
        project(counts, dim=64, device="gpu"), project(counts, dim=64, device="cpu")
    )


def test_asking_for_a_missing_gpu_or_a_bad_device_is_refused():
    counts = sp.csr_matrix(np.eye(3, dtype=np.int64))
    if not gpu_available():
        with pytest.raises(PipelineError, match="no CUDA GPU"):
            project(counts, device="gpu")
    with pytest.raises(PipelineError, match="auto, gpu or cpu"):
        project(counts, device="tpu")
