"""The shipped model architectures, written for a clean torch.onnx.export (hand-written attention so the
probabilities can be returned; plain LSTM + Linear instead of LSTM(proj_size), which does not export)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = -1e9


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in fp32: under CPU bf16 autocast torch 1.13's nn.LayerNorm refuses bf16 input, and fp32
    statistics are what mixed precision wants anyway. Same parameters and state-dict keys as nn.LayerNorm; for the
    fp32 ONNX export `.float()` is a no-op."""

    def forward(self, x):
        return F.layer_norm(x.float(), self.normalized_shape, self.weight, self.bias, self.eps)


class Attention(nn.Module):
    def __init__(self, h, nh):
        super().__init__()
        self.nh, self.dh = nh, h // nh
        self.qkv = nn.Linear(h, 3 * h)
        self.o = nn.Linear(h, h)

    def split(self, x):  # [B,T,H] -> [B,nh,T,dh]
        return x.view(x.shape[0], x.shape[1], self.nh, self.dh).transpose(1, 2)

    def forward(self, x, bias, past_k=None, past_v=None):
        ctx, p, k, v, step = self.context(x, bias, past_k, past_v)
        return self.o(ctx), p, k, v, step

    def context(self, x, bias, past_k=None, past_v=None):
        """The heads' outputs joined, before the output projection (`forward` applies it)."""
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = self.split(q), self.split(k), self.split(v)
        step = (k, v)  # this step's keys / values, before the cache joins them
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh) + bias, dim=-1)
        ctx = torch.matmul(p, v).transpose(1, 2)
        return ctx.reshape(ctx.shape[0], ctx.shape[1], self.nh * self.dh), p, k, v, step


# ------------------------------------------------------------------------------------ BERT (post-LN, MLM + NSP)
class BertLayer(nn.Module):
    def __init__(self, h, nh, ff, dropout, pre_ln=False):
        super().__init__()
        self.pre_ln = pre_ln
        self.att = Attention(h, nh)
        self.ln1 = LayerNorm(h, eps=1e-12)
        self.ff = nn.Sequential(nn.Linear(h, ff), nn.GELU(), nn.Linear(ff, h))
        self.ln2 = LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, bias):
        if self.pre_ln:  # LayerNorm at the input of each sub-block (trains much faster at this scale)
            a, p, *_ = self.att(self.ln1(x), bias)
            x = x + self.drop(a)
            x = x + self.drop(self.ff(self.ln2(x)))
            return x, p
        a, p, *_ = self.att(x, bias)  # the paper's post-LayerNorm
        x = self.ln1(x + self.drop(a))
        x = self.ln2(x + self.drop(self.ff(x)))
        return x, p

    def forward_at(self, x, bias, keep):
        """A pre-LN layer's output [len(keep), H] at the flat positions `keep` of x [B,T,H] only: every position is
        still attended to, but the output projection and feed-forward run for the kept rows alone (training reads the
        last layer at the masked positions and [CLS]: 85% of that layer's feed-forward was thrown away)."""
        ctx = self.att.context(self.ln1(x), bias)[0].reshape(-1, x.shape[-1])[keep]
        x = x.reshape(-1, x.shape[-1])[keep] + self.drop(self.att.o(ctx))
        return x + self.drop(self.ff(self.ln2(x)))


