"""Train one model with a wall-clock budget, checkpointing so a later run resumes.

Usage: python3 train.py MODEL --work WORK --minutes M [--device cpu|cuda] [--smoke] [--threads 1] [--accum K]
MODEL: bert | gpt2 | gpt1 | elmo | nnlm

One process, or one of N DistributedDataParallel ranks when WORLD_SIZE > 1 is in the environment (torchrun, or
`run.py --ranks N`); BATCH is the global batch either way (see ddp.py).

A run resumed from its checkpoint keeps its data options (--mix, --sentence-eos, --inner-starts, --mask-repeats,
--uniform-share) and its --dropout unless they are named again.
"""
import argparse
import contextlib
import glob
import json
import math
import os
import time
import zlib

import numpy as np
import torch
import torch.nn.functional as F

import ddp
import models
from common import REPO, TRAINING_DIR, log, model_fingerprint

SIZES = {  # (full, smoke)
    "bert": (dict(h=256, layers=4, heads=4, max_pos=128, pre_ln=True), dict(h=32, layers=2, heads=2, max_pos=128, pre_ln=True)),
    "gpt2": (dict(h=192, layers=4, heads=4, max_pos=256), dict(h=32, layers=2, heads=2, max_pos=256)),
    "gpt1": (dict(h=192, layers=4, heads=4, max_pos=256, pre_ln=False), dict(h=32, layers=2, heads=2, max_pos=256, pre_ln=False)),
    "elmo": (dict(proj=128, hidden=256), dict(proj=16, hidden=32)),
    "nnlm": (dict(context=4, dim=100, hidden=128), dict(context=4, dim=100, hidden=16)),
}
# (rows, tokens). GPT windows (None) span the model's whole context (n_positions): a position no window reaches keeps
# its random embedding, and the model then fails on long prompts. gpt2-mini trained seven sessions on 128-token windows
# of its 256: modern text scored in 256-token windows had perplexity 226.9, the same model capped at 128 positions 98.9
# (2026-12-01).
BATCH = {"bert": (16, 64),  # bert: many small steps (the masked LM leaves its plateau after ~5k steps; measured)
         "gpt2": (16, None), "gpt1": (16, None), "elmo": (32, 64), "nnlm": (256, 5)}
LR = {"bert": 1e-3, "gpt2": 1e-3, "gpt1": 5e-4, "elmo": 2e-3, "nnlm": 2e-3}
WARM_LR = 0.5  # a warm-started run (weights from the shipped model or a checkpoint) peaks at half the learning rate
# Masked LM: whole words are masked, content words far more often than function words (frequency-based masking).
# Uniform 15% masking spends most predictions on "the", "," and "of", which the model learns first and which make
# masked-token accuracy look good while cloze on content words stays at zero (measured, training-notes turn 2).
MASK_FUNCTION_RANK = 100  # the corpus' 100 most frequent tokens count as function words / punctuation
MASK_RATE = {"content": 0.30, "function": 0.04}
# ...but pseudo-log-likelihood scoring (BLiMP) masks function words too, and at 4% the model never learns to predict
# them from context: a share of sequences is masked uniformly (15% of words, BERT's recipe) instead. A run at 0.5
# (2026-12-01 afternoon, runs.json) raised BLiMP 0.582 -> 0.589 but lost cloze top-5 0.500 -> 0.446: 0.25 stays.
UNIFORM_SHARE, UNIFORM_RATE = 0.25, 0.15
# Function words at 12% instead of 4% in every sequence (2026-12-01 17:26) went the same way: BLiMP 0.582 -> 0.586,
# cloze top-1 0.179 -> 0.214, top-5 0.500 -> 0.446. MASK_RATE keeps 4%.
NSP_WEIGHT = 0.1  # next-sentence prediction kept as the seed's objective, weighted down (RoBERTa: NSP does not help)
# Fill Mask and pseudo-log-likelihood scoring (BLiMP) send one segment, [CLS] sentence [SEP], but pairs cut A at any
# token, so the model only ever saw [SEP] mid-sentence: a share of sequences is one segment ending at a sentence end.
SINGLE_SHARE = 0.5


# ------------------------------------------------------------------------------------------------ data
def load_ids(work, name, split):
    ids = np.fromfile(os.path.join(work, "data", f"{name}.{split}.ids"), dtype=np.uint16).astype(np.int64)
    ends = np.fromfile(os.path.join(work, "data", f"{name}.{split}.lines"), dtype=np.uint32).astype(np.int64)
    return ids, ends


def gpt_stream(work, split, eos, sentence_eos=0.0, rng=None):
    """The token stream with end-of-text between paragraphs; with `sentence_eos` > 0, also before that share of the
    sentences that start inside a paragraph, their first word tokenised as a text's first word (no leading space)."""
    ids, ends = load_ids(work, "gpt2", split)
    if sentence_eos <= 0:
        return np.insert(ids, ends, eos)  # end-of-text between paragraphs
    stops, bare = sentence_starts(os.path.join(work, "tok", "gpt2", "tokenizer.json"))
    spaced = np.zeros(int(ids.max()) + 1, bool)
    spaced[[i for i in bare if i < len(spaced)]] = True
    at = np.where(np.isin(ids[:-1], stops) & spaced[ids[1:]])[0] + 1  # a capitalised word after . ! ?
    at = at[~np.isin(at, ends)]  # not a paragraph start: that has its end-of-text already
    at = at[(rng or np.random.default_rng(0)).random(len(at)) < sentence_eos]
    cuts, sentence = np.union1d(ends[ends < len(ids)], at), set(at.tolist())
    pieces, last = [], 0
    for i in cuts.tolist():
        pieces += [ids[last:i], [eos]]
        if i in sentence:
            pieces.append(bare[int(ids[i])])
            last = i + 1
        else:
            last = i
    pieces.append(ids[last:])
    if ends[-1] >= len(ids):
        pieces.append([eos])
    return np.concatenate([np.asarray(x, np.int64) for x in pieces])


def source_spans(work, split="train"):
    """Where each corpus source lies in `gpt_stream(work, split, eos)` (the plain stream: one end-of-text after each
    paragraph): {name: (start, end)} in stream positions, from the line counts corpus.py writes into its card."""
    card = json.load(open(os.path.join(work, "corpus", "corpus_card.json")))
    if any("train_lines" not in src for src in card["sources"]):
        raise SystemExit("--mix: the corpus card has no train_lines per source (a corpus built before 2026-12-03): "
                         "rebuild it with run.py --from corpus --to tokenizers")
    _, ends = load_ids(work, "gpt2", split)
    spans, line = {}, 0
    for src in card["sources"]:
        first, line = line, min(line + src["train_lines"], len(ends))  # the smoke corpus keeps a slice of the lines
        if line > first:
            start = int(ends[first - 1]) + first if first else 0  # each earlier line added its end-of-text
            spans[src["name"]] = (start, int(ends[line - 1]) + line)
    return spans


def mix_sampler(spans, weights, T):
    """Window starts for `windows` with each source's share of the windows scaled by its weight (1 for a source
    not named): a source of n tokens and weight w is drawn with probability proportional to n * w, then a start
    uniformly inside it (a window may run on into the next source by at most T tokens)."""
    unknown = set(weights) - set(spans)
    if unknown:
        raise SystemExit(f"--mix: no source {', '.join(sorted(unknown))} in the corpus (it has {', '.join(spans)})")
    names = list(spans)
    lo = np.array([spans[n][0] for n in names])
    size = np.array([spans[n][1] - spans[n][0] for n in names])
    p = size * np.array([weights.get(n, 1.0) for n in names], float)
    if p.sum() <= 0:
        raise SystemExit("--mix: every source is weighted 0; nothing is left to train on")
    p /= p.sum()
    top = spans[names[-1]][1] - T - 1

    def starts(B, rng):
        k = rng.choice(len(names), size=B, p=p)
        return np.minimum(lo[k] + (rng.random(B) * size[k]).astype(np.int64), top)
    return starts, dict(zip(names, p.round(4).tolist()))


def parse_mix(text):
    """`brown=2,wordnet_glosses=0.5` -> {"brown": 2.0, "wordnet_glosses": 0.5}."""
    out = {}
    for part in filter(None, (text or "").split(",")):
        name, _, w = part.partition("=")
        try:
            out[name.strip()] = float(w)
        except ValueError:
            raise SystemExit(f"--mix: {part!r} is not NAME=WEIGHT")
        if out[name.strip()] < 0:
            raise SystemExit(f"--mix: {part!r} has a negative weight")
    return out


def sentence_starts(tokenizer_json):
    """For `gpt_stream`: the ids of sentence-final tokens (".", "?", "!", '."', ...) and, for every token that is a
    space and a capitalised word ("ĠThe"), the ids of that word tokenised without its space (["The"]). The word is
    one pre-token, so byte-level BPE is only its merge loop, written here because Debian ships no Python tokenizers
    package (the corpus itself is tokenised by @huggingface/tokenizers, tokenize_corpus.mjs)."""
    model = json.load(open(tokenizer_json))["model"]
    vocab = model["vocab"]
    ranks = {tuple(m.split(" ") if isinstance(m, str) else m): r for r, m in enumerate(model["merges"])}

    def bpe(word):
        parts = list(word)
        while len(parts) > 1:
            best = min(range(len(parts) - 1), key=lambda k: ranks.get((parts[k], parts[k + 1]), len(ranks)))
            if (parts[best], parts[best + 1]) not in ranks:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        return [vocab[p] for p in parts]

    stops = np.array(sorted(i for t, i in vocab.items() if t and set(t) <= set(".!?\"')") and set(t) & set(".!?")))
    bare = {}
    for t, i in vocab.items():
        if len(t) > 1 and t[0] == "Ġ" and "A" <= t[1] <= "Z":
            try:
                bare[i] = bpe(t[1:])
            except KeyError:  # a piece outside the vocabulary: leave this word's sentences alone
                pass
    return stops, bare


