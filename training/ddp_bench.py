"""Training throughput of one model: one process vs DDP ranks vs side-by-side lanes (tokens/s, the cards' measure).

  /usr/bin/python3 training/ddp_bench.py --work /tmp/bench --models bert,gpt2 --minutes 3 --ranks 2

WORK needs the tokenised corpus (`run.py --to tokenizers --work WORK`, or `--smoke` for the tiny one). For each
model, one after the other, each for --minutes of wall clock (the same global batch for all four: --batch, else the
one `run.py --ranks` uses; the one-process contenders accumulate N shards, so every forward pass has the rows of one
rank's and only the parallel layout differs):
  1x1    one process, one thread
  1xN    one process, N threads
  N ranks N DDP ranks of one thread (the launcher of `run.py --ranks N`)
  lanes  N processes of one thread side by side, each training its own copy (what `run.py`'s lanes do)
tokens/s = tokens / wall seconds from each run's checkpoint state (BENCH-tagged checkpoints in WORK/ckpt). Ranks
beat lanes for a model when their tokens/s exceeds N x the lanes' per-process figure: lanes give each model
--budget minutes on one core, ranks give it budget/N minutes on N cores. The machine must be otherwise idle.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddp  # noqa: E402
from common import TRAINING_DIR, log, one_thread_env  # noqa: E402
from run import RANKS_BATCH  # noqa: E402


def rate(work, tag):
    import torch
    st = torch.load(os.path.join(work, "ckpt", f"{tag}.pt"), map_location="cpu")["state"]
    return st["tokens"] / max(st["elapsed"], 1e-9)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True)
    ap.add_argument("--models", default="bert")
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="the smoke models (checks that the bench runs)")
    ap.add_argument("--batch", type=int, default=None, help="global batch rows for every contender (default: the one "
                    "run.py --ranks uses, RANKS_BATCH, else train.py's BATCH)")
    a = ap.parse_args()
    n = a.ranks
    env = one_thread_env()
    train_py = os.path.join(TRAINING_DIR, "train.py")
    results, batches = {}, {}
    for name in a.models.split(","):
        batch = batches[name] = a.batch or (None if a.smoke else RANKS_BATCH.get(name))
        base = [name, "--work", a.work, "--minutes", str(a.minutes)] + (["--smoke"] if a.smoke else []) + \
            (["--batch", str(batch)] if batch else [])
        res = results[name] = {}
        shards = ["--accum", str(n)]  # every contender computes the ranks' shards (same rows per forward pass)
        for label, threads in (("1x1", 1), (f"1x{n}", n)):
            tag = f"bench-{name}-{label}"
            _clear(a.work, tag)
            subprocess.run([sys.executable, train_py, *base, *shards, "--threads", str(threads), "--tag", tag], env=env,
                           check=True)
            res[label] = rate(a.work, tag)
        tag = f"bench-{name}-{n}ranks"
        _clear(a.work, tag)
        if ddp.launch(train_py, base + ["--tag", tag], n, env) != 0:
            raise SystemExit(f"{name}: {n} ranks failed")
        res[f"{n} ranks"] = rate(a.work, tag)
        tags = [f"bench-{name}-lane{i}" for i in range(n)]
        for t in tags:
            _clear(a.work, t)
        procs = [subprocess.Popen([sys.executable, train_py, *base, *shards, "--tag", t], env=env) for t in tags]
        if any(p.wait() != 0 for p in procs):
            raise SystemExit(f"{name}: lanes failed")
        res["lanes (each)"] = sum(rate(a.work, t) for t in tags) / n
        log(f"bench {name}: " + ", ".join(f"{k} {v:,.0f} tok/s" for k, v in res.items())
            + f"; {n} ranks / 1x1 = {res[f'{n} ranks'] / res['1x1']:.2f}, {n} ranks / (N x lane) = "
            f"{res[f'{n} ranks'] / (n * res['lanes (each)']):.2f}")
    print(json.dumps({"minutes": a.minutes, "ranks": n, "batch": batches, "smoke": a.smoke,
                      "time": time.strftime("%Y-%m-%d %H:%M"), "tokens_per_s": results}, indent=1))


def _clear(work, tag):
    p = os.path.join(work, "ckpt", f"{tag}.pt")
    if os.path.exists(p):
        os.remove(p)


if __name__ == "__main__":
    main()