class Bert(nn.Module):
    def __init__(self, vocab, h=192, layers=4, heads=4, ff=None, max_pos=128, dropout=0.1, pre_ln=False):
        super().__init__()
        ff = ff or 4 * h
        self.cfg = dict(vocab_size=vocab, hidden_size=h, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=ff, max_position_embeddings=max_pos, type_vocab_size=2, pre_layer_norm=pre_ln)
        self.tok = nn.Embedding(vocab, h)
        self.pos = nn.Embedding(max_pos, h)
        self.typ = nn.Embedding(2, h)
        self.ln = LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList([BertLayer(h, heads, ff, dropout, pre_ln) for _ in range(layers)])
        self.final_ln = LayerNorm(h, eps=1e-12) if pre_ln else nn.Identity()
        self.head_t = nn.Linear(h, h)
        self.head_ln = LayerNorm(h, eps=1e-12)
        self.head_b = nn.Parameter(torch.zeros(vocab))
        self.pool = nn.Linear(h, h)
        self.nsp = nn.Linear(h, 2)
        self.apply(init_weights)

    def encode(self, input_ids, attention_mask, token_type_ids, position_ids=None, segment_ids=None, keep=None):
        """Hidden states of every layer. Training may pack several sequences into one row: `segment_ids` [B,T] (1, 2,
        ... per sequence, 0 for padding) keep attention inside each sequence and `position_ids` restart with each, so a
        packed row computes what its sequences would on rows of their own, without the padding. With `keep` (flat
        positions in B*T), only the last hidden state at those positions [len(keep), H] is returned."""
        T = input_ids.shape[1]
        pos = torch.arange(T, device=input_ids.device).unsqueeze(0) if position_ids is None else position_ids
        x = self.drop(self.ln(self.tok(input_ids) + self.pos(pos) + self.typ(token_type_ids)))
        if segment_ids is None:
            bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * NEG
        else:  # [B,1,T,T]: a query sees the keys of its own sequence
            same = (segment_ids[:, :, None] == segment_ids[:, None, :]) & (segment_ids[:, None, :] > 0)
            bias = (~same).to(x.dtype)[:, None] * NEG
        if keep is not None and self.cfg["pre_layer_norm"]:  # training: the last layer at the kept positions only
            for layer in self.layers[:-1]:
                x = layer(x, bias)[0]
            return self.final_ln(self.layers[-1].forward_at(x, bias, keep)), None, None
        hs, ps = [x], []
        for layer in self.layers:
            x, p = layer(x, bias)
            hs.append(x)
            ps.append(p)
        x = self.final_ln(x)
        if keep is not None:
            return x.reshape(-1, x.shape[-1])[keep], None, None
        if not isinstance(self.final_ln, nn.Identity):
            hs[-1] = x  # the last hidden state is the normalised one the heads read
        return x, hs, ps

    def mlm_logits(self, x):
        return self.head_ln(F.gelu(self.head_t(x))) @ self.tok.weight.t() + self.head_b  # tied decoder

    def nsp_logits(self, x):
        return self.nsp_head(x[:, 0])

    def nsp_head(self, cls):
        """Next-sentence logits from [CLS] hidden states [N,H]."""
        return self.nsp(torch.tanh(self.pool(cls)))

    def forward(self, input_ids, attention_mask, token_type_ids):
        """ONNX face: logits [B,T,V], hidden_states [L+1,B,T,H], attentions [L,B,nh,T,T]."""
        x, hs, ps = self.encode(input_ids, attention_mask, token_type_ids)
        return self.mlm_logits(x), torch.stack(hs, 0), torch.stack(ps, 0)


# ------------------------------------------------------------------------------------ GPT-2 (pre-LN) / GPT-1 (post-LN)
class GptBlock(nn.Module):
    def __init__(self, h, nh, ff, dropout, pre_ln):
        super().__init__()
        self.pre_ln = pre_ln
        self.ln1 = LayerNorm(h)
        self.att = Attention(h, nh)
        self.ln2 = LayerNorm(h)
        self.ff = nn.Sequential(nn.Linear(h, ff), nn.GELU(), nn.Linear(ff, h))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, bias, pk=None, pv=None):
        if self.pre_ln:  # GPT-2: LayerNorm moved to the input of each sub-block
            a, p, k, v, step = self.att(self.ln1(x), bias, pk, pv)
            x = x + self.drop(a)
            x = x + self.drop(self.ff(self.ln2(x)))
        else:  # GPT-1: post-LayerNorm, as in the original Transformer
            a, p, k, v, step = self.att(x, bias, pk, pv)
            x = self.ln1(x + self.drop(a))
            x = self.ln2(x + self.drop(self.ff(x)))
        return x, p, k, v, step


