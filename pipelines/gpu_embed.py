"""A GPU pipeline: embed documents by a random projection on CUDA, with a CPU fallback.

``random_projection`` asks for one GPU. On a cluster it lands on a GPU node; locally,
``argosy run`` refuses to start without a GPU unless ``--gpu-fallback`` is given, and then the
step runs numba's CPU kernel, which computes exactly the same integers (same artifact digest).

    argosy run pipelines/gpu_embed.py --gpu-fallback
    argosy compile pipelines/gpu_embed.py -o gpu_embed.yaml
"""

from __future__ import annotations

import numpy as np

from argosy import pipeline, step
from components.data import bag_of_words
from components.projection import random_projection


@step
def nearest_pairs(embedding: np.ndarray, n_pairs: int = 5) -> dict:
    """The most similar document pairs among the first 500 (cosine of their embeddings)."""
    sample = np.asarray(embedding[:500], dtype=np.float64)
    norms = np.linalg.norm(sample, axis=1)
    norms[norms == 0] = 1.0
    unit = sample / norms[:, None]
    similarity = np.triu(unit @ unit.T, k=1)
    order = np.argsort(similarity, axis=None)[::-1][:n_pairs]
    pairs = [np.unravel_index(flat, similarity.shape) for flat in order]
    return {
        "shape": list(embedding.shape),
        "pairs": [[int(a), int(b), float(similarity[a, b])] for a, b in pairs],
    }


@pipeline
def gpu_embed(n_docs: int = 10_000, vocab_size: int = 2_000, dim: int = 64, seed: int = 0):
    counts = bag_of_words(n_docs=n_docs, vocab_size=vocab_size, seed=seed)
    embedding = random_projection(counts, dim=dim, seed=seed)
    return nearest_pairs(embedding)
