"""components.cooccurrence: the four variants agree exactly, with the definition and each other."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from argosy.errors import PipelineError
from components.cooccurrence import VARIANTS, binary_csr, same_counts


def _random_counts(seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    docs, words = int(rng.integers(1, 80)), int(rng.integers(1, 50))
    density = float(rng.uniform(0.0, 0.6))
    counts = sp.random(docs, words, density=density, format="csr", rng=rng, dtype=np.float64)
    counts.data = np.ceil(counts.data * 4)  # counts 1..4
    return counts


def _definition(counts: sp.spmatrix) -> np.ndarray:
    binary = (counts.toarray() > 0).astype(np.int64)
    product = binary.T @ binary
    np.fill_diagonal(product, 0)
    return product


@pytest.mark.parametrize("seed", range(40))
def test_every_variant_matches_the_definition_exactly(seed):
    counts = _random_counts(seed)
    expected = _definition(counts)
    for name, variant in VARIANTS.items():
        result = variant(counts)
        assert result.dtype == np.int64, name
        assert result.has_sorted_indices, name
        assert np.all(result.data != 0), f"{name} stores zeros"
        np.testing.assert_array_equal(result.toarray(), expected, err_msg=name)


def test_variants_agree_on_a_zipf_corpus():
    from components.data import bag_of_words

    counts = bag_of_words(n_docs=400, vocab_size=300, mean_length=30, seed=5)
    results = {name: variant(counts) for name, variant in VARIANTS.items()}
    reference = results.pop("python")
    assert reference.nnz > 1000
    for name, result in results.items():
        assert same_counts(reference, result), name


def test_counts_ignore_multiplicity_and_unsorted_duplicate_entries():
    # document 0 holds word 2 three times, written as two unsorted duplicate entries
    counts = sp.csr_matrix(
        (np.array([2, 1, 1, 5]), np.array([2, 0, 2, 1]), np.array([0, 3, 4])), shape=(2, 3)
    )
    for name, variant in VARIANTS.items():
        np.testing.assert_array_equal(
            variant(counts).toarray(), [[0, 0, 1], [0, 0, 0], [1, 0, 0]], err_msg=name
        )


def test_empty_documents_give_an_empty_matrix():
    counts = sp.csr_matrix((3, 4), dtype=np.int64)
    for name, variant in VARIANTS.items():
        result = variant(counts)
        assert result.shape == (4, 4) and result.nnz == 0, name


def test_same_counts_detects_one_differing_count():
    counts = _random_counts(3)
    result = VARIANTS["sparse"](counts)
    assert result.nnz > 0
    changed = result.copy()
    changed.data[0] += 1
    assert same_counts(result, result.copy())
    assert not same_counts(result, changed)
    assert not same_counts(result, sp.csr_matrix((result.shape[0] + 1,) * 2, dtype=np.int64))


def test_a_dense_input_is_refused_with_a_hint():
    with pytest.raises(PipelineError, match="bag_of_words"):
        binary_csr(np.ones((2, 2)))
