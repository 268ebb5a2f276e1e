"""Held-out metrics on the test split: BERT masked-token accuracy, GPT-2 / NNLM perplexity, ELMo forward and
backward perplexity."""
import math

import numpy as np
import torch
import torch.nn.functional as F

import train as T


@torch.no_grad()
def bert(task, work, max_windows=400):
    m = task.model.eval()
    ids, _ = T.load_ids(work, "bert", "test")
    rng = np.random.default_rng(99)
    n1 = n5 = n = 0
    L = 126
    for w in range(min(max_windows, len(ids) // L)):
        x = np.concatenate([[2], ids[w * L:(w + 1) * L], [3]])
        cand = np.arange(1, len(x) - 1)
        cand = cand[x[cand] >= 5]
        pos = rng.choice(cand, size=max(1, int(round(0.15 * len(cand)))), replace=False)
        inp = x.copy()
        inp[pos] = 4
        t = torch.from_numpy(inp)[None]
        h, _, _ = m.encode(t, torch.ones_like(t), torch.zeros_like(t))
        top = m.mlm_logits(h[0, pos]).topk(5, -1).indices.numpy()
        gold = x[pos]
        n1 += int((top[:, 0] == gold).sum())
        n5 += int((top == gold[:, None]).any(1).sum())
        n += len(pos)
    return {"masked_tokens": n, "top1": round(n1 / n, 4), "top5": round(n5 / n, 4)}


def window_perplexity(m, s, W):
    """(tokens, perplexity) of a token stream read in back-to-back windows of W tokens."""
    nll = n = 0.0
    for i in range(0, len(s) - 1, W):
        x = torch.from_numpy(s[i:i + W + 1])[None]
        if x.shape[1] < 2:
            break
        h = m.lm_hidden(x[:, :-1])
        nll += float(F.cross_entropy(h[0] @ m.tok.weight.t(), x[0, 1:], reduction="sum"))
        n += x.shape[1] - 1
    return int(n), round(math.exp(nll / n), 2)


@torch.no_grad()
def gpt(task, work):
    """Test-split perplexity in back-to-back windows of 128 tokens (the figure every session since the first reports)
    and of the model's whole context (what a long prompt in the editor meets; one pass when the context is 128)."""
    m = task.model.eval()
    s = T.gpt_stream(work, "test", task.eos)
    full = m.cfg["n_positions"]
    by_window = {W: window_perplexity(m, s, W) for W in {128, full}}
    tokens, perplexity = by_window[128]
    return {"tokens": tokens, "perplexity": perplexity, "perplexity_full_context": by_window[full][1]}


@torch.no_grad()
def elmo(task, work, W=64):
    m = task.model.eval()
    d = T.WordData(work, "test", task.vocab)
    fw = bw = n = 0.0
    for s in range(0, len(d) - W, W):
        a, b, k = T.elmo_loss(m, d, [s], W, "cpu", reduction="sum")
        fw += float(a)
        bw += float(b)
        n += k
    unk = float((d.target == 1).mean())
    return {"words": int(n), "forward_perplexity": round(math.exp(fw / n), 2),
            "backward_perplexity": round(math.exp(bw / n), 2), "unk_rate": round(unk, 4)}


@torch.no_grad()
def nnlm(task, work):
    m = task.model.eval()
    d = T.WordData(work, "test", task.vocab)
    tgt = torch.from_numpy(d.target)
    nll = n = 0.0
    for s in range(4, len(tgt), 4096):
        pos = torch.arange(s, min(s + 4096, len(tgt)))
        ctx = torch.stack([tgt[pos - k] for k in (4, 3, 2, 1)], 1)
        nll += float(F.cross_entropy(m(ctx), tgt[pos], reduction="sum"))
        n += len(pos)
    return {"words": int(n), "perplexity": round(math.exp(nll / n), 2), "unk_rate": round(float((d.target == 1).mean()), 4)}
