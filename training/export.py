"""Export trained models to ONNX in the Hugging Face / transformers.js folder layout, with torch reference
outputs for the TypeScript parity test (test/fixtures/parity/<id>.json)."""
import functools
import json
import os
import shutil

import numpy as np
import torch

import onnx
from onnx import numpy_helper
from common import log

OPSET = 14
# the engine's name for a causal LM's per-step keys / values, NEW_KV_PREFIX in src/engine/models/kvCache.ts
NEW_KV_PREFIX = "lm_lens_new."
# Weights are stored as float16 (half the file; onnxruntime folds the Casts back to float32 when the session loads,
# so the arithmetic stays float32). Tensors under this many values (LayerNorm scales, biases) stay float32.
FP16_MIN_ELEMENTS = 1024


def dyn(names_axes):
    return {n: ax for n, ax in names_axes.items()}


def tensor_json(t, limit_last=None):
    a = t.detach().cpu().numpy()
    if limit_last is not None:
        a = a[..., :limit_last]
    return {"dims": list(a.shape), "data": [float(x) for x in a.astype(np.float64).ravel()]}


def input_json(t):
    a = t.detach().cpu().numpy()
    return {"dtype": "int64" if a.dtype == np.int64 else "float32", "dims": list(a.shape),
            "data": [int(x) if a.dtype == np.int64 else float(x) for x in a.ravel()]}


def check(path):
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return os.path.getsize(path)


def copy_tokenizer(tok_dir, out_dir):
    for f in os.listdir(tok_dir):
        shutil.copy(os.path.join(tok_dir, f), os.path.join(out_dir, f))


def prepare(out_dir):
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(os.path.join(out_dir, "onnx"))


def write_json(path, obj, **kwargs):
    with open(path, "w") as f:
        json.dump(obj, f, **kwargs)


def new_folder(out_dir, tok_dir, files):
    """A fresh model folder (with onnx/): the tokenizer's files, then `files` (file name -> JSON content) beside them."""
    prepare(out_dir)
    copy_tokenizer(tok_dir, out_dir)
    for name, content in files.items():
        write_json(os.path.join(out_dir, name), content, indent=1)


def fp16_storable(a):
    """Whether a float32 array is stored as float16: FP16_MIN_ELEMENTS+ values, all finite and within float16's range
    (a mask buffer of -1e9 would become -inf)."""
    return a.dtype == np.float32 and a.size >= FP16_MIN_ELEMENTS and bool(np.isfinite(a).all()) and \
        float(np.abs(a).max()) <= 65504.0


def round_to_fp16(model):
    """Rounds in place the tensors an fp16 export stores (parameters and buffers), before it is traced and its parity
    reference computed: the reference is then the function the file holds, and a warm start from the file gets these
    weights back exactly."""
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.dtype == torch.float32 and fp16_storable(t.detach().cpu().numpy()):
                t.copy_(t.half().float())


def store_fp16(path):
    """Each float32 initializer that fp16_storable allows becomes a float16 one (`<name>_fp16`) read through a Cast
    to float32 named as before, at the top of the graph; the rest of the graph is unchanged."""
    m = onnx.load(path)
    g = m.graph
    inits, casts = [], []
    for t in g.initializer:
        a = numpy_helper.to_array(t) if t.data_type == onnx.TensorProto.FLOAT else None
        if a is not None and fp16_storable(a):
            half = numpy_helper.from_array(a.astype(np.float16), f"{t.name}_fp16")
            inits.append(half)
            casts.append(onnx.helper.make_node("Cast", [half.name], [t.name], name=f"{t.name}_cast",
                                               to=onnx.TensorProto.FLOAT))
        else:
            inits.append(t)
    nodes = casts + list(g.node)
    del g.initializer[:]
    g.initializer.extend(inits)
    del g.node[:]
    g.node.extend(nodes)
    onnx.save(m, path)