class Gpt(nn.Module):
    def __init__(self, vocab, h=192, layers=4, heads=4, ff=None, max_pos=256, dropout=0.1, pre_ln=True):
        super().__init__()
        ff = ff or 4 * h
        self.cfg = dict(vocab_size=vocab, n_embd=h, n_layer=layers, n_head=heads, n_inner=ff, n_positions=max_pos,
                        n_ctx=max_pos, pre_layer_norm=pre_ln)
        self.nl, self.nh, self.dh = layers, heads, h // heads
        self.tok = nn.Embedding(vocab, h)
        self.pos = nn.Embedding(max_pos, h)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([GptBlock(h, heads, ff, dropout, pre_ln) for _ in range(layers)])
        self.lnf = LayerNorm(h) if pre_ln else nn.Identity()  # GPT-2 adds a final LayerNorm
        self.register_buffer("tril", torch.tril(torch.ones(max_pos, max_pos, dtype=torch.bool)), persistent=False)
        self.apply(init_weights)
        # GPT-2: residual projections scaled by 1/sqrt(number of residual layers)
        for b in self.blocks:
            for lin in (b.att.o, b.ff[2]):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * layers))

    def forward(self, input_ids, attention_mask, position_ids, *past, step_kv=False):
        """past: key0, value0, key1, ... each [B, nh, P, dh] (P may be 0). Returns logits, presents..., attentions;
        with `step_kv`, then this step's keys / values (key0, value0, ...: each [B, nh, T, dh]), which the export names
        `lm_lens_new.past_key_values.{i}.key/value`: the engine joins its cache itself from them instead of fetching
        every present (the outputs its src/engine/onnx/kvAppend.ts would otherwise add to a copy of the graph)."""
        T = input_ids.shape[1]
        S = attention_mask.shape[1]  # P + T
        x = self.drop(self.tok(input_ids) + self.pos(position_ids))
        causal = self.tril[S - T:S, :S]
        keep = causal[None, None, :, :] & attention_mask[:, None, None, :].bool()
        bias = (~keep).to(x.dtype) * NEG
        presents, probs, steps = [], [], []
        for i, b in enumerate(self.blocks):
            pk = past[2 * i] if past else None
            pv = past[2 * i + 1] if past else None
            x, p, k, v, step = b(x, bias, pk, pv)
            presents += [k, v]
            steps += step
            probs.append(p)
        logits = self.lnf(x) @ self.tok.weight.t()  # tied input/output embedding
        return (logits, *presents, torch.stack(probs, 0), *(steps if step_kv else []))

    def lm_hidden(self, input_ids):
        """Training path: final hidden states for a full causal sequence (no cache)."""
        T = input_ids.shape[1]
        pos = torch.arange(T, device=input_ids.device).unsqueeze(0)
        x = self.drop(self.tok(input_ids) + self.pos(pos))
        bias = (~self.tril[:T, :T])[None, None].to(x.dtype) * NEG
        for b in self.blocks:
            x, *_ = b(x, bias)
        return self.lnf(x)


# ------------------------------------------------------------------------------------ ELMo biLM
class CharCNN(nn.Module):
    """ELMo's token layer: character embeddings -> CNN filters -> max-pool -> highway -> projection."""

    def __init__(self, n_chars=262, cdim=16, filters=((1, 32), (2, 32), (3, 64), (4, 128), (5, 256)), out=128):
        super().__init__()
        self.emb = nn.Embedding(n_chars, cdim, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(cdim, n, w) for w, n in filters])
        nf = sum(n for _, n in filters)
        self.hw = nn.Linear(nf, 2 * nf)
        self.proj = nn.Linear(nf, out)

    def forward(self, chars):  # [B,T,C]
        B, T, C = chars.shape[0], chars.shape[1], chars.shape[2]
        x = self.emb(chars.reshape(B * T, C)).transpose(1, 2)
        x = torch.cat([torch.relu(c(x)).max(dim=-1)[0] for c in self.convs], dim=-1)
        h, g = self.hw(x).chunk(2, dim=-1)
        g = torch.sigmoid(g)
        x = g * torch.relu(h) + (1 - g) * x
        return self.proj(x).view(B, T, -1)


