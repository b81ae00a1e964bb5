"""Word co-occurrence counts from a bag of words, in four implementations that agree exactly.

Definition: for a documents-by-words count matrix ``X``, let ``B = (X > 0)`` as integers. The
co-occurrence matrix is ``C = B.T @ B`` with its diagonal set to zero: ``C[i, j]`` (``i != j``)
is the number of documents in which words ``i`` and ``j`` both occur. It is symmetric, holds
int64 counts, and is returned in canonical CSR form (sorted indices, no stored zeros), so two
results are equal exactly when their ``indptr``, ``indices`` and ``data`` arrays are equal
(`same_counts`).

The variants, slowest first: plain Python over the word pairs of each document; scipy's sparse
matrix product; a numba kernel computing the upper triangle one row at a time (Gustavson's
row-by-row sparse product) and mirroring it; and the same kernel over interleaved blocks of rows
on every thread with ``prange`` (interleaved, because Zipf-distributed words make the first
rows the heaviest). Both numba variants call the same row function, so they cannot drift; they
are two compiled drivers, not one function compiled twice, because numba's on-disk cache keys
entries by function and signature and would hand the parallel build the serial one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numba
import numpy as np
import scipy.sparse as sp

from argosy.errors import PipelineError
from components.numba_threads import prefer_fork_safe_threads

Variant = Callable[[sp.spmatrix], sp.csr_matrix]

prefer_fork_safe_threads()


def binary_csr(counts: sp.spmatrix) -> sp.csr_matrix:
    """``counts > 0`` as a canonical int64 CSR matrix (sorted indices, no stored zeros)."""
    if not sp.issparse(counts) or counts.ndim != 2:
        raise PipelineError(
            f"co-occurrence needs a 2-D scipy sparse documents-by-words matrix, got "
            f"{type(counts).__name__}; build one with components.data.bag_of_words"
        )
    binary = sp.csr_matrix(counts, copy=True)
    binary.eliminate_zeros()
    binary.sum_duplicates()
    binary.sort_indices()
    binary.data = np.ones(binary.nnz, dtype=np.int64)
    return binary


def _canonical(matrix: sp.spmatrix) -> sp.csr_matrix:
    result = sp.csr_matrix(matrix, dtype=np.int64)
    result.eliminate_zeros()
    result.sort_indices()
    return result


def same_counts(a: sp.spmatrix, b: sp.spmatrix) -> bool:
    """True when two co-occurrence matrices are exactly equal (shape, pattern and counts)."""
    a, b = _canonical(a), _canonical(b)
    return (
        a.shape == b.shape
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


def cooccurrence_python(counts: sp.spmatrix) -> sp.csr_matrix:
    """Plain Python: count every unordered pair of distinct words of every document."""
    binary = binary_csr(counts)
    indptr, indices = binary.indptr.tolist(), binary.indices.tolist()
    pairs: Counter[tuple[int, int]] = Counter()
    for doc in range(binary.shape[0]):
        words = indices[indptr[doc] : indptr[doc + 1]]
        for position, first in enumerate(words):
            for second in words[position + 1 :]:
                pairs[(first, second)] += 1
    vocab = binary.shape[1]
    if not pairs:
        return _canonical(sp.csr_matrix((vocab, vocab), dtype=np.int64))
    rows, cols = zip(*pairs, strict=True)
    values = list(pairs.values())
    upper = sp.coo_matrix((values, (rows, cols)), shape=(vocab, vocab), dtype=np.int64)
    return _canonical(upper + upper.T)


def cooccurrence_sparse(counts: sp.spmatrix) -> sp.csr_matrix:
    """scipy: the sparse product ``B.T @ B``, diagonal removed."""
    binary = binary_csr(counts)
    product = (binary.T.tocsr() @ binary).tocsr()
    product.setdiag(0)
    return _canonical(product)


@numba.njit(cache=True)
def _upper_rows(block, blocks, doc_ptr, doc_words, word_ptr, word_docs, word_pos, vocab, count_only,
                out_ptr, out_words, out_counts):  # fmt: skip
    """Rows ``block, block + blocks, ...`` of the upper triangle of ``B.T @ B``.

    For word ``i``, walk the documents holding it and, in each, the words after ``i`` (rows of
    ``B`` are sorted, and ``word_pos`` says where ``i`` sits in each). With ``count_only`` it
    writes row lengths to ``out_ptr[i + 1]``; otherwise it fills ``out_words``/``out_counts``
    at the offsets in ``out_ptr``, sorted by word: by a scan of the accumulator when the row is
    dense, by sorting the touched words when it is sparse.
    """
    accumulator = np.zeros(vocab, dtype=np.int64)
    touched = np.empty(vocab, dtype=np.int64)
    for word in range(block, vocab, blocks):
        n_touched = 0
        for k in range(word_ptr[word], word_ptr[word + 1]):
            doc = word_docs[k]
            for m in range(word_pos[k] + 1, doc_ptr[doc + 1]):
                other = doc_words[m]
                if accumulator[other] == 0:
                    touched[n_touched] = other
                    n_touched += 1
                accumulator[other] += 1
        if count_only:
            out_ptr[word + 1] = n_touched
        elif n_touched * 16 > vocab - word:
            position = out_ptr[word]
            for other in range(word + 1, vocab):
                if accumulator[other] != 0:
                    out_words[position] = other
                    out_counts[position] = accumulator[other]
                    position += 1
        else:
            position = out_ptr[word]
            for other in np.sort(touched[:n_touched]):
                out_words[position] = other
                out_counts[position] = accumulator[other]
                position += 1
        for position in range(n_touched):
            accumulator[touched[position]] = 0


@numba.njit(cache=True)
def _serial_kernel(blocks, *arrays):
    for block in range(blocks):
        _upper_rows(block, blocks, *arrays)


@numba.njit(cache=True, parallel=True)
def _parallel_kernel(blocks, *arrays):
    for block in numba.prange(blocks):
        _upper_rows(block, blocks, *arrays)


@numba.njit(cache=True)
def _mirror(upper_ptr, upper_words, upper_counts, vocab):
    """The symmetric matrix ``U + U.T`` of a sorted upper-triangular CSR ``U``, sorted.

    Row ``i`` of the result is column ``i`` of ``U`` (words below ``i``, met in row order, so
    sorted) followed by row ``i`` of ``U`` (words above ``i``).
    """
    below = np.zeros(vocab, dtype=np.int64)
    for k in range(upper_ptr[-1]):
        below[upper_words[k]] += 1
    ptr = np.zeros(vocab + 1, dtype=np.int64)
    for row in range(vocab):
        ptr[row + 1] = ptr[row] + below[row] + upper_ptr[row + 1] - upper_ptr[row]
    words = np.empty(ptr[-1], dtype=np.int64)
    counts = np.empty(ptr[-1], dtype=np.int64)
    next_below = ptr[:-1].copy()
    for row in range(vocab):
        above = ptr[row] + below[row]
        for k in range(upper_ptr[row], upper_ptr[row + 1]):
            column = upper_words[k]
            words[next_below[column]] = row
            counts[next_below[column]] = upper_counts[k]
            next_below[column] += 1
            words[above] = column
            counts[above] = upper_counts[k]
            above += 1
    return ptr, words, counts


def _run_kernel(counts: sp.spmatrix, kernel: Callable[..., None], blocks: int) -> sp.csr_matrix:
    binary = binary_csr(counts)
    vocab = binary.shape[1]
    positions = np.arange(binary.nnz, dtype=np.int64)
    # B.T as CSR (the documents of each word, sorted) carrying each entry's position in B
    by_word = sp.csr_matrix((positions, binary.indices, binary.indptr), shape=binary.shape)
    by_word = by_word.T.tocsr()
    arrays = (
        binary.indptr.astype(np.int64),
        binary.indices.astype(np.int64),
        by_word.indptr.astype(np.int64),
        by_word.indices.astype(np.int64),
        by_word.data,
        vocab,
    )
    upper_ptr = np.zeros(vocab + 1, dtype=np.int64)
    nothing = np.empty(0, dtype=np.int64)
    kernel(blocks, *arrays, True, upper_ptr, nothing, nothing)
    np.cumsum(upper_ptr, out=upper_ptr)
    upper_words = np.empty(upper_ptr[-1], dtype=np.int64)
    upper_counts = np.empty(upper_ptr[-1], dtype=np.int64)
    kernel(blocks, *arrays, False, upper_ptr, upper_words, upper_counts)
    ptr, words, values = _mirror(upper_ptr, upper_words, upper_counts, vocab)
    return _canonical(sp.csr_matrix((values, words, ptr), shape=(vocab, vocab)))


def cooccurrence_numba(counts: sp.spmatrix) -> sp.csr_matrix:
    """numba, one thread: the row-by-row sparse product."""
    return _run_kernel(counts, _serial_kernel, blocks=1)


def cooccurrence_numba_parallel(counts: sp.spmatrix) -> sp.csr_matrix:
    """numba over every thread: blocks of rows in ``prange`` (``NUMBA_NUM_THREADS`` threads)."""
    return _run_kernel(counts, _parallel_kernel, blocks=8 * numba.get_num_threads())


VARIANTS: dict[str, Variant] = {
    "python": cooccurrence_python,
    "sparse": cooccurrence_sparse,
    "numba": cooccurrence_numba,
    "numba_parallel": cooccurrence_numba_parallel,
}
"""Every implementation by name, slowest first."""


__all__ = [
    "VARIANTS",
    "Variant",
    "binary_csr",
    "cooccurrence_numba",
    "cooccurrence_numba_parallel",
    "cooccurrence_python",
    "cooccurrence_sparse",
    "same_counts",
]