def export_onnx(model, args, out_dir, fp16=True, **kwargs):
    """Traces `model` on `args` to out_dir/onnx/model.onnx (torch.onnx.export's `kwargs`), checks it, returns its size.
    fp16: the weights are rounded in place (round_to_fp16) and stored as float16, so the parity reference each export_*
    computes after this call is the function the file holds."""
    path = os.path.join(out_dir, "onnx", "model.onnx")
    if fp16:
        round_to_fp16(model)
    torch.onnx.export(model, args, path, opset_version=OPSET, **kwargs)
    if fp16:
        store_fp16(path)
    return check(path)


# ------------------------------------------------------------------------------------------------ BERT
def export_bert(model, tok_dir, out_dir, ref_path, extra_cfg, fp16=True):
    model.eval()
    c = model.cfg
    cfg = {"architectures": ["BertForMaskedLM"], "model_type": "bert", **c, "hidden_act": "gelu",
           "layer_norm_eps": 1e-12, "pad_token_id": 0, "lm_lens": {
               "outputs": {"logits": "logits", "hidden_states": "hidden_states [layers+1, batch, seq, hidden]",
                           "attentions": "attentions [layers, batch, heads, seq, seq]"}}, **extra_cfg}
    new_folder(out_dir, tok_dir, {
        "config.json": cfg,
        "special_tokens_map.json": {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                                    "cls_token": "[CLS]", "mask_token": "[MASK]"}})
    B, T = 2, 7
    ids = torch.randint(5, c["vocab_size"], (B, T))
    am = torch.ones(B, T, dtype=torch.long)
    tt = torch.zeros(B, T, dtype=torch.long)
    size = export_onnx(model, (ids, am, tt), out_dir, fp16, do_constant_folding=False,
                       input_names=["input_ids", "attention_mask", "token_type_ids"],
                       output_names=["logits", "hidden_states", "attentions"],
                       dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                     "attention_mask": {0: "batch_size", 1: "sequence_length"},
                                     "token_type_ids": {0: "batch_size", 1: "sequence_length"},
                                     "logits": {0: "batch_size", 1: "sequence_length"},
                                     "hidden_states": {1: "batch_size", 2: "sequence_length"},
                                     "attentions": {1: "batch_size", 3: "sequence_length", 4: "sequence_length"}})
    # reference on another shape than the trace (dynamic axes), with padding in row 1
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(5, c["vocab_size"], (2, 11), generator=g)
    ids[:, 0] = 2
    am = torch.ones(2, 11, dtype=torch.long)
    am[1, 8:] = 0
    tt = torch.zeros(2, 11, dtype=torch.long)
    tt[:, 6:] = 1
    with torch.no_grad():
        lo, hs, at = model(ids, am, tt)
    ref = {"model": os.path.basename(out_dir), "inputs": {"input_ids": input_json(ids), "attention_mask": input_json(am),
                                                          "token_type_ids": input_json(tt)},
           "outputs": {"logits": tensor_json(lo, 64), "hidden_states": tensor_json(hs), "attentions": tensor_json(at)},
           "slice_last": {"logits": 64}}
    write_json(ref_path, ref)
    return size


