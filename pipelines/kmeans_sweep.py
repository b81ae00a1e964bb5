"""K-means over a synthetic bag-of-words corpus: one task per k, the best k picked by silhouette.

The corpus is made here, nothing is downloaded: ``n_docs`` documents, each drawn from one of
eight hidden topics. Every topic mixes a background word distribution shared by all documents
with a topic-specific one, both Zipf-distributed over the vocabulary (a few words are very
common, most are rare), as in real text. The counts become a TF-IDF matrix (scipy CSR), K-means
runs once per ``k`` in parallel, and the fan-in keeps the ``k`` whose clusters are best
separated (mean silhouette, cosine distance, on a fixed sample of documents): with the default
``ks`` it should find the eight hidden topics.

    argosy run pipelines/kmeans_sweep.py
    argosy run pipelines/kmeans_sweep.py --param ks='[2,4,8]' --param n_docs=5000
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.metrics import silhouette_score

from argosy import Resources, pipeline, step

VOCABULARY = 2000
"""Distinct words in the corpus."""
TOPICS = 8
"""Hidden topics the documents are drawn from (what the sweep should rediscover)."""
MEAN_WORDS = 60
"""Average document length, in words."""
ZIPF_EXPONENT = 1.1
"""The word at frequency rank r has probability proportional to r ** -ZIPF_EXPONENT."""
TOPIC_SHARE = 0.5
"""Fraction of a document's words drawn from its topic rather than the shared background."""
SILHOUETTE_SAMPLE = 1000
"""Documents the silhouette is measured on (it is quadratic in this number)."""


def _zipf(rng: np.random.Generator, size: int) -> np.ndarray:
    """A Zipf distribution over ``size`` words, the ranks given to words in a random order."""
    weights = 1.0 / np.arange(1, size + 1) ** ZIPF_EXPONENT
    probabilities = np.empty(size)
    probabilities[rng.permutation(size)] = weights / weights.sum()
    return probabilities


@step(resources=Resources(cpu=1, memory="1Gi"))
def make_corpus(n_docs: int, seed: int) -> sparse.csr_matrix:
    """Word counts of ``n_docs`` synthetic documents (rows) over the vocabulary (columns)."""
    rng = np.random.default_rng(seed)
    background = _zipf(rng, VOCABULARY)
    topics = rng.integers(TOPICS, size=n_docs)
    lengths = rng.poisson(MEAN_WORDS, size=n_docs) + 1
    rows, words = [], []
    for topic in range(TOPICS):
        distribution = (1 - TOPIC_SHARE) * background + TOPIC_SHARE * _zipf(rng, VOCABULARY)
        docs = np.flatnonzero(topics == topic)
        rows.append(np.repeat(docs, lengths[docs]))
        words.append(rng.choice(VOCABULARY, size=int(lengths[docs].sum()), p=distribution))
    row, column = np.concatenate(rows), np.concatenate(words)
    counts = sparse.csr_matrix(
        (np.ones(row.size, dtype=np.float32), (row, column)), shape=(n_docs, VOCABULARY)
    )
    counts.sum_duplicates()
    return counts


@step
def tfidf(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """TF-IDF weights with sublinear term frequency; every row has unit length."""
    return TfidfTransformer(sublinear_tf=True).fit_transform(counts).tocsr()


@step(resources=Resources(cpu=1, memory="1Gi"), retries=2, timeout="10m")
def fit(X: sparse.csr_matrix, k: int, seed: int) -> dict:
    """K-means with ``k`` clusters, scored by its mean silhouette on a fixed sample."""
    model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(X)
    silhouette = silhouette_score(
        X,
        model.labels_,
        metric="cosine",
        sample_size=min(SILHOUETTE_SAMPLE, X.shape[0]),
        random_state=seed,
    )
    sizes = np.bincount(model.labels_, minlength=k)
    print(f"k={k}: silhouette {silhouette:.4f}, inertia {model.inertia_:.1f}, sizes {sizes}")
    return {
        "k": k,
        "silhouette": float(silhouette),
        "inertia": float(model.inertia_),
        "cluster_sizes": sizes.tolist(),
    }


@step
def pick_best(fits: list[dict]) -> dict:
    """The fit with the highest silhouette (the smaller k on a tie), and every k's score."""
    best = max(fits, key=lambda fit: (fit["silhouette"], -fit["k"]))
    for result in fits:
        mark = "  <- best" if result is best else ""
        print(f"k={result['k']:>3}  silhouette {result['silhouette']:.4f}{mark}")
    return {
        "best_k": best["k"],
        "silhouette": best["silhouette"],
        "scores": {str(result["k"]): result["silhouette"] for result in fits},
    }


@pipeline
def kmeans_sweep(n_docs: int = 2000, ks: list[int] = [2, 4, 8, 16], seed: int = 0):
    counts = make_corpus(n_docs, seed)
    X = tfidf(counts)
    fits = fit.map(k=ks, X=X, seed=seed)
    return pick_best(fits)
