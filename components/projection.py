"""The GPU example: a random sign projection of a bag of words, on CUDA when there is a GPU.

``embedding = counts @ signs`` where ``signs`` is a seeded vocabulary-by-``dim`` matrix of -1
and +1 (an Achlioptas random projection, which preserves distances between documents). The
arithmetic is in int64, so numba's CUDA kernel (one thread per document and dimension) and the
CPU kernel (``prange`` over documents) give bit-identical results: the output artifact has the
same digest whichever device made it, and a run with ``--gpu-fallback`` reproduces a GPU run.
"""

from __future__ import annotations

import math
import sys

import numba
import numpy as np
import scipy.sparse as sp
from numba import cuda

from argosy import Resources, step
from argosy.errors import PipelineError
from components.numba_threads import prefer_fork_safe_threads

prefer_fork_safe_threads()

_THREADS_PER_BLOCK = (16, 16)


def signs(vocab_size: int, dim: int, seed: int) -> np.ndarray:
    """The seeded ``vocab_size`` by ``dim`` matrix of -1 and +1 (int64)."""
    rng = np.random.default_rng([seed, 7])
    return rng.integers(0, 2, size=(vocab_size, dim), dtype=np.int64) * 2 - 1


@numba.njit(cache=True, parallel=True)
def _project_cpu(indptr, indices, data, sign_matrix, out):
    for doc in numba.prange(out.shape[0]):
        for k in range(indptr[doc], indptr[doc + 1]):
            word, count = indices[k], data[k]
            for column in range(out.shape[1]):
                out[doc, column] += count * sign_matrix[word, column]


def gpu_available() -> bool:
    """Whether numba sees a usable CUDA GPU (``CUDA_VISIBLE_DEVICES=""`` hides them all)."""
    return bool(cuda.is_available())


@cuda.jit
def _gpu_kernel(indptr, indices, data, sign_matrix, out):
    """One thread per (document, dimension); compiled at its first launch, so no GPU is needed
    to import this module."""
    doc, column = cuda.grid(2)
    if doc < out.shape[0] and column < out.shape[1]:
        total = 0
        for k in range(indptr[doc], indptr[doc + 1]):
            total += data[k] * sign_matrix[indices[k], column]
        out[doc, column] = total


def _project_gpu(indptr, indices, data, sign_matrix, out) -> None:
    device_arrays = [cuda.to_device(array) for array in (indptr, indices, data, sign_matrix)]
    device_out = cuda.to_device(out)
    blocks = tuple(
        math.ceil(size / threads)
        for size, threads in zip(out.shape, _THREADS_PER_BLOCK, strict=True)
    )
    _gpu_kernel[blocks, _THREADS_PER_BLOCK](*device_arrays, device_out)
    device_out.copy_to_host(out)


def project(counts: sp.spmatrix, dim: int = 64, seed: int = 0, device: str = "auto") -> np.ndarray:
    """``counts @ signs(...)`` as int64, on ``device`` ``"gpu"``, ``"cpu"`` or ``"auto"``."""
    if device not in {"auto", "gpu", "cpu"}:
        raise PipelineError(f"device must be auto, gpu or cpu, got {device!r}", argument="device")
    if not sp.issparse(counts) or dim < 1:
        raise PipelineError("project needs a sparse documents-by-words matrix and dim >= 1")
    use_gpu = device == "gpu" or (device == "auto" and gpu_available())
    if device == "gpu" and not gpu_available():
        raise PipelineError("device='gpu' but numba sees no CUDA GPU; use device='auto' or 'cpu'")
    matrix = sp.csr_matrix(counts)
    arrays = (
        matrix.indptr.astype(np.int64),
        matrix.indices.astype(np.int64),
        matrix.data.astype(np.int64),
        signs(matrix.shape[1], dim, seed),
    )
    out = np.zeros((matrix.shape[0], dim), dtype=np.int64)
    (_project_gpu if use_gpu else _project_cpu)(*arrays, out)
    return out


@step(resources=Resources(cpu=1, memory="2Gi", gpu=1))
def random_projection(counts: sp.csr_matrix, dim: int = 64, seed: int = 0) -> np.ndarray:
    """A GPU step: the random sign projection, on the GPU, or the CPU when run without one."""
    device = "gpu" if gpu_available() else "cpu"
    print(f"random projection to {dim} dimensions on the {device}", file=sys.stderr)
    return project(counts, dim=dim, seed=seed, device=device)


__all__ = ["gpu_available", "project", "random_projection", "signs"]