# ------------------------------------------------------------------------------------------------ GPT-2
def export_gpt(model, tok_dir, out_dir, ref_path, extra_cfg, eos, fp16=True):
    model.eval()
    c = model.cfg
    L, nh, dh = model.nl, model.nh, model.dh
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", **c, "activation_function": "gelu",
           "bos_token_id": eos, "eos_token_id": eos, "tie_word_embeddings": True, "use_cache": True,
           # line_breaks: the corpus is one paragraph per line and gpt_stream joins them with end-of-text, so the
           # model never saw a line break; the engine reads a blank line as end-of-text, any other as a space
           "lm_lens": {"outputs": {"logits": "logits", "present.{i}.key/value": "KV cache",
                                   "attentions": "attentions [layers, batch, heads, seq, total_seq]",
                                   "lm_lens_new.past_key_values.{i}.key/value": "this step's keys / values "
                                   "[batch, heads, seq, head_dim] (the engine joins its cache from them)"},
                       "line_breaks": "paragraphs"},
           **extra_cfg}
    new_folder(out_dir, tok_dir, {
        "config.json": cfg,
        "generation_config.json": {"bos_token_id": eos, "eos_token_id": eos, "max_length": c["n_positions"]},
        "special_tokens_map.json": {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}})
    in_names = ["input_ids", "attention_mask", "position_ids"] + [f"past_key_values.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    out_names = ["logits"] + [f"present.{i}.{kv}" for i in range(L) for kv in ("key", "value")] + ["attentions"]
    # each step's keys / values, the second input of each present's Concat (models.Gpt step_kv): generation fetches
    # these instead of the presents, so the engine need not rewrite a copy of the graph to add them (kvAppend.ts)
    step_names = [f"{NEW_KV_PREFIX}{n}" for n in in_names[3:]]
    dy = {"input_ids": {0: "batch_size", 1: "sequence_length"},
          "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
          "position_ids": {0: "batch_size", 1: "sequence_length"},
          "logits": {0: "batch_size", 1: "sequence_length"},
          "attentions": {1: "batch_size", 3: "sequence_length", 4: "total_sequence_length"}}
    for n in in_names[3:]:
        dy[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in out_names[1:-1]:
        dy[n] = {0: "batch_size", 2: "total_sequence_length"}
    for n in step_names:
        dy[n] = {0: "batch_size", 2: "sequence_length"}
    B, P, T = 2, 3, 4  # traced with a non-empty past; runs with an empty one too
    ids = torch.randint(0, c["vocab_size"], (B, T))
    am = torch.ones(B, P + T, dtype=torch.long)
    pos = torch.arange(P, P + T).unsqueeze(0).expand(B, T)
    past = [torch.randn(B, nh, P, dh) for _ in range(2 * L)]
    # do_constant_folding=False keeps one copy of the tied embedding (folding duplicates it)
    # torch.onnx.export passes no keyword arguments through the trace (a trailing dict of them was ignored), so the
    # traced forward is the model's with step_kv bound, on the instance, for the export only
    model.forward = functools.partial(type(model).forward, model, step_kv=True)
    try:
        size = export_onnx(model, (ids, am, pos, *past), out_dir, fp16, do_constant_folding=False,
                           input_names=in_names, output_names=out_names + step_names, dynamic_axes=dy)
    finally:
        del model.forward
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, c["vocab_size"], (1, 6), generator=g)
    am = torch.ones(1, 6, dtype=torch.long)
    pos = torch.arange(6).unsqueeze(0)
    past0 = [torch.zeros(1, nh, 0, dh) for _ in range(2 * L)]
    with torch.no_grad():
        o0 = model(ids, am, pos, *past0)
        nid = o0[0][:, -1].argmax(-1, keepdim=True)
        am1 = torch.ones(1, 7, dtype=torch.long)
        pos1 = torch.tensor([[6]])
        o1 = model(nid, am1, pos1, *o0[1:-1], step_kv=True)
        full = model(torch.cat([ids, nid], 1), am1, torch.arange(7).unsqueeze(0), *past0)
    cache_diff = float((o1[0][:, -1] - full[0][:, -1]).abs().max())
    log(f"export gpt2: cached step vs full recompute, max |diff| of last logits {cache_diff:.2e}")
    ref = {"model": os.path.basename(out_dir), "steps": [
        {"inputs": dict(zip(in_names, [input_json(x) if i < 3 else tensor_json(x) for i, x in enumerate([ids, am, pos, *past0])])),
         "outputs": {"logits": tensor_json(o0[0], 64), "attentions": tensor_json(o0[-1]),
                     **{n: tensor_json(x) for n, x in zip(out_names[1:-1], o0[1:-1])}}},
        {"inputs": dict(zip(in_names, [input_json(x) if i < 3 else tensor_json(x) for i, x in enumerate([nid, am1, pos1, *o0[1:-1]])])),
         "outputs": {"logits": tensor_json(o1[0], 64), "attentions": tensor_json(o1[2 * L + 1]),
                     **{n: tensor_json(x) for n, x in zip(step_names, o1[2 * L + 2:])}}}],
        "slice_last": {"logits": 64}, "cache_vs_full_max_abs_diff": cache_diff}
    write_json(ref_path, ref)
    return size


# ------------------------------------------------------------------------------------------------ ELMo
def export_elmo(model, tok_dir, out_dir, ref_path, extra_cfg, char_ids, fp16=True):
    model.eval()
    c = model.cfg
    cfg = {"model_type": "elmo", **{k: v for k, v in c.items()}, "layer_names": ["token", "lstm1", "lstm2"],
           "add_sentence_boundaries": True, "char_id_scheme": "allennlp-elmo (utf-8 bytes, bow 258, eow 259, pad 260, bos 256, eos 257, all +1)",
           "word_splitter": r"[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:['\u2019]\p{L}[\p{L}\p{M}]*)*|[^\s\p{L}\p{N}]\p{M}*",
           "lm_lens": {"inputs": {"char_ids": "int64 [batch, seq, 50]", "attention_mask": "int64 [batch, seq]"},
                       "outputs": {"hidden_states": "float32 [3, batch, seq, 2*projection_dim]"}}, **extra_cfg}
    new_folder(out_dir, tok_dir, {"config.json": cfg})
    words = "<S> the bank of the river </S>".split()
    chars = torch.from_numpy(np.stack([char_ids(w) for w in words]))[None].repeat(2, 1, 1)
    am = torch.ones(2, len(words), dtype=torch.long)
    size = export_onnx(model, (chars, am), out_dir, fp16, input_names=["char_ids", "attention_mask"],
                       output_names=["hidden_states"],
                       dynamic_axes={"char_ids": {0: "batch_size", 1: "sequence_length"},
                                     "attention_mask": {0: "batch_size", 1: "sequence_length"},
                                     "hidden_states": {1: "batch_size", 2: "sequence_length"}})
    words = "<S> She paid the money into her bank account . </S>".split()
    chars = torch.from_numpy(np.stack([char_ids(w) for w in words]))[None].repeat(2, 1, 1)
    am = torch.ones(2, len(words), dtype=torch.long)
    am[1, 7:] = 0
    with torch.no_grad():
        hs = model(chars, am)
    write_json(ref_path, {"model": os.path.basename(out_dir), "words": words,
                          "inputs": {"char_ids": input_json(chars), "attention_mask": input_json(am)},
                          "outputs": {"hidden_states": tensor_json(hs)}})
    return size


# ------------------------------------------------------------------------------------------------ NNLM
def export_nnlm(model, tok_dir, out_dir, ref_path, extra_cfg, fp16=True):
    model.eval()
    c = model.cfg
    cfg = {"model_type": "nnlm", **c, "lm_lens": {"inputs": {"input_ids": "int64 [batch, context_size]"},
                                                  "outputs": {"logits": "float32 [batch, vocab]"},
                                                  "static_embedding": "vectors.bin (Q, float16, L2-normalised rows)"},
           **extra_cfg}
    new_folder(out_dir, tok_dir, {"config.json": cfg})
    vocab = json.load(open(os.path.join(tok_dir, "tokenizer.json")))["model"]["vocab"]
    words = sorted(vocab, key=vocab.get)
    q = model.Q.weight.detach().numpy()
    (q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-8)).astype("<f2").tofile(os.path.join(out_dir, "vectors.bin"))
    open(os.path.join(out_dir, "vocab.txt"), "w").write("\n".join(words) + "\n")
    ids = torch.randint(4, c["vocab_size"], (2, c["context_size"]))
    size = export_onnx(model, (ids,), out_dir, fp16, input_names=["input_ids"], output_names=["logits"],
                       dynamic_axes={"input_ids": {0: "batch_size"}, "logits": {0: "batch_size"}})
    ids = torch.tensor([[vocab.get(w, 1) for w in "we sat on the".split()], [vocab.get(w, 1) for w in "into her bank account".split()]])
    with torch.no_grad():
        lo = model(ids)
    write_json(ref_path, {"model": os.path.basename(out_dir), "inputs": {"input_ids": input_json(ids)},
                          "outputs": {"logits": tensor_json(lo, 64)}, "slice_last": {"logits": 64}})
    return size
