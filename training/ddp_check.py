"""Smoke check of data-parallel training: two DDP ranks on loopback against one process with the same global batch.

  /usr/bin/python3 training/ddp_check.py --work training/work-smoke      # run.py --smoke calls this

For each model, a few optimizer steps of the smoke model (global batch 8, learning-rate schedule over the steps):
- 2 ranks x accumulation 1, launched like `run.py --ranks 2` (torchrun where it starts, else RANK/WORLD_SIZE/...);
- 1 rank x accumulation 2, the same global batch and the same shards (ddp.py), so the same samples and dropout.
Checks: the two ranks end with identical weights (bit for bit), and the 2-rank weights match the 1-rank weights
within TOL (only the order of the floating-point sums differs: DDP averages the two shards' gradients in one
allreduce, accumulation adds them one after the other). Exits 1 when a check fails.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ddp  # noqa: E402
from common import log  # noqa: E402

MODELS = ("bert", "gpt2", "elmo", "nnlm")
# Largest weight difference allowed between the 2-rank and the 1-rank run. Measured here (gloo on CPU, bf16
# autocast, 6 steps of the smoke models): 0.0 for all four models - DDP divides each rank's gradient by 2 and adds
# the two, accumulation adds the two halves the same way, so the sums are bit-identical. A run that sees other data
# (one shard of 8 instead of two of 4) differs by 5e-3 to 1e-2, so 1e-5 catches a sharding mistake and still leaves
# room for a backend that sums in another order. Identical ranks are checked exactly.
TOL = 1e-5
STEPS = 6


def worker(a):
    import torch
    import train as T
    torch.set_num_threads(1)
    r = ddp.Ranks("cpu", a.accum)
    for name in a.models.split(","):
        task, st = T.train(name, a.work, 60.0, "cpu", smoke=True, max_steps=a.steps, accum=a.accum, precision=a.precision,
                           step_schedule=True, tag=f"ddp-check-{name}-{r.world}x{a.accum}")
        torch.save({"model": task.model.state_dict(), "state": st},
                   os.path.join(a.out, f"{name}.{r.world}x{a.accum}.rank{r.rank}.pt"))
    ddp.finish()


def held_loss(name, work, state_dict):
    """The model's loss on a fixed batch (eval mode: no dropout) - compares what an export would compute."""
    import numpy as np
    import torch
    import train as T
    task = T.Task(name, work, True, "cpu")
    task.model.load_state_dict(state_dict)
    task.model.eval()
    task.use_rng(np.random.default_rng(99))
    with torch.no_grad():
        return float(task.step_loss()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True, help="a work folder with the tokenised smoke corpus (data/, tok/)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--tol", type=float, default=TOL)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--accum", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    a = ap.parse_args()
    if a.worker:
        return worker(a)
    import torch
    import train as T
    if a.precision == "auto":  # decided once: both layouts must run the same arithmetic to be compared bit for bit
        a.precision = "bf16" if T.pick_precision("auto", "cpu")[0] else "fp32"
    out = os.path.join(a.work, "ddp-check")
    os.makedirs(out, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    args = ["--worker", "--work", a.work, "--models", a.models, "--steps", str(a.steps), "--out", out,
            "--precision", a.precision]
    t0 = time.time()
    for ranks, accum in ((2, 1), (1, 2)):
        t = time.time()
        rc = ddp.launch(os.path.abspath(__file__), args + ["--accum", str(accum)], ranks, env)
        if rc != 0:
            raise SystemExit(f"ddp check: {ranks} ranks x accumulation {accum} failed (exit {rc})")
        log(f"ddp check: {ranks} ranks x accumulation {accum}: {time.time() - t:.1f} s")
    failed = []
    for name in a.models.split(","):
        load = lambda tag: torch.load(os.path.join(out, f"{name}.{tag}.pt"))  # noqa: E731
        r0, r1, one = load("2x1.rank0"), load("2x1.rank1"), load("1x2.rank0")
        keys = [k for k, v in r0["model"].items() if v.is_floating_point()]
        ranks_diff = max(float((r0["model"][k] - r1["model"][k]).abs().max()) for k in keys)
        diff = max(float((r0["model"][k] - one["model"][k]).abs().max()) for k in keys)
        largest = max(float(r0["model"][k].abs().max()) for k in keys)
        l2, l1 = held_loss(name, a.work, r0["model"]), held_loss(name, a.work, one["model"])
        same_data = r0["state"]["tokens"] == one["state"]["tokens"]
        ok = ranks_diff == 0 and diff <= a.tol and same_data
        log(f"ddp check: {name}: {r0['state']['step']} steps, {r0['state']['tokens']} tokens "
            f"(1 rank: {one['state']['tokens']}); rank 0 vs rank 1 max |dw| {ranks_diff:.3g} "
            f"(DDP's own check {r0['state'].get('rank_spread')}); 2 ranks vs 1 rank x accum 2 max |dw| {diff:.3g} "
            f"(tolerance {a.tol:g}; largest |w| {largest:.3g}); held-batch loss {l2:.6f} vs {l1:.6f} "
            f"{'ok' if ok else 'FAILED'}")
        if not ok:
            failed.append(name)
    log(f"ddp check: {'passed' if not failed else 'FAILED: ' + ', '.join(failed)} in {time.time() - t0:.1f} s")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