class BertData:
    SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

    def __init__(self, work, split, vocab, seq=128, rng=None, uniform_share=UNIFORM_SHARE, mask_repeats=0.0,
                 inner_starts=0.0, spans=0.0):
        self.ids, ends = load_ids(work, "bert", split)
        self.uniform_share, self.mask_repeats, self.inner_starts = uniform_share, mask_repeats, inner_starts
        self.spans = spans
        self.starts = np.concatenate([[0], ends[:-1]])
        self.seq, self.vocab = seq, vocab
        self.PAD, self.UNK, self.CLS, self.SEP, self.MASK = range(5)
        self.rng = rng or np.random.default_rng(0)
        pieces = json.load(open(os.path.join(work, "tok", "bert", "tokenizer.json")))["model"]["vocab"]
        self.cont = np.zeros(vocab, bool)  # "##" continuation pieces belong to the word before them
        for t, i in pieces.items():
            if t.startswith("##") and i < vocab:
                self.cont[i] = True
        self.stops = np.array([pieces[t] for t in (".", "?", "!") if pieces.get(t, vocab) < vocab], np.int64)
        self.ends = ends
        # Sentence starts inside paragraphs (after . ? !, not a ## piece), each with its paragraph's index. A sequence
        # from a paragraph start holds 61 tokens in the short phase (seq 64) and 125 in the long one: 31% of the
        # corpus lies past the first 61 tokens of its paragraph and 6.5% past 125 (measured 2026-12-03), so without
        # `inner_starts` that text is seen in the long phase only, or never.
        after = np.zeros(len(self.ids), bool)
        after[1:] = np.isin(self.ids[:-1], self.stops)
        inner = np.where(after & ~self.cont[self.ids])[0]
        para = np.searchsorted(ends, inner, side="right")
        keep = para < len(ends)
        inner, para = inner[keep], para[keep]
        keep = (inner > self.starts[para]) & (inner < ends[para])
        self.inner, self.inner_para = inner[keep], para[keep]
        counts = np.bincount(self.ids, minlength=vocab)
        rank = np.empty(vocab, np.int64)
        rank[np.argsort(-counts, kind="stable")] = np.arange(vocab)
        self.rate = np.where(rank < MASK_FUNCTION_RANK, MASK_RATE["function"], MASK_RATE["content"])
        self._waiting = []  # packed(): drawn sequences that did not fit their row, kept for the next
        self.content = rank >= MASK_FUNCTION_RANK

    def start(self):
        """Where a sequence starts, and its paragraph's index: a random paragraph's start or, for `inner_starts` of
        the sequences, a random sentence start inside a paragraph (then one more random number is drawn, so a run
        without it draws what it always drew: `integers` over the starts is what `rng.choice(starts)` draws)."""
        r = self.rng
        if self.inner_starts and len(self.inner) and r.random() < self.inner_starts:
            j = int(r.integers(0, len(self.inner)))
            return int(self.inner[j]), int(self.inner_para[j])
        k = int(r.integers(0, len(self.starts)))
        return int(self.starts[k]), k

    def pair(self):
        """[CLS] A [SEP] B [SEP]: B continues A (IsNext) or starts at a random paragraph (NotNext)."""
        r = self.rng
        budget = self.seq - 3
        la = int(r.integers(8, budget - 8))
        s = self.start()[0]
        a = self.ids[s:s + la]
        if r.random() < 0.5:
            b, nxt = self.ids[s + la:s + budget], 0
        else:
            s2 = self.start()[0]
            b, nxt = self.ids[s2:s2 + budget - len(a)], 1
        b = b[:budget - len(a)]
        toks = np.concatenate([[self.CLS], a, [self.SEP], b, [self.SEP]])
        types = np.concatenate([np.zeros(len(a) + 2, np.int64), np.ones(len(b) + 1, np.int64)])
        return toks, types, nxt

    def single(self):
        """[CLS] text [SEP]: from a paragraph start (or a sentence start inside it, see `start`) to the last sentence
        end that fits (the paragraph's end, or the whole budget when no sentence ends inside it); NSP label -100,
        which the loss ignores."""
        budget = self.seq - 2
        s, k = self.start()
        e = int(min(self.ends[k], s + budget))
        text = self.ids[s:e]
        if e < self.ends[k]:  # the paragraph goes on: stop after its last full sentence here, if there is one
            stop = np.where(np.isin(text, self.stops))[0]
            if len(stop):
                text = text[:stop[-1] + 1]
        toks = np.concatenate([[self.CLS], text, [self.SEP]])
        return toks, np.zeros(len(toks), np.int64), -100

    def mask(self, toks):
        """Whole-word masking by frequency: each word (first piece + its ## pieces) is chosen with the rate of its
        first piece's frequency class (or, for uniform_share of the sequences, at UNIFORM_RATE whatever the word);
        chosen positions are 80% [MASK], 10% a random token, 10% unchanged. With `mask_repeats` (a share of the
        sequences), a chosen content word's other occurrences in the sequence (same first piece) are chosen too, so
        the answer cannot be copied from elsewhere in the text. With `spans`, that share of the uniformly masked
        sequences has its words chosen in runs of whole words instead (`span_words`)."""
        r = self.rng
        uniform = r.random() < self.uniform_share
        rate = np.full(len(toks), UNIFORM_RATE) if uniform else self.rate[toks]
        labels = np.full_like(toks, -100)
        special = toks < 5
        word = np.cumsum(~self.cont[toks] | special)  # word index of every position
        first = np.r_[True, word[1:] != word[:-1]]
        if uniform and self.spans and r.random() < self.spans:
            chosen_words = self.span_words(word[first & ~special])
        else:
            chosen_words = word[first & ~special & (r.random(len(toks)) < rate)]
        if self.mask_repeats and r.random() < self.mask_repeats:
            starts = np.where(first & ~special)[0]
            picked = toks[starts[np.isin(word[starts], chosen_words)]]
            picked = picked[self.content[picked]]
            chosen_words = np.union1d(chosen_words, word[starts[np.isin(toks[starts], picked)]])
        pos = np.where(np.isin(word, chosen_words) & ~special)[0]
        if len(pos) == 0:
            cand = np.where(~special)[0]
            pos = cand[r.integers(0, len(cand), 1)] if len(cand) else cand
        labels[pos] = toks[pos]
        out = toks.copy()
        u = r.random(len(pos))
        out[pos[u < 0.8]] = self.MASK
        rnd = pos[(u >= 0.8) & (u < 0.9)]
        out[rnd] = r.integers(5, self.vocab, size=len(rnd))
        return out, labels

    def span_words(self, words):
        """Span masking (SpanBERT; LTG-BERT's recipe for small data): runs of whole words, each run's length drawn from
        a geometric distribution (p 0.2, at most 10 words: 3.8 on average), until UNIFORM_RATE of the words (rounded
        at random, so that the expected share is exact) are chosen; runs may touch or overlap. A masked word's
        neighbours are then often masked too, so it has to be predicted from the wider context, not the next word."""
        r, n = self.rng, len(words)
        budget = min(n, int(UNIFORM_RATE * n + r.random()))
        chosen = np.zeros(n, bool)
        for _ in range(100):  # a bound: each draw adds at least a word until the budget is met, short of overlaps
            left = budget - int(chosen.sum())
            if left <= 0:
                break
            length = min(int(r.geometric(0.2)), 10, left)
            at = int(r.integers(0, n - length + 1))
            chosen[at:at + length] = True
        return words[chosen]

    def draw(self):
        """One sequence as a batch row holds it: (masked tokens, types, next-sentence label, labels)."""
        toks, ty, nx = self.single() if self.rng.random() < SINGLE_SHARE else self.pair()
        m, lab = self.mask(toks)
        return m, ty, nx, lab

    def batch(self, B):
        T = self.seq
        ids = np.zeros((B, T), np.int64)
        types = np.zeros((B, T), np.int64)
        am = np.zeros((B, T), np.int64)
        labels = np.full((B, T), -100, np.int64)
        nsp = np.zeros(B, np.int64)
        for i in range(B):
            m, ty, nx, lab = self.draw()
            n = len(m)
            ids[i, :n], types[i, :n], am[i, :n], labels[i, :n], nsp[i] = m, ty, 1, lab, nx
        return [torch.from_numpy(x) for x in (ids, am, types, labels, nsp)]

    def packed(self, rows, T=128):
        """A batch of `rows` rows of T positions, each filled with whole sequences as `batch` draws them (first fit:
        a sequence that does not fit waits, up to 8 of them, for the next row's space; a row closes when the next
        sequence would not fit and none waiting does, or fewer than 8 positions are left). Returns ids, attention
        mask, types, labels, position ids (restarting with each sequence), segment ids (1, 2, ... in a row, 0 for
        padding) and the [CLS] row / column / next-sentence label of each sequence. Rows of `batch` are 72-81% real
        tokens (measured 2026-12-05); packed rows 95-96%: the same sequences and masks without most of the padding."""
        ids, types, labels = (np.zeros((rows, T), np.int64) for _ in range(3))
        labels[:] = -100
        pos, seg = np.zeros((rows, T), np.int64), np.zeros((rows, T), np.int64)
        cls_r, cls_c, nsp = [], [], []
        waiting = self._waiting
        for i in range(rows):
            at, k = 0, 0
            while T - at >= 8:
                fit = next((j for j, w in enumerate(waiting) if len(w[0]) <= T - at), None)
                if fit is not None:
                    toks, ty, nx, lab = waiting.pop(fit)
                elif len(waiting) < 8:
                    toks, ty, nx, lab = self.draw()
                    if len(toks) > T - at:
                        waiting.append((toks, ty, nx, lab))
                        continue
                else:
                    break
                n, k = len(toks), k + 1
                ids[i, at:at + n], types[i, at:at + n], labels[i, at:at + n] = toks, ty, lab
                pos[i, at:at + n], seg[i, at:at + n] = np.arange(n), k
                cls_r.append(i), cls_c.append(at), nsp.append(nx)
                at += n
        am = (seg > 0).astype(np.int64)
        out = (ids, am, types, labels, pos, seg, np.array(cls_r), np.array(cls_c), np.array(nsp, np.int64))
        return [torch.from_numpy(x) for x in out]