def reverse_padded(x, lengths):
    """Reverse each sequence within its own length (pads stay at the end). x [B,T,D], lengths [B]."""
    T = x.shape[1]
    t = torch.arange(T, device=x.device).unsqueeze(0)
    L = lengths.unsqueeze(1)
    idx = torch.where(t < L, L - 1 - t, t)
    return torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[2]))


class Elmo(nn.Module):
    """char-CNN token layer + 2-layer forward and backward LSTM LMs; each LSTM is followed by a linear
    projection (ELMo's LSTMP) and layer 2 has a residual connection. Softmax shared by both directions."""

    def __init__(self, vocab, proj=128, hidden=512, cutoffs=(2000, 6000), max_chars=50):
        super().__init__()
        self.cfg = dict(vocab_size=vocab, projection_dim=proj, lstm_hidden=hidden, num_layers=2,
                        max_characters_per_token=max_chars, hidden_size=2 * proj)
        self.tokrep = CharCNN(out=proj)
        self.f = nn.ModuleList([nn.LSTM(proj, hidden, batch_first=True) for _ in range(2)])
        self.b = nn.ModuleList([nn.LSTM(proj, hidden, batch_first=True) for _ in range(2)])
        self.fp = nn.ModuleList([nn.Linear(hidden, proj) for _ in range(2)])
        self.bp = nn.ModuleList([nn.Linear(hidden, proj) for _ in range(2)])
        self.softmax = nn.AdaptiveLogSoftmaxWithLoss(proj, vocab, cutoffs=list(cutoffs), div_value=4.0)

    def run_dir(self, x, lstms, projs):
        outs = []
        for i in range(2):
            h, _ = lstms[i](x)
            h = projs[i](h)
            x = h + x if i == 1 else h
            outs.append(x)
        return outs

    def layers(self, char_ids, attention_mask):
        x = self.tokrep(char_ids)
        lengths = attention_mask.sum(1)
        f = self.run_dir(x, self.f, self.fp)
        b = [reverse_padded(o, lengths) for o in self.run_dir(reverse_padded(x, lengths), self.b, self.bp)]
        return x, f, b

    def forward(self, char_ids, attention_mask):
        """ONNX face: hidden_states [3,B,T,2*proj] = token layer (doubled), LSTM 1, LSTM 2."""
        x, f, b = self.layers(char_ids, attention_mask)
        return torch.stack([torch.cat([x, x], -1), torch.cat([f[0], b[0]], -1), torch.cat([f[1], b[1]], -1)], 0)


# ------------------------------------------------------------------------------------ NNLM (Bengio et al. 2003)
class Nnlm(nn.Module):
    """previous n-1 words -> shared embedding matrix Q -> concatenation -> tanh hidden layer -> softmax."""

    def __init__(self, vocab, context=4, dim=100, hidden=128):
        super().__init__()
        self.cfg = dict(vocab_size=vocab, context_size=context, embedding_dim=dim, hidden_size=hidden)
        self.Q = nn.Embedding(vocab, dim)
        self.H = nn.Linear(context * dim, hidden)
        self.U = nn.Linear(hidden, vocab)

    def forward(self, input_ids):  # [B, context] -> logits [B, V]
        x = self.Q(input_ids).reshape(input_ids.shape[0], -1)
        return self.U(torch.tanh(self.H(x)))


def init_weights(m):
    if isinstance(m, (nn.Linear, nn.Embedding)):
        nn.init.normal_(m.weight, std=0.02)
    if isinstance(m, nn.Linear) and m.bias is not None:
        nn.init.zeros_(m.bias)
