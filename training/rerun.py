"""Reruns every figure the shipped models' cards and the README quote, from the committed files, so that a session
quotes what it measured and not what an earlier one did:

  /usr/bin/python3 training/rerun.py                      # everything, one job at a time (about an hour beside two trainings)
  /usr/bin/python3 training/rerun.py --jobs 2 --only blimp,fill
  /usr/bin/python3 training/rerun.py --list               # the jobs and what each measures
  /usr/bin/python3 training/rerun.py --smoke --only heldout,cloze   # CI: the smoke build's models in work-smoke

It needs WORK as `run.py --to tokenizers` leaves it (the corpus, tokenizers and token ids: the test splits) and the
extension's CLI built into dist/ (`npm run build`). Each job's result is printed as one JSON line as it finishes and
all of them are written to --out; nothing in the repository changes.
"""
import argparse
import concurrent.futures
import functools
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, TRAINING_DIR, log  # noqa: E402
from run import BLIMP_DEV, EVAL_FIXTURES, IDS, build_cli, heldout_texts, lm_lens, paragraphs_text  # noqa: E402

SENSE_SETS = [os.path.join(REPO, "test", "fixtures", "senses", f"{s}.tsv") for s in ("everyday", "handwritten", "notes")]
FILLS = ["She drank a cup of hot [MASK] before work.", "The [MASK] barked at the mailman."]
# the ghost-text calibration of README: every 2nd word of both modern texts, every 64th of the corpus test split
CALIBRATION_TEXTS = [("modern-heldout", os.path.join(EVAL_FIXTURES, "modern-heldout.txt"), 2),
                     ("modern-ghost", os.path.join(EVAL_FIXTURES, "modern-ghost.txt"), 2),
                     ("test", os.path.join("corpus", "test.txt"), 64)]
CURSORS = ("after-space", "mid-word", "word-end")


def heldout(name, work, models, smoke):
    """The test-split figure of training/evaluate.py (the cards' 'test' column) on the model the ONNX file holds."""
    import torch
    import evaluate
    import train as T
    torch.set_num_threads(1)
    onnx_path = os.path.join(models, IDS[name], "onnx", "model.onnx")
    task = T.Task(name, work, smoke, "cpu", layers=T.shipped_layers(name, onnx_path),
                  width=T.shipped_width(name, onnx_path))
    loaded, total = T.init_from_onnx(task.model, onnx_path)
    if loaded < total:
        raise RuntimeError(f"{name}: {loaded} of {total} tensors of {onnx_path} fit")
    T.init_heads(task.model, onnx_path)  # bert's MLM head transform is training-only: without it top-k means nothing
    if name == "elmo":
        import probes
        return {"test": evaluate.elmo(task, work), "probes": {k: v for k, v in probes.run(work, smoke, model=task.model).items()
                                                              if k in ("pos", "wsd", "verdict")}}
    return {"test": getattr(evaluate, "gpt" if name == "gpt2" else name)(task, work)}


def blimp(cli, name, *extra):
    r = cli("eval", "pairs", "--model", IDS[name], "--file", BLIMP_DEV, *extra)
    return {"pairs": r["pairs"], "accuracy": r["accuracy"], "byTerm": {k: v["accuracy"] for k, v in r["byTerm"].items()}}


def tags(cli):
    """pos-elmo-mini's accuracy on the Brown test sentences pos.py scores, through the extension's tagger."""
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "brown-test.tsv")
        subprocess.run([sys.executable, os.path.join(TRAINING_DIR, "pos.py"), "--write-eval", f], check=True,
                       stdout=subprocess.DEVNULL)
        return cli("eval", "tags", "--model", "pos-elmo-mini", "--file", f)


def calibration(cli, work):
    """Nine ghost-text runs (three texts x three cursors), and README's table from them: per cursor, right words per
    point and precision (right words over shown words) of the two modern texts pooled and of the test split, at the
    shipped cut (0.2) and with none."""
    runs = {}
    for label, path, every in CALIBRATION_TEXTS:
        if not os.path.isabs(path):  # the test split, one paragraph a line: a blank line between them (see paragraphs_text)
            path = paragraphs_text(os.path.join(work, path))
        for cursor in CURSORS:
            runs[f"{label} {cursor}"] = cli("eval", "completion", "--model", "gpt2-mini", "--file", path, "--every",
                                            str(every), "--max-tokens", "16", "--repetition-penalty", "1.3",
                                            "--cursor", cursor)
    table = {}
    for cursor in CURSORS:
        for group, labels in (("modern", ("modern-heldout", "modern-ghost")), ("test", ("test",))):
            for cut in (0.2, 0):
                right = shown = points = 0
                for label in labels:
                    r = runs[f"{label} {cursor}"]
                    t = next(t for t in r["thresholds"] if t["minTokenProbability"] == cut)
                    right += t["rightWordsPerPoint"] * r["points"]
                    shown += t["shown"] * t["words"] * r["points"]
                    points += r["points"]
                table[f"{cursor} {group} cut {cut}"] = {"points": points, "rightWordsPerPoint": round(right / points, 3),
                                                        "precision": round(right / shown, 3) if shown else None}
    return {"table": table, "runs": runs}


# keys whose values say when or how long a build ran, not what it built
STAMP_KEYS = {"date", "created", "seconds"}