def windows(stream, B, T, rng, sampler=None):
    starts = sampler(B, rng) if sampler else rng.integers(0, len(stream) - T - 1, size=B)
    return torch.from_numpy(np.stack([stream[s:s + T + 1] for s in starts]))


class WordData:
    """Word streams for ELMo and the NNLM: <S> words </S> per paragraph; chars from the original word."""

    def __init__(self, work, split, vocab, max_chars=50):
        words = open(os.path.join(work, "data", f"words.{split}.txt")).read().split("\n")
        stream = []
        for line in words:
            if line:
                stream += ["<S>"] + line.split() + ["</S>"]
        uniq = {w: i for i, w in enumerate(dict.fromkeys(stream))}
        self.word_idx = np.array([uniq[w] for w in stream], np.int64)
        self.uniq = list(uniq)
        self.vocab = vocab
        self.target = np.array([vocab.get(w if w in ("<S>", "</S>") else w.lower(), 1) for w in self.uniq], np.int64)[self.word_idx]
        self.chars = torch.from_numpy(np.stack([char_ids(w, max_chars) for w in self.uniq]))

    def __len__(self):
        return len(self.word_idx)


def char_ids(word, max_chars=50):
    """AllenNLP's ELMoCharacterMapper: bytes wrapped in begin/end-of-word, padded; +1 so 0 masks padding."""
    if word == "<S>":
        body = [256]
    elif word == "</S>":
        body = [257]
    else:
        body = list(word.encode("utf-8")[: max_chars - 2])
    ids = [258] + body + [259]
    ids += [260] * (max_chars - len(ids))
    return np.array(ids, np.int64) + 1


