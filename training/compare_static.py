"""How close static vectors are to GloVe 6B (the shipped glove-100d subset, trained on 6B tokens: a proxy for word
similarity where no similarity benchmark can be fetched): the Spearman correlation of cosines over 50,000 random pairs
of the words every set given knows, and the mean overlap of a word's 10 nearest neighbours with GloVe's (3,000 of
those words). Used to decide whether retrained word2vec vectors replace the shipped ones.

Usage: python3 training/compare_static.py NAME=FOLDER [NAME=FOLDER ...]   (folders as media/models/word2vec-cbow)
"""
import sys

import numpy as np

from static import read_vectors

REPO = __file__.rsplit("/training/", 1)[0]


def load(folder):
    words, vectors = read_vectors(folder)
    return dict(zip(words, range(len(words)))), vectors


def unit_rows(index_vectors, words):
    index, vectors = index_vectors
    rows = vectors[[index[w] for w in words]]
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-8)


def nearest(rows, queries, k=10):
    sims = rows[queries] @ rows.T
    sims[np.arange(len(queries)), queries] = -np.inf
    return np.argsort(-sims, axis=1)[:, :k]


def main(args):
    sets = dict(a.split("=", 1) for a in args)
    glove = load(f"{REPO}/media/models/glove-100d")
    loaded = {name: load(folder) for name, folder in sets.items()}
    shared = set(glove[0])
    for index, _ in loaded.values():
        shared &= set(index)
    shared = sorted(shared)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(shared), 50000), rng.integers(0, len(shared), 50000)
    queries = rng.choice(len(shared), size=min(3000, len(shared)), replace=False)
    g = unit_rows(glove, shared)
    g_cos = (g[a] * g[b]).sum(1)
    g_top = nearest(g, queries)
    print(f"{len(shared)} words known to GloVe and every set")
    rank = lambda x: np.argsort(np.argsort(x))
    for name, vectors in loaded.items():
        s = unit_rows(vectors, shared)
        rho = np.corrcoef(rank((s[a] * s[b]).sum(1)), rank(g_cos))[0, 1]
        top = nearest(s, queries)
        overlap = np.mean([len(set(top[i]) & set(g_top[i])) / 10 for i in range(len(queries))])
        print(f"{name}: Spearman vs GloVe {rho:.4f}, top-10 neighbour overlap {overlap:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