def json_differences(a, b, at=""):
    """Where two JSON values differ (paths), the keys of STAMP_KEYS aside."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted((a.keys() | b.keys()) - STAMP_KEYS)
                for d in (json_differences(a[k], b[k], f"{at}.{k}") if k in a and k in b else [f"{at}.{k}"])]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in json_differences(x, y, f"{at}[{i}]")]
    return [] if a == b else [at or "."]


def sense_rebuild(models):
    """The sense data rebuilt from the shipped models into a scratch folder (training/senses/build.mjs, one thread),
    its figures, and every file it wrote compared with media/senses: JSON key by key (dates and seconds aside), the
    rest byte for byte."""
    shipped = os.path.join(REPO, "media", "senses")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["node", os.path.join(TRAINING_DIR, "senses", "build.mjs"), "--models-dir", models,
                        "--threads", "1", "--out", out], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        compared, accuracy = {}, None
        for name in sorted(os.listdir(out)):
            with open(os.path.join(out, name), "rb") as f:
                mine = f.read()
            if name == "eval.json":
                accuracy = json.loads(mine)["accuracy"]
            theirs = os.path.join(shipped, name)
            if not os.path.isfile(theirs):
                compared[name] = "not in media/senses"
                continue
            with open(theirs, "rb") as f:
                theirs = f.read()
            if name.endswith(".json"):
                diffs = json_differences(json.loads(mine), json.loads(theirs))
                compared[name] = "same" if not diffs else f"differs at {', '.join(diffs[:5])}"
            else:
                compared[name] = "same" if mine == theirs else "differs"
    return {"accuracy": accuracy, "compared": compared}


def jobs(work, models, smoke):
    """name -> (what it measures, the function that measures it)."""
    cli = functools.partial(lm_lens, models, only=True)
    j = {f"heldout {n}": (f"{IDS[n]}'s test split (training/evaluate.py)", lambda n=n: heldout(n, work, models, smoke))
         for n in ("gpt2", "bert", "nnlm")}
    j["heldout elmo"] = ("elmo-mini's test split and the layer probes (POS, WSD; about 20 minutes)",
                         lambda: heldout("elmo", work, models, smoke))
    for n in ("gpt2", "nnlm", "bert"):
        j[f"blimp {n}"] = (f"{IDS[n]}'s BLiMP dev accuracy", lambda n=n: blimp(cli, n))
    j["blimp bert l2r"] = ("bert-mini's BLiMP dev accuracy by within-word-l2r PLL",
                           lambda: blimp(cli, "bert", "--pll", "within-word-l2r"))
    j["cloze"] = ("bert-mini's cloze top-1 / top-5", lambda: cli("eval", "cloze", "--model", IDS["bert"], "--file",
                                                                 os.path.join(EVAL_FIXTURES, "cloze.tsv")))
    j["modern"] = ("gpt2-mini's perplexity on the modern held-out text",
                   lambda: cli("eval", "perplexity", "--model", IDS["gpt2"], "--file",
                               os.path.join(EVAL_FIXTURES, "modern-heldout.txt")))
    for src, path in heldout_texts(work).items():  # the card's figure on the paragraphs the corpus held out (a full build's)
        def held_out(src=src, path=path):
            return (cli("eval", "perplexity", "--model", IDS["gpt2"], "--file", path) if path else
                    {"skipped": f"no {work}/corpus/heldout-{src}.txt: rebuild the corpus (run.py --from corpus)"})
        j[f"held-out {src}"] = (f"gpt2-mini's perplexity on corpus/heldout-{src}.txt", held_out)
    j["fill"] = ("README's two `fill` examples", lambda: {t: cli("fill", "--text", t, "--top-k", "5") for t in FILLS})
    j["senses"] = ("`eval senses` on the three written sets",
                   lambda: {os.path.basename(f): cli("eval", "senses", "--file", f) for f in SENSE_SETS})
    if not smoke:  # the smoke build ships no sense data to compare with
        j["senses rebuild"] = ("the sense data rebuilt from the shipped models and compared with media/senses "
                               "(about 12 minutes)", lambda: sense_rebuild(models))
    j["tags"] = ("pos-elmo-mini's `eval tags` on the Brown test sentences", lambda: tags(cli))
    j["calibration"] = ("the nine ghost-text calibration runs", lambda: calibration(cli, work))
    return j


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=None, help="default training/work (--smoke: training/work-smoke)")
    ap.add_argument("--smoke", action="store_true", help="the smoke build's models (WORK/models) and sizes")
    ap.add_argument("--only", default="", help="comma-separated job names or their first word (e.g. heldout,cloze)")
    ap.add_argument("--jobs", type=int, default=1, help="jobs at a time (each is one thread)")
    ap.add_argument("--out", default=None, help="JSON file for all results (default: WORK/rerun.json)")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    work = os.path.abspath(a.work or os.path.join(TRAINING_DIR, "work-smoke" if a.smoke else "work"))
    models = os.path.join(work, "models") if a.smoke else os.path.join(REPO, "media", "models")
    todo = jobs(work, models, a.smoke)
    if a.list:
        for k, (what, _) in todo.items():
            print(f"{k:20} {what}")
        return
    want = [w for w in a.only.split(",") if w]
    chosen = {k: f for k, (_, f) in todo.items() if not want or k in want or k.split()[0] in want}
    if not chosen:
        raise SystemExit(f"--only {a.only}: no such job (see --list)")
    build_cli()  # once, before jobs run side by side
    results, failed = {}, []

    def timed(k, f):
        t = time.time()
        return f(), round(time.time() - t, 1)

    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        futures = {pool.submit(timed, k, f): k for k, f in chosen.items()}
        for fut in concurrent.futures.as_completed(futures):
            k = futures[fut]
            try:
                r, s = fut.result()
            except Exception as e:  # one job's failure is reported; the others' results still count
                failed.append(k)
                log(f"rerun: {k} failed: {e}")
                continue
            results[k] = {"seconds": s, "result": r}
            print(json.dumps({"job": k, "seconds": s, "result": r}), flush=True)
    out = a.out or os.path.join(work, "rerun.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    log(f"rerun: {len(results)} jobs -> {out}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