# ------------------------------------------------------------------------------------------------ models
def build(name, vocab_size, smoke, layers=None, width=None, heads=None):
    """The model at the recipe's size, or at `layers` / `width` (hidden size) / `heads`; a width without heads keeps
    the recipe's head width, so a wider model has more heads (its feed-forward stays 4x)."""
    size = dict(SIZES[name][1 if smoke else 0], **({"layers": layers} if layers else {}))
    if width and width != size.get("h"):
        size["heads"] = width // (size["h"] // size["heads"])
        size["h"] = width
    if heads:
        size["heads"] = heads
    if name == "bert":
        return models.Bert(vocab_size, **size)
    if name in ("gpt2", "gpt1"):
        return models.Gpt(vocab_size, **size)
    if name == "elmo":
        return models.Elmo(vocab_size, cutoffs=(min(2000, vocab_size // 4), min(6000, vocab_size // 2)), **size)
    return models.Nnlm(vocab_size, **size)


def glove_init(model, vocab, work):
    """Initialise the NNLM's Q from the GloVe subset where the word has a vector."""
    path = os.path.join(work, "glove_subset.npz")
    if not os.path.exists(path):
        return 0
    z = np.load(path, allow_pickle=True)
    gv = {w: i for i, w in enumerate(z["words"])}
    n = 0
    with torch.no_grad():
        for w, i in vocab.items():
            if w in gv:
                model.Q.weight[i] = torch.from_numpy(z["vectors"][gv[w]].astype(np.float32))
                n += 1
    return n


def glove_init_subwords(model, work, seed=0):
    """Whole-word WordPiece tokens start from their GloVe vector through a fixed random projection 100 -> hidden
    (the masked LM otherwise spends its first millions of tokens at the unigram plateau)."""
    vocab = json.load(open(os.path.join(work, "tok", "bert", "tokenizer.json")))["model"]["vocab"]
    path = os.path.join(work, "glove_bert.npz")
    if not os.path.exists(path):  # GloVe rows of the whole-word pieces (one 300 MB JSON parse, then cached)
        import static
        if not os.path.exists(static.GLOVE_JSON):
            return 0
        g = json.load(open(static.GLOVE_JSON))["vectors"]
        words = [w for w in vocab if w in g]
        np.savez(path, words=np.array(words, dtype=object), vectors=np.array([g[w][:100] for w in words], np.float32))
        del g
    z = np.load(path, allow_pickle=True)
    gv = {w: i for i, w in enumerate(z["words"])}
    h = model.tok.weight.shape[1]
    rng = np.random.default_rng(seed)
    R = rng.normal(size=(z["vectors"].shape[1], h)) / np.sqrt(z["vectors"].shape[1])
    rows = z["vectors"] @ R
    rows *= 0.05 / rows.std()
    n = 0
    with torch.no_grad():
        for w, i in vocab.items():
            if w in gv:
                model.tok.weight[i] = torch.from_numpy(rows[gv[w]].astype(np.float32))
                n += 1
    return n


def init_from_onnx(model, path):
    """Warm start: copy the weights of a shipped ONNX export back into the torch model. torch.onnx.export (without
    constant folding) names each initializer after its state-dict key; a tensor whose name or shape differs is left
    as initialised and counted."""
    import onnx
    from onnx import numpy_helper
    g = onnx.load(path).graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:  # weights stored as float16 are read through a Cast named as the float32 tensor was
        if n.op_type == "Cast" and len(n.input) == 1 and n.input[0] in inits:
            inits[n.output[0]] = inits[n.input[0]].astype(np.float32)
    inits.update(unnamed_onnx_weights(g, inits))
    sd = {k: v for k, v in model.state_dict().items() if not k.startswith(TRAINING_ONLY)}
    loaded = 0
    with torch.no_grad():
        for k, v in sd.items():
            a = inits.get(k)
            if a is not None and tuple(a.shape) == tuple(v.shape):
                v.copy_(torch.from_numpy(a.astype(np.float32)))
                loaded += 1
    return loaded, len(sd)


LAYER_KEYS = {"gpt2": ("blocks", "n_layer"), "gpt1": ("blocks", "n_layer"), "bert": ("layers", "num_hidden_layers")}


def export_config(onnx_path):
    """The config.json beside an export's onnx/ folder."""
    with open(os.path.join(os.path.dirname(os.path.dirname(onnx_path)), "config.json")) as f:
        return json.load(f)


def shipped_layers(name, onnx_path):
    """The depth of the shipped model an ONNX warm start reads (its config.json), None for models without layers."""
    if name not in LAYER_KEYS:
        return None
    cfg = export_config(onnx_path)
    return int(cfg[LAYER_KEYS[name][1]])


WIDTH_KEYS = {"gpt2": "n_embd", "gpt1": "n_embd", "bert": "hidden_size"}


def shipped_width(name, onnx_path):
    """The hidden size of the shipped model an ONNX warm start reads (its config.json), None for other models."""
    if name not in WIDTH_KEYS:
        return None
    cfg = export_config(onnx_path)
    return int(cfg[WIDTH_KEYS[name]])


def shipped_model(name, onnx_path, smoke=False):
    """The model an export holds, at its own size (depth, width and head count from its config.json), every weight
    read back; exits if any tensor does not fit."""
    cfg = export_config(onnx_path)
    heads = cfg.get("n_head") or cfg.get("num_attention_heads")
    m = build(name, cfg["vocab_size"], smoke, shipped_layers(name, onnx_path), shipped_width(name, onnx_path), heads)
    loaded, total = init_from_onnx(m, onnx_path)
    if loaded < total:
        raise SystemExit(f"{name}: only {loaded} of {total} tensors of {onnx_path} fit its own size")
    return m


def widen(small, wide, seed=0):
    """Net2WiderNet (Chen, Goodfellow & Shlens 2016) at a factor of two, for a pre-LayerNorm GPT: `wide` (twice the
    hidden size, twice the heads of the same width, twice the feed-forward) computes exactly what `small` does.
    The residual stream becomes [x, x]: every tensor that writes it (embeddings, output projections, their biases)
    and every unit (head, feed-forward unit) is duplicated, so LayerNorm sees the same mean and variance (its gain and
    bias duplicated too). Every weight that reads a duplicated input is split between the two copies, W = R*W +
    (1-R)*W with R drawn per weight in [0.25, 0.75]: any split computes the same, and a random one makes the copies'
    gradients differ, which duplicated weights would not (they would stay copies for ever). The tied output head reads
    [h, h] against [E, E], i.e. twice the logits: the final LayerNorm's gain and bias are halved."""
    if not getattr(small, "cfg", {}).get("pre_layer_norm") or not isinstance(small, models.Gpt):
        raise SystemExit("widen: only pre-LayerNorm GPT models widen")
    g = torch.Generator().manual_seed(seed)
    src, dst = small.state_dict(), wide.state_dict()

    def split(w):  # [o, i] reading a duplicated input -> [o, 2i]
        r = 0.25 + 0.5 * torch.rand(w.shape, generator=g)
        return torch.cat([r * w, (1 - r) * w], dim=1)

    def rows(w, qkv):  # duplicated outputs (q, k and v each duplicated, so that heads stay contiguous)
        parts = w.chunk(3, dim=0) if qkv else (w,)
        return torch.cat([t for p in parts for t in (p, p)], dim=0)

    out = {}
    for k, v in src.items():
        if k == "tok.weight" or k == "pos.weight":
            out[k] = torch.cat([v, v], dim=1)
        elif k.startswith("lnf."):
            out[k] = torch.cat([v, v]) / 2
        elif v.dim() == 2:  # a Linear's weight [out, in]
            out[k] = split(rows(v, k.endswith("qkv.weight")))
        else:  # biases, LayerNorm gains and biases
            out[k] = rows(v, k.endswith("qkv.bias"))
    bad = [k for k in dst if k not in out or out[k].shape != dst[k].shape]
    if bad:
        raise SystemExit(f"widen: {len(bad)} tensors do not fit twice the width, e.g. {bad[0]} "
                         f"{tuple(out.get(bad[0], torch.empty(0)).shape)} vs {tuple(dst[bad[0]].shape)}")
    wide.load_state_dict(out)


def same_logits(name, a_model, b_model, vocab):
    """The largest difference between two models' logits on random ids (evaluation mode, fp32)."""
    a_model.eval(), b_model.eval()
    with torch.no_grad():
        ids = torch.randint(5, min(vocab, 100), (2, 16))
        ones = torch.ones_like(ids)
        if name == "bert":
            a, b = a_model(ids, ones, torch.zeros_like(ids))[0], b_model(ids, ones, torch.zeros_like(ids))[0]
        else:
            pos = torch.arange(16)[None].expand(2, 16)
            a, b = a_model(ids, ones, pos)[0], b_model(ids, ones, pos)[0]
    a_model.train(), b_model.train()
    return float((a - b).abs().max())


def grow_check(name, grown, onnx_path, old_layers, loaded, total, smoke):
    """A deeper model warm-started from a shallower export: the tensors it lacks must be exactly those of the added
    blocks, whose output projections (attention and feed-forward) are then zeroed so that each added pre-LayerNorm
    block is the identity (x + 0 + 0), and the grown model must compute what the shipped one does."""
    prefix = LAYER_KEYS[name][0]
    if getattr(grown, "cfg", {}).get("pre_layer_norm", True) is False:
        raise SystemExit(f"{name}: only pre-LayerNorm models grow (a post-LN block is not the identity)")
    blocks = getattr(grown, prefix)
    with torch.no_grad():
        for b in list(blocks)[old_layers:]:
            for lin in (b.att.o, b.ff[2]):
                lin.weight.zero_()
                lin.bias.zero_()
    per_block = sum(1 for k in grown.state_dict() if k.startswith(f"{prefix}.0."))
    if total - loaded != per_block * (len(blocks) - old_layers):
        raise SystemExit(f"{name}: {total - loaded} tensors of the {len(blocks)}-layer model are not in {onnx_path}; "
                         f"only the {len(blocks) - old_layers} added blocks may be new")
    diff = same_logits(name, shipped_model(name, onnx_path, smoke), grown, grown.tok.weight.shape[0])
    if diff > 1e-4:
        raise SystemExit(f"{name}: the grown model's logits differ from the shipped one's by {diff:.2e}")
    return diff


# heads used in training only, absent from the export (BERT's pooler and next-sentence classifier; ELMo's
# adaptive softmax): `save_heads` keeps them beside the export, `init_heads` reads them back
TRAINING_ONLY = ("pool.", "nsp.", "softmax.")
# which export a heads file belongs to: the engine's fingerprint of that ONNX file (common.model_fingerprint, the
# key the ELMo taggers and the sense store use too); files written before 2026-12-04 carry a CRC-32 of the whole file
HEADS_FINGERPRINT = "__onnx_fingerprint"
HEADS_CRC = "__onnx_crc32"


def heads_path(onnx_path):
    """Where the training-only heads of an export live. A shipped model's folder ships whole (the .vsix takes
    media/** in), so its heads go to training/heads/<id>.npz; any other export (the smoke's, a candidate's) keeps
    them beside it."""
    model_dir = os.path.dirname(os.path.dirname(os.path.abspath(onnx_path)))
    if os.path.dirname(model_dir) == os.path.join(REPO, "media", "models"):
        return os.path.join(TRAINING_DIR, "heads", os.path.basename(model_dir) + ".npz")
    return os.path.join(model_dir, "training-heads.npz")


def file_crc(path):
    with open(path, "rb") as f:
        return zlib.crc32(f.read())


def heads_match(z, onnx_path):
    """True when the heads file `z` (an open npz) was saved with this very ONNX file."""
    if HEADS_FINGERPRINT in z.files:
        return str(z[HEADS_FINGERPRINT]) == model_fingerprint(onnx_path)
    return HEADS_CRC in z.files and int(z[HEADS_CRC]) == file_crc(onnx_path)


def save_heads(model, onnx_path):
    """Writes the tensors the export at `onnx_path` leaves out (TRAINING_ONLY) as float16, with the fingerprint of
    that ONNX file, so that the next warm start from it goes on with them. Until 2026-12-03 every session started ELMo's
    adaptive softmax afresh: its first minutes' loss was 6.3 against the 4.3 the run before had ended at. Returns
    the path, or None for a model without such tensors."""
    heads = {k: v.detach().float().cpu().numpy().astype(np.float16) for k, v in model.state_dict().items()
             if k.startswith(TRAINING_ONLY)}
    if not heads:
        return None
    path = heads_path(onnx_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez_compressed(path, **{HEADS_FINGERPRINT: np.array(model_fingerprint(onnx_path))}, **heads)
    return path


def init_heads(model, onnx_path):
    """Copies back the training-only tensors `save_heads` kept for this very ONNX file (`heads_match`; a file of
    another export is left alone). Returns (loaded, total, why none were loaded or None)."""
    want = {k: v for k, v in model.state_dict().items() if k.startswith(TRAINING_ONLY)}
    path = heads_path(onnx_path)
    if not want:
        return 0, 0, None
    if not os.path.exists(path):
        return 0, len(want), f"no {os.path.relpath(path)}"
    with np.load(path) as z:
        if not heads_match(z, onnx_path):
            return 0, len(want), f"{os.path.relpath(path)} was saved with another export"
        loaded = 0
        with torch.no_grad():
            for k, v in want.items():
                if k in z.files and tuple(z[k].shape) == tuple(v.shape):
                    v.copy_(torch.from_numpy(z[k].astype(np.float32)))
                    loaded += 1
    return loaded, len(want), None if loaded else f"no tensor of {os.path.relpath(path)} fits this model"


def unnamed_onnx_weights(graph, inits):
    """State-dict tensors that the exporter stored under generated names, found through the node that uses them:
    a Linear exported as `/<module>/MatMul` holds its weight transposed under a generated name; an nn.LSTM becomes
    `/<module>/LSTM` with W, R, B in ONNX's gate order (i, o, f, c) where torch has (i, f, g, o)."""
    out = {}
    for n in graph.node:
        mod = n.name.strip("/").rsplit("/", 1)[0].replace("/", ".") if n.name.startswith("/") else None
        if not mod:
            continue
        if n.op_type == "MatMul" and n.name.endswith("/MatMul") and len(n.input) == 2 and n.input[1] in inits:
            out.setdefault(f"{mod}.weight", inits[n.input[1]].T)
        elif n.op_type == "LSTM" and all(i in inits for i in n.input[1:4]):
            W, R, B = (inits[i][0] for i in n.input[1:4])  # one direction

            def reorder(x):
                i, o, f, c = np.split(x, 4, axis=0)
                return np.concatenate([i, f, c, o], axis=0)
            h4 = W.shape[0]
            out[f"{mod}.weight_ih_l0"] = reorder(W)
            out[f"{mod}.weight_hh_l0"] = reorder(R)
            out[f"{mod}.bias_ih_l0"] = reorder(B[:h4])
            out[f"{mod}.bias_hh_l0"] = reorder(B[h4:])
    return out


def weights_digest(model):
    """A 32-bit digest of a model's weights (CRC-32 of their bytes in parameter order): what a run started from."""
    crc = 0
    for p in model.state_dict().values():
        crc = zlib.crc32(p.detach().float().cpu().contiguous().numpy().tobytes(), crc)
    return crc


def torch_seed(history, per_session):
    """The torch seed of a run's place in its history (session, step[, start digest[, sibling]]); () is a fresh
    run's."""
    sessions, step, start, sibling = (tuple(history) + (0, 0, 0, 0))[:4]
    return per_session * sessions + step + 104_729 * start + 15_485_863 * sibling


def sibling_index(work, name, start, prior, own):
    """Which sibling run this is: 0 for the first run from a start (these weights, this history), else one more than
    the highest index among the runs from the same start whose checkpoints are under work/ckpt (the resume slots and
    the kept ones, copies of one run counted once; not `own`, the slot this run writes). Two sessions that trained
    from the same shipped model without shipping in between drew the very same batches, masks and dropout until
    2026-12-02; a soup of such runs is only worth as much as they differ."""
    seen = []
    for path in sorted(glob.glob(os.path.join(work, "ckpt", "*.pt")) + glob.glob(os.path.join(work, "ckpt", "*",
                                                                                              f"{name}.pt"))):
        if os.path.abspath(path) == os.path.abspath(own):
            continue
        try:
            st = torch.load(path, map_location="cpu").get("state", {})
        except Exception:  # a half-written or foreign file is not a sibling
            continue
        if st.get("start") == start and st.get("prior") == prior and not st.get("averaged"):
            seen.append(int(st.get("sibling", 0)))
    return max(seen) + 1 if seen else 0


def history_after(state):
    """The training history a run leaves behind: the one it started from plus its own tokens, minutes and session
    (what an export records as cumulative, and what a run continued from its checkpoint starts from)."""
    before = state.get("prior") or {"tokens": 0, "minutes": 0.0, "sessions": 0}
    return {"tokens": int(before["tokens"]) + int(state.get("tokens", 0)),
            "minutes": round(float(before["minutes"]) + float(state.get("elapsed", 0)) / 60, 1),
            "sessions": int(before.get("sessions", 0)) + int(state.get("runs", 1))}  # a soup of sibling runs: each


def prior_training(model_dir):
    """Tokens and wall minutes of the shipped model's earlier sessions (from its config.json)."""
    try:
        t = json.load(open(os.path.join(model_dir, "config.json"))).get("lm_lens_training", {})
    except (OSError, ValueError):
        return {"tokens": 0, "minutes": 0.0, "sessions": 0}
    return {"tokens": int(t.get("cumulative_tokens", t.get("tokens_seen", 0)) or 0),
            "minutes": float(t.get("cumulative_wall_minutes", t.get("wall_minutes", 0)) or 0),
            "sessions": int(t.get("sessions", 1))}


class Task:
    def __init__(self, name, work, smoke, device, main=True, layers=None, width=None, uniform_share=UNIFORM_SHARE,
                 mask_repeats=0.0, sentence_eos=0.0, mix=None, inner_starts=0.0, pack=False, spans=0.0):
        self.name, self.work, self.device = name, work, device
        self.pack = pack
        self.sampler, self.mix_shares = None, None
        self.rng = np.random.default_rng(1234)
        tok_dir = os.path.join(work, "tok")
        if name == "bert":
            self.vocab_size = len(json.load(open(os.path.join(tok_dir, "bert", "tokenizer.json")))["model"]["vocab"])
            self.data = BertData(work, "train", self.vocab_size, seq=BATCH["bert"][1], rng=self.rng,
                                 uniform_share=uniform_share, mask_repeats=mask_repeats, inner_starts=inner_starts,
                                 spans=spans)
            self.long = BertData(work, "train", self.vocab_size, seq=128, rng=self.rng, uniform_share=uniform_share,
                                 mask_repeats=mask_repeats, inner_starts=inner_starts, spans=spans)
        elif name in ("gpt2", "gpt1"):
            tj = json.load(open(os.path.join(tok_dir, "gpt2", "tokenizer.json")))
            self.vocab_size = len(tj["model"]["vocab"])
            self.eos = tj["model"]["vocab"]["<|endoftext|>"]
            self.stream = gpt_stream(work, "train", self.eos, sentence_eos, self.rng)
        else:
            self.vocab = json.load(open(os.path.join(tok_dir, name, "tokenizer.json")))["model"]["vocab"]
            self.vocab_size = len(self.vocab)
            # ELMo trains on 20-character words (18 bytes + begin/end marks; 99.9% of running words fit): the CNN
            # max-pools over positions, so extra all-padding positions at inference (50 wide) change nothing
            self.data = WordData(work, "train", self.vocab, max_chars=20 if name == "elmo" else 50)
        self.model = build(name, self.vocab_size, smoke, layers, width).to(device)
        if mix and name in ("gpt2", "gpt1"):
            if sentence_eos:
                raise SystemExit("--mix and --sentence-eos together are not supported (the spans are of the plain "
                                 "stream)")
            self.sampler, self.mix_shares = mix_sampler(source_spans(work), mix, self.model.cfg["n_positions"])
        if name == "nnlm":
            n = glove_init(self.model, self.vocab, work)
            if main:
                log(f"nnlm: {n} of {self.vocab_size} Q rows from GloVe")
        if name == "bert" and not smoke and main:  # other ranks receive rank 0's weights when DDP starts
            log(f"bert: {glove_init_subwords(self.model, work)} of {self.vocab_size} token rows from GloVe")
        self.B, self.T = BATCH[name]
        if self.T is None:  # GPT: every position of the context is trained
            self.T = self.model.cfg["n_positions"]
        self.frac = 0.0  # fraction of the time budget spent, set by the training loop
        if smoke:
            self.B = min(self.B, 8)

    def use_rng(self, rng):
        """Draw batches (and BERT's masks) from this generator (ShardStreams switches it per shard)."""
        self.rng = rng
        if self.name == "bert":
            self.data.rng = self.long.rng = rng

    def step_loss(self):
        m, dev = self.model, self.device
        if self.name == "bert":
            # as in the paper: short sequences for most steps (more updates per token), full length at the end
            # so that every position embedding is trained
            long = self.frac > 0.8
            data, B = (self.long, max(1, self.B // 2)) if long else (self.data, self.B)
            if self.pack:  # the same positions per step as B rows of data.seq, packed into rows of 128
                ids, am, ty, labels, pos, seg, cr, cc, nsp = [x.to(dev) for x in data.packed(max(1, B * data.seq // 128))]
                cls = cr * ids.shape[1] + cc
            else:
                ids, am, ty, labels, nsp = [x.to(dev) for x in data.batch(B)]
                pos = seg = None
                cls = torch.arange(len(ids), device=dev) * ids.shape[1]
            # the last layer runs only where a loss reads it: the masked positions, their count rounded up to a multiple
            # of 64 (extra rows: label -100, ignored; oneDNN builds a kernel for each new matrix shape, and a count that
            # changed every step cost up to 120 ms a step on the 19k-token head, measured 2026-12-05), and each [CLS]
            at = (labels.view(-1) >= 0).nonzero().squeeze(1)
            extra = -len(at) % 64
            target = torch.cat([labels.view(-1)[at], labels.new_full((extra,), -100)])
            at = torch.cat([at, at.new_zeros(extra)])
            extra = -len(cls) % 16  # packed rows hold a varying number of sequences: their count rounded up too
            cls, nsp = torch.cat([cls, cls.new_zeros(extra)]), torch.cat([nsp, nsp.new_full((extra,), -100)])
            x = m.encode(ids, am, ty, pos, seg, keep=torch.cat([at, cls]))[0]
            mlm = F.cross_entropy(m.mlm_logits(x[:len(at)]).float(), target)
            # one-segment rows have no next-sentence label (-100, ignored); summed and divided by hand so that a
            # batch of only such rows adds 0 and the NSP head stays in the graph (DDP wants every parameter used)
            pairs = max(1, int((nsp >= 0).sum()))
            nsp_loss = F.cross_entropy(m.nsp_head(x[len(at):]).float(), nsp, ignore_index=-100, reduction="sum") / pairs
            return mlm + NSP_WEIGHT * nsp_loss, int(am.sum())
        if self.name in ("gpt2", "gpt1"):
            w = windows(self.stream, self.B, self.T, self.rng, self.sampler).to(dev)
            h = m.lm_hidden(w[:, :-1])
            return F.cross_entropy((h @ m.tok.weight.t()).float().reshape(-1, self.vocab_size), w[:, 1:].reshape(-1)), w.numel()
        if self.name == "elmo":
            return elmo_loss(m, self.data, self.rng.integers(0, len(self.data) - self.T, size=self.B), self.T, dev)
        d = self.data
        pos = torch.from_numpy(self.rng.integers(4, len(d), size=self.B))
        tgt = torch.from_numpy(d.target)
        ctx = torch.stack([tgt[pos - k] for k in (4, 3, 2, 1)], 1).to(dev)
        return F.cross_entropy(m(ctx), tgt[pos].to(dev)), self.B


def elmo_loss(m, d, starts, T, dev, reduction="mean"):
    idx = torch.from_numpy(np.stack([d.word_idx[s:s + T] for s in starts]))
    tgt = torch.from_numpy(np.stack([d.target[s:s + T] for s in starts])).to(dev)
    chars = d.chars[idx].to(dev)
    am = torch.ones(idx.shape, dtype=torch.long, device=dev)
    _, f, b = m.layers(chars, am)
    fw = m.softmax(f[1][:, :-1].reshape(-1, f[1].shape[-1]), tgt[:, 1:].reshape(-1))  # predict the next word
    bw = m.softmax(b[1][:, 1:].reshape(-1, b[1].shape[-1]), tgt[:, :-1].reshape(-1))  # predict the previous word
    if reduction == "sum":
        return -fw.output.sum(), -bw.output.sum(), fw.output.numel()
    return (fw.loss + bw.loss) / 2, idx.numel()


# ------------------------------------------------------------------------------------------------ loop
class ShardStreams:
    """Every shard of the global batch draws from its own random stream: a numpy generator (sampling, masking)
    and a torch generator state (dropout). Shard 0 is the stream a one-process run has always used (the task's
    rng seeded 1234 and the global torch generator after torch.manual_seed(0) and the model's initialisation), so
    a plain run is unchanged; shard s > 0 is seeded from s (and from the run's history, see train). With one shard, `use`
    never switches anything."""

    def __init__(self, task, shards, device, history=()):
        self.task, self.cuda = task, str(device).startswith("cuda")
        self.np, self.torch, self.current = {}, {}, None
        for s in shards:
            self.np[s] = task.rng if s == 0 else np.random.default_rng((1234, s, *history))
            if s == 0:
                self.torch[s] = self._get()
            else:
                g = torch.Generator(device=device if self.cuda else "cpu")
                g.manual_seed(1_000_003 * s + torch_seed(history, 7_919))
                self.torch[s] = g.get_state()

    def _get(self):
        return torch.cuda.get_rng_state() if self.cuda else torch.get_rng_state()

    def _set(self, state):
        if self.cuda:
            torch.cuda.set_rng_state(state)
        else:
            torch.set_rng_state(state)

    def use(self, s):
        if self.current == s:
            return
        if self.current is not None:
            self.torch[self.current] = self._get()
        self._set(self.torch[s])
        self.task.use_rng(self.np[s])
        self.current = s


class Objective(torch.nn.Module):
    """The training loss as a module's forward(), so that DistributedDataParallel sees the forward pass (the loss
    calls the model's encode/lm_hidden/layers, not its forward). No input: each rank samples its own shard."""

    def __init__(self, task):
        super().__init__()
        self.model = task.model
        self.task = task

    def forward(self):
        return self.task.step_loss()


def set_dropout(m, p):
    """Every dropout layer of `m` (embeddings, residual branches) at probability `p` (None: the model's own, 0.1);
    the exported graph has none."""
    if p is not None:
        for mod in m.modules():
            if isinstance(mod, torch.nn.Dropout):
                mod.p = p


RECIPE = {"uniform_share": UNIFORM_SHARE, "mask_repeats": 0.0, "sentence_eos": 0.0, "mix": None, "inner_starts": 0.0,
          "pack": False, "spans": 0.0}


def data_recipe(given, resumed_state):
    """What a run draws: each option as named (`given`, None or absent: not named), else the resumed run's as its state
    records it (`record_recipe`), else the default. A resume without --mix once drew from the plain stream while its
    state still named the mix (2026-12-03); the data options now carry over as --dropout does."""
    was = dict(RECIPE)
    if resumed_state:
        masking = resumed_state.get("masking") or {}
        was.update(uniform_share=masking.get("uniform_share", UNIFORM_SHARE), mask_repeats=masking.get("repeats", 0.0),
                   inner_starts=masking.get("inner_starts", 0.0), pack=masking.get("pack", False),
                   spans=masking.get("spans", 0.0),
                   sentence_eos=resumed_state.get("sentence_eos", 0.0),
                   mix=(resumed_state.get("mix") or {}).get("weights"))
    return {k: was[k] if given.get(k) is None else given[k] for k in RECIPE}


def record_recipe(state, name, recipe, mix_shares):
    """Writes the data recipe into a run's state (the keys `data_recipe` reads back; the cards report them). An option
    at its default leaves no key, so a plain run's state has the keys it always had."""
    if name == "bert":
        masking = state.setdefault("masking", {})
        masking["uniform_share"] = recipe["uniform_share"]
        for key, option in (("repeats", "mask_repeats"), ("inner_starts", "inner_starts"), ("pack", "pack"),
                            ("spans", "spans")):
            if recipe[option]:
                masking[key] = recipe[option]
            else:
                masking.pop(key, None)
    state.pop("sentence_eos", None)
    state.pop("mix", None)
    if name in ("gpt2", "gpt1") and recipe["sentence_eos"]:
        state["sentence_eos"] = recipe["sentence_eos"]
    if mix_shares:  # the weights asked for and each source's resulting share of the windows
        state["mix"] = {"weights": recipe["mix"], "shares": mix_shares}


def matmul_gflops(device, bf16, n=512, seconds=0.2):
    """GFLOPS of n x n fp32 matmuls on one device, under bf16 autocast or not (one warm-up product first)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    with torch.autocast(device_type="cuda" if str(device).startswith("cuda") else "cpu", dtype=torch.bfloat16,
                        enabled=bf16):
        a @ b
        sync()
        t, done = time.perf_counter(), 0
        while done == 0 or time.perf_counter() - t < seconds:
            a @ b
            done += 1
        sync()
    return 2 * n ** 3 * done / (time.perf_counter() - t) / 1e9


def pick_precision(precision, device, ranks=None):
    """bf16 autocast or fp32 for this run: `precision` "bf16" / "fp32" as asked, "auto" by measuring both.
    bf16 pays only where the hardware multiplies bf16: oneDNN with AVX512-BF16 or AMX ran a 512 x 512 matmul at ~480
    GFLOPS a core against OpenBLAS's 123 in fp32, but a CPU with AVX2 alone (an AMD EPYC here, 2026-12-04) emulates it,
    and a run that assumed bf16 there trained at 78 tokens/s instead of ~1,200. So "auto" times both (~0.5 s) and takes
    bf16 only when it is clearly (1.5x) faster; DDP ranks take it only if every rank found so.
    Each precision is timed five times, the two alternating, and keeps its best: a neighbour's load only ever slows a
    probe, and one 0.2 s probe each once chose fp32 (bf16 timed 58 GFLOPS) while the other core trained (2026-12-05).
    Returns (bf16, {"bf16_gflops", "fp32_gflops"} or None when not measured)."""
    if precision != "auto":
        return precision == "bf16", None
    rates = {"bf16_gflops": 0.0, "fp32_gflops": 0.0}
    for _ in range(5):
        for key, bf16 in (("bf16_gflops", True), ("fp32_gflops", False)):
            rates[key] = max(rates[key], matmul_gflops(device, bf16, seconds=0.1))
    faster = rates["bf16_gflops"] > 1.5 * rates["fp32_gflops"]
    if ranks is not None and ranks.on:
        faster = ranks.total(float(faster))[0] == ranks.world
    return faster, {k: round(v, 1) for k, v in rates.items()}


def optimizer_step(m, opt, amp, shards, accum=1):
    """One optimizer step, the core of the training loop (training/profile_step.py times it too): the gradients of each
    shard's loss (`shards` yields (context, loss function returning (loss, tokens)); the loss run under `amp`, its
    backward inside the context, divided by `accum`), clipped to norm 1, applied. Returns (tokens, summed loss)."""
    opt.zero_grad(set_to_none=True)
    ntok, lsum = 0, 0.0
    for context, loss_of in shards:
        with context:
            with amp:
                loss, n = loss_of()
            (loss / accum if accum > 1 else loss).backward()
        ntok += n
        lsum += float(loss)
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    opt.step()
    return ntok, lsum


def train(name, work, minutes, device="cpu", smoke=False, max_steps=None, init_from=None, tag=None, precision="auto",
          accum=1, step_schedule=False, batch=None, lr_scale=None, layers=None,
          uniform_share=None, mask_repeats=None, sentence_eos=None, sibling=None, dropout=None, mix=None,
          inner_starts=None, pack=None, resume=None, width=None, spans=None):
    """One model for `minutes` of wall clock (or `max_steps`). Under torchrun / WORLD_SIZE > 1 this is one DDP rank:
    the global batch (`batch`, default BATCH[name]) is split over ranks x `accum` shards. `step_schedule`: the learning-rate schedule
    (and BERT's long phase) follows step / max_steps instead of the wall clock, so runs can be compared.
    The data recipe (`uniform_share`, `mask_repeats`, `sentence_eos`, `mix`, `inner_starts`): None takes the resumed
    run's (its state records it), else the default. `resume`: continue from this tag's checkpoint when there is one
    (None: unless `smoke`, whose runs start over; True: a smoke run resumes too, as CI's resume check does)."""
    ranks = ddp.Ranks(device, accum)
    device = ranks.device
    say = log if ranks.main else (lambda msg: None)
    torch.manual_seed(0)
    warm_onnx = init_from if init_from and init_from.endswith(".onnx") else None
    warm_ckpt = torch.load(init_from, map_location=device) if init_from and not warm_onnx else None
    old_layers = shipped_layers(name, warm_onnx) if warm_onnx else (warm_ckpt or {}).get("state", {}).get("layers")
    old_width = shipped_width(name, warm_onnx) if warm_onnx else (warm_ckpt or {}).get("state", {}).get("width")
    ckpt = os.path.join(work, "ckpt", f"{tag or name}.pt")
    resume = os.path.exists(ckpt) and (not smoke if resume is None else resume)
    resumed = torch.load(ckpt, map_location=device) if resume else None
    if resumed and init_from and resumed["state"].get("finished"):
        # a new session's run named a warm start, but the tag's checkpoint is a run that ended: resuming it would train
        # only the minutes its budget has left (2026-12-05: elmo-mini resumed the session before's finished run at
        # 86.0 of 95 minutes before it was stopped)
        raise SystemExit(f"{name}: {ckpt} is a finished run ({resumed['state']['elapsed'] / 60:.1f} min, "
                         f"{resumed['state']['tokens']} tokens): move it aside (e.g. into ckpt/done-DATE/) to start from "
                         f"{init_from}, or resume it without --init-from to lengthen it")
    # a warm start keeps the shipped depth unless --layers grows it; a resume keeps its own (a grown run resumed
    # without --init-from built the recipe's depth and failed to load)
    layers = layers or (resumed["state"].get("layers") if resumed else None) or old_layers
    if warm_onnx and layers and old_layers and layers < old_layers:
        raise SystemExit(f"{name}: --layers {layers} is below the shipped model's {old_layers}")
    width = width or (resumed["state"].get("width") if resumed else None) or old_width
    widened = bool(warm_onnx and width and old_width and width != old_width)
    if widened and (width != 2 * old_width or layers != old_layers):
        raise SystemExit(f"{name}: --width {width}: a warm start widens the shipped model ({old_width}) to exactly "
                         f"twice its width ({2 * old_width}), at its own depth")
    recipe = data_recipe(dict(uniform_share=uniform_share, mask_repeats=mask_repeats, sentence_eos=sentence_eos,
                              mix=mix, inner_starts=inner_starts, pack=pack, spans=spans),
                         resumed["state"] if resumed else None)
    if resumed and recipe != data_recipe({}, None):
        say(f"{name}: data recipe {recipe} (the resumed run's, unless named again)")
    task = Task(name, work, smoke, device, main=ranks.main, layers=layers, width=width, **recipe)
    m = task.model
    prior = {"tokens": 0, "minutes": 0.0, "sessions": 0}
    peak = LR[name]
    if init_from and init_from.endswith(".onnx"):  # continue from the shipped model (fresh optimizer and schedule)
        if widened:  # twice as wide, computing what the shipped model does
            small = shipped_model(name, init_from, smoke)
            widen(small, m)
            diff = same_logits(name, small, m, task.vocab_size)
            if diff > 1e-4:
                raise SystemExit(f"{name}: the widened model's logits differ from the shipped one's by {diff:.2e}")
            say(f"{name}: widened from {old_width} to {width} (Net2WiderNet: units duplicated, reading weights split at "
                f"random); logits equal the shipped model's (max diff {diff:.1e})")
            loaded = total = len(m.state_dict())
        else:
            loaded, total = init_from_onnx(m, init_from)
            if layers and old_layers and layers > old_layers:  # grown: the added blocks start as the identity
                diff = grow_check(name, m, init_from, old_layers, loaded, total, smoke)
                say(f"{name}: grown from {old_layers} to {layers} layers ({total - loaded} new tensors, the added blocks "
                    f"the identity); logits equal the shipped model's (max diff {diff:.1e})")
                loaded = total
        if loaded < total:
            raise SystemExit(f"{name}: only {loaded} of {total} tensors of {init_from} fit this model; "
                             "train from scratch (no --init-from) when the architecture changed")
        prior = prior_training(os.path.dirname(os.path.dirname(init_from)))
        peak *= WARM_LR
        say(f"{name}: all {total} tensors from {init_from} (earlier: {prior['tokens']} tokens, {prior['minutes']} min)")
        got, heads, why = init_heads(m, init_from)
        if heads:
            say(f"{name}: training-only heads: {got} of {heads} tensors from {os.path.relpath(heads_path(init_from))}"
                if not why else f"{name}: training-only heads start afresh ({why})")
    elif warm_ckpt:  # warm start from another run's checkpoint (one not shipped): its history goes on from there
        try:
            m.load_state_dict(warm_ckpt["model"])
        except RuntimeError as e:  # another depth or vocabulary: torch lists every tensor that differs
            first = (str(e).splitlines() + [""])[1].strip()[:160]
            raise SystemExit(f"{name}: {init_from} does not fit this model (--layers {layers}): {first} (a checkpoint "
                             "continues at its own size; grow from an ONNX file)")
        prior = history_after(warm_ckpt.get("state", {}))
        peak *= WARM_LR
        say(f"{name}: weights initialised from {init_from} (earlier: {prior['tokens']} tokens, {prior['minutes']} min)")
    bf16, rates = pick_precision(precision, device, ranks)
    say(f"{name}: {'bf16 autocast' if bf16 else 'fp32'}" + (
        f" (512 x 512 matmul here: bf16 {rates['bf16_gflops']} GFLOPS, fp32 {rates['fp32_gflops']})" if rates
        else f" (--precision {precision})"))
    amp = torch.autocast(device_type="cuda" if str(device).startswith("cuda") else "cpu", dtype=torch.bfloat16,
                         enabled=bf16)
    nparams = sum(p.numel() for p in m.parameters())
    global_batch = batch or task.B
    peak *= math.sqrt(global_batch / task.B)  # square-root scaling when --batch departs from the recipe
    peak *= 1.0 if lr_scale is None else lr_scale
    if resume and lr_scale is not None:
        if resumed["state"].get("init_from"):
            # --lr-scale named again on a resume means what it meant at the run's warm start, whose halving a resume
            # (no --init-from) does not apply itself (2026-12-07: a bert-mini resumed with its --lr-scale 0.3 ran at
            # twice its peak for a minute before it was stopped)
            peak *= WARM_LR
        say(f"{name}: peak learning rate {peak:.2e} (--lr-scale {lr_scale}; the resumed run's was "
            f"{resumed['state'].get('peak_lr', 0):.2e})")
    if resume and lr_scale is None and resumed["state"].get("peak_lr"):
        # a resume keeps the run's own peak unless --lr-scale is named again: recomputed, it lost the warm start's
        # halving (no --init-from on the resume) and any --lr-scale (2026-12-04: a resumed elmo-mini ran at 4x its
        # peak, bert-mini at 10x, until stopped)
        peak = resumed["state"]["peak_lr"]
        say(f"{name}: peak learning rate {peak:.2e} (the resumed run's; --lr-scale sets another)")
    if global_batch % ranks.nshards:
        raise SystemExit(f"{name}: the global batch {global_batch} does not split into {ranks.world} ranks x "
                         f"{ranks.accum} accumulation steps")
    task.B = global_batch // ranks.nshards
    say(f"{name}: {nparams / 1e6:.2f}M parameters, vocab {task.vocab_size}, batch {task.B}x{task.T}"
        + (f" per shard; {ranks.world} ranks x {ranks.accum} accumulation = global batch {global_batch}"
           if ranks.nshards > 1 else ""))
    opt = torch.optim.AdamW(m.parameters(), lr=LR[name], weight_decay=0.01, betas=(0.9, 0.98))
    os.makedirs(os.path.dirname(ckpt), exist_ok=True)
    state = {"elapsed": 0.0, "step": 0, "tokens": 0, "curve": [], "prior": prior, "bf16": bf16,
             "threads": torch.get_num_threads(), "init_from": os.path.basename(init_from) if init_from else None,
             "peak_lr": peak, "layers": layers, "width": width}
    if name == "bert":  # the masking recipe this run used (cards report it)
        state["masking"] = {"content": MASK_RATE["content"], "function": MASK_RATE["function"],
                            "function_rank": MASK_FUNCTION_RANK, "uniform_rate": UNIFORM_RATE, "nsp_weight": NSP_WEIGHT,
                            "single_share": SINGLE_SHARE}
    if ranks.on and ranks.total(float(resume))[0] not in (0, ranks.world):
        raise SystemExit(f"{name}: {ckpt} is visible to some ranks only; every rank resumes from it "
                         "(put WORK on a file system all nodes share)")
    if resume:  # every rank resumes from the checkpoint rank 0 wrote
        c = resumed
        if c.get("opt") is None or c["state"].get("averaged"):
            raise SystemExit(f"{name}: {ckpt} is a mean of checkpoints (training/average.py), not a run to resume: "
                             f"start a run from it with --init-from {ckpt} --tag NEW, or move it away")
        m.load_state_dict(c["model"])
        opt.load_state_dict(c["opt"])
        state = c["state"]
        state["peak_lr"] = peak  # the peak this leg runs at (a resume that names --lr-scale changes it)
        state.pop("finished", None)  # a finished run resumed (to lengthen it) is running again
        if state.get("bf16") != bf16:  # the card reports the precision the run ends in, and the switch
            state["precision_switch"] = {"step": state["step"], "tokens": state["tokens"], "bf16_before": state.get("bf16")}
        say(f"{name}: resumed at step {state['step']}, {state['elapsed'] / 60:.1f} min, {state['tokens']} tokens")
    record_recipe(state, name, recipe, task.mix_shares)
    if task.mix_shares:  # the weights asked for and each source's resulting share of the windows
        say(f"{name}: source mix " + ", ".join(f"{k} {v:.1%}" for k, v in task.mix_shares.items()))
    state["bf16"] = bf16
    if rates:
        state["matmul_gflops"] = rates
    else:  # asked for by name: a resumed run's earlier measurement no longer chose it
        state.pop("matmul_gflops", None)
    if dropout is not None:  # recorded in the run's state; a resume without --dropout keeps the resumed run's
        state["dropout"] = dropout
    set_dropout(m, state.get("dropout"))  # the state says which: this run's --dropout, or the resumed run's
    if "dropout" in state:
        say(f"{name}: dropout {state['dropout']} (the model's own: 0.1)")
    if ranks.nshards > 1 or batch:
        state.update(ranks=ranks.world, accum=ranks.accum, global_batch=global_batch)
    else:  # a plain run's state has the keys it always had
        for k in ("ranks", "accum", "global_batch", "rank_spread"):
            state.pop(k, None)
    # Where this run stands in the model's history picks its random streams: a warm start from a shipped model, or a
    # resume, would otherwise draw again the very samples, masks and dropout of the run before it (every session did
    # until 2026-12-01, which is why bert-mini's training loss rose within each run: its first batches were the ones
    # every earlier session had trained on). A fresh run (history (0, 0)) keeps the streams it always had.
    # Two runs with one history can still start from different weights: a run from an average of checkpoints carries
    # the history of its newest input, so it drew the same streams as a sibling run from that input (2026-12-02). The
    # start's weights name the streams too (a digest kept in the state, so a resume draws what the run would have).
    # A second run from the same start (no model shipped in between) is a sibling: its index names its streams too.
    if init_from and not resume:
        state["start"] = weights_digest(m)
        if ranks.main:
            state["sibling"] = sibling_index(work, name, state["start"], state["prior"], ckpt) if sibling is None \
                else sibling
        if ranks.on:  # every rank draws the streams rank 0 chose
            state["sibling"] = int(ranks.total(float(state.get("sibling", 0)) if ranks.main else 0.0)[0])
        if not state.get("sibling"):
            state.pop("sibling", None)
    sessions, step, start = int((state.get("prior") or {}).get("sessions", 0)), int(state["step"]), state.get("start")
    sibling = int(state.get("sibling", 0))
    history = () if (sessions, step, start) == (0, 0, None) else (sessions, step) + ((start,) if start else ())
    history += (sibling,) if sibling else ()  # the first run from a start keeps the streams it always had
    if history:
        task.use_rng(np.random.default_rng((1234, *history)))
        torch.manual_seed(torch_seed(history, 1_000_003))
        say(f"{name}: random streams for session {sessions + 1}, step {step}"
            + (f", start {start:08x}" if start else "") + (f", sibling run {sibling}" if sibling else "")
            + " (no batch of an earlier run replayed)")
    state["params"] = nparams  # in every checkpoint: a run stopped between two still exports a complete card
    streams = ShardStreams(task, ranks.shards, device, history)
    net = ranks.wrap(Objective(task), find_unused=name == "elmo") if ranks.on else None  # adaptive softmax: a
    # tail cluster without a target in the batch gets no gradient
    budget = minutes * 60
    t_start = time.time() - state["elapsed"]
    last_ck = last_log = time.time()
    m.train()
    ema = None

    def shards():  # a step's shards for optimizer_step, gradient accumulation: one after the other
        for i, s in enumerate(ranks.shards):
            streams.use(s)
            sync = net is None or i == len(ranks.shards) - 1  # DDP averages the gradients after the last shard
            yield contextlib.nullcontext() if sync else net.no_sync(), task.step_loss if net is None else net

    while True:
        el = time.time() - t_start
        stop = bool(el >= budget or (max_steps and state["step"] >= max_steps))
        el, stop = ranks.agree(el, stop)  # rank 0's clock decides for all ranks
        if stop:
            break
        frac = state["step"] / max_steps if step_schedule and max_steps else el / budget
        lr = peak * (min(1.0, frac / 0.03) if frac < 0.03 else 0.5 * (1 + math.cos(math.pi * (frac - 0.03) / 0.97)) * 0.95 + 0.05)
        for g in opt.param_groups:
            g["lr"] = lr
        task.frac = frac
        ntok, lsum = optimizer_step(m, opt, amp, shards(), ranks.accum)
        if ranks.on:
            ntok, lsum = ranks.total(ntok, lsum)
        state["step"] += 1
        state["tokens"] += int(ntok)
        loss_now = lsum / ranks.nshards if ranks.nshards > 1 else lsum
        ema = loss_now if ema is None else 0.98 * ema + 0.02 * loss_now
        now = time.time()
        if ranks.main and now - last_log > (5 if smoke else 60):
            state["curve"].append([round(el / 60, 2), state["tokens"], round(ema, 4)])
            log(f"{name}: step {state['step']} {el / 60:.1f}/{minutes} min loss {ema:.3f} lr {lr:.2e} "
                f"{state['tokens'] / max(el, 1e-9):.0f} tok/s")
            last_log = now
        if ranks.main and now - last_ck > 180 and not smoke:
            state["elapsed"] = time.time() - t_start
            save(ckpt, m, opt, state)
            last_ck = now
    state["elapsed"] = el if ranks.on else time.time() - t_start
    state["params"] = nparams
    state["final_train_loss"] = ema
    if ranks.on:
        state["rank_spread"] = ranks.spread(m)
        say(f"{name}: weights " + ("identical on all" if state["rank_spread"] == 0 else
                                   f"differ by up to {state['rank_spread']:.3g} across the") + f" {ranks.world} ranks")
    state["finished"] = True  # a later run with --init-from refuses to resume it (see above)
    if ranks.main:
        save(ckpt, m, opt, state)
    say(f"{name}: done, {state['step']} steps, {state['tokens']} tokens, {state['elapsed'] / 60:.1f} min")
    task.B = global_batch
    return task, state


def save(path, m, opt, state):
    tmp = path + ".tmp"
    torch.save({"model": m.state_dict(), "opt": opt.state_dict(), "state": state}, tmp)
    os.replace(tmp, path)


def load_trained(name, work, smoke=False, device="cpu"):
    c = torch.load(os.path.join(work, "ckpt", f"{name}.pt"), map_location=device)
    task = Task(name, work, smoke, device, layers=c["state"].get("layers"), width=c["state"].get("width"))
    task.model.load_state_dict(c["model"])
    task.model.eval()
    return task, c["state"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=list(SIZES))
    ap.add_argument("--work", required=True)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--init-from", default=None, help="checkpoint whose weights start this run")
    ap.add_argument("--tag", default=None, help="checkpoint name (default: the model name)")
    ap.add_argument("--resume", action="store_true", help="with --smoke: resume from the tag's checkpoint as a full "
                    "run does (smoke runs otherwise start over)")
    ap.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"], help="bf16 autocast (fp32 master "
                    "weights) or fp32 through BLAS; auto (default) times a matmul both ways and takes bf16 where it is "
                    "clearly faster (CPUs with AVX512-BF16 or AMX, GPUs with bf16)")
    ap.add_argument("--fp32", action="store_true", help="the same as --precision fp32")
    ap.add_argument("--accum", type=int, default=1, help="gradient accumulation steps per optimizer step: the "
                    "global batch is split into ranks x accum shards (1 rank with --accum 2 = 2 ranks with --accum 1)")
    ap.add_argument("--batch", type=int, default=None, help="global batch rows (default: BATCH in this file); the "
                    "peak learning rate scales with the square root of the change")
    ap.add_argument("--width", type=int, default=None, help="gpt2: hidden size; twice the shipped model's widens it "
                    "at a warm start (Net2WiderNet: units duplicated, weights that read them split; checked against "
                    "the shipped logits)")
    ap.add_argument("--layers", type=int, default=None, help="bert/gpt2: depth; above the shipped model's, a warm "
                    "start grows it (the added pre-LN blocks start as the identity; checked against the shipped logits)")
    ap.add_argument("--lr-scale", type=float, default=None, help="multiplies the peak learning rate (a mature model "
                    "warm-started at the recipe's peak can climb off its minimum first: bert-mini did at batch 16); "
                    "default 1, and a resumed run keeps its own peak unless this is named again")
    ap.add_argument("--step-schedule", action="store_true", help="learning-rate schedule over --max-steps instead "
                    "of the wall clock (reproducible comparisons)")
    ap.add_argument("--uniform-share", type=float, default=None, help=f"bert: the share of sequences masked "
                    f"uniformly ({UNIFORM_RATE * 100:.0f}%% of words, BERT's recipe) instead of by frequency class "
                    f"(default {UNIFORM_SHARE}); the checkpoint and card record it")
    ap.add_argument("--mask-repeats", type=float, default=None, help="bert: the share of sequences in which a masked "
                    "content word's other occurrences are masked too (no answer to copy from the context)")
    ap.add_argument("--sentence-eos", type=float, default=None, help="gpt2: the share of sentences inside paragraphs "
                    "that get an end-of-text before them, as a text scored on its own has (BLiMP, short prompts)")
    ap.add_argument("--sibling", type=int, default=None, help="the sibling index of a run from a start (default: "
                    "counted from work/ckpt/, which a fresh machine has lost: name it to draw new streams)")
    ap.add_argument("--dropout", type=float, default=None, help="dropout probability of every dropout layer (default: "
                    "the model's, 0.1); a small model that sees each word a few times per session underfits, and "
                    "dropout slows what it can learn in a session")
    ap.add_argument("--mix", default=None, help="gpt2: weights of corpus sources in the windows drawn, e.g. "
                    "'brown=3,wordnet_glosses=0.3' (a source not named keeps 1: its share of the tokens)")
    ap.add_argument("--inner-starts", type=float, default=None, help="bert: the share of sequences that start at a "
                    "sentence start inside a paragraph (else at a paragraph start, which leaves a paragraph's text past "
                    "the first 61 tokens to the long phase)")
    ap.add_argument("--pack", action=argparse.BooleanOptionalAction, default=None, help="bert: pack whole sequences "
                    "into rows of 128 (attention kept inside each, positions restarting) instead of padding each row: "
                    "the same sequences and masks, 95-96%% of the positions real tokens instead of 72-81%%; a resume "
                    "keeps the run's choice unless --pack or --no-pack is named")
    ap.add_argument("--spans", type=float, default=None, help="bert: the share of the uniformly masked sequences "
                    "(--uniform-share) whose words are chosen in runs of whole words (span masking: SpanBERT's lengths, "
                    "3.8 words on average) instead of one by one; the same share of words")
    ap.add_argument("--nsp-weight", type=float, default=None, help=f"bert: the next-sentence loss's weight beside the "
                    f"masked LM's (default {NSP_WEIGHT}; 0 drops NSP as RoBERTa did, the head stays in the graph); the "
                    "checkpoint's masking record keeps it, a resume takes the default unless it is named again")
    a = ap.parse_args()
    if a.nsp_weight is not None:
        if a.model != "bert" or a.nsp_weight < 0:
            ap.error("--nsp-weight is for bert: 0 or more")
        NSP_WEIGHT = a.nsp_weight  # a module global: step_loss and the checkpoint's masking record read it
    if a.mix and a.model not in ("gpt2", "gpt1"):
        ap.error("--mix is for gpt2 and gpt1")
    for flag, share in (("--uniform-share", a.uniform_share), ("--mask-repeats", a.mask_repeats),
                        ("--sentence-eos", a.sentence_eos), ("--dropout", a.dropout),
                        ("--inner-starts", a.inner_starts), ("--spans", a.spans)):
        if share is not None and not 0 <= share <= 1:
            ap.error(f"{flag} is a share: 0 to 1")
    torch.set_num_threads(a.threads)
    try:
        train(a.model, a.work, a.minutes, a.device, a.smoke, a.max_steps, a.init_from, a.tag, precision="fp32" if a.fp32 else a.precision,
              accum=a.accum, step_schedule=a.step_schedule, batch=a.batch, lr_scale=a.lr_scale, layers=a.layers, width=a.width,
              uniform_share=a.uniform_share, mask_repeats=a.mask_repeats, sentence_eos=a.sentence_eos,
              sibling=a.sibling, dropout=a.dropout, mix=parse_mix(a.mix) if a.mix is not None else None, inner_starts=a.inner_starts,
              pack=a.pack, resume=True if a.resume else None, spans=a.spans)
    finally:
        ddp.finish()
