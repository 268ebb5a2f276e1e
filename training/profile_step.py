"""Where one training step's time goes: the shipped step of a model built at train.py's default size (bert: the models
issue's 4 x 256 encoder; gpt2: 4 x 192), from scratch, on one thread in bf16 autocast, timed after a warm-up and then
profiled with torch.profiler (operators by their own CPU time, then by input shape):

  /usr/bin/python3 training/profile_step.py --model bert --work training/work

oneDNN builds a kernel for each new matrix shape and bert's packed batches settle their shapes over the first few dozen
steps: time after the warm-up (the first 10 steps ran 30% slower here, 2026-12-06). Run it on a free core: a profile
taken beside other work puts the memory-bound operators far above their share on an idle one (training/README.md,
Speed). It runs itself in run.py's training environment (one thread, jemalloc). Needs WORK as `run.py --to
tokenizers` leaves it; writes nothing.
"""
import argparse
import contextlib
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402
from common import JEMALLOC, TRAINING_DIR, one_thread_env  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="bert", choices=["bert", "gpt2"])
    ap.add_argument("--work", default=os.path.join(TRAINING_DIR, "work"))
    ap.add_argument("--batch", type=int, default=64, help="bert: rows of the recipe's batch before packing (default 64)")
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--steps", type=int, default=20, help="steps timed without the profiler")
    ap.add_argument("--profile-steps", type=int, default=10)
    ap.add_argument("--rows", type=int, default=30, help="rows of each table")
    a = ap.parse_args()
    if os.path.exists(JEMALLOC) and os.environ.get("LD_PRELOAD") != JEMALLOC:
        # the environment run.py trains in (jemalloc keeping freed pages): under glibc's malloc the step's large fresh
        # buffers page-fault every step, and this 4 x 256 step ran at half its speed with the memory passes on top
        os.execve(sys.executable, [sys.executable, *sys.argv], one_thread_env())
    torch.set_num_threads(1)
    torch.manual_seed(0)
    bert = a.model == "bert"
    task = T.Task(a.model, a.work, False, "cpu", inner_starts=0.5 if bert else 0.0, pack=bert)
    if bert:
        task.B = a.batch
    task.frac = 0.0
    T.set_dropout(task.model, 0.0)  # the shipped recipe trains without dropout
    m = task.model.train()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-5, weight_decay=0.01, betas=(0.9, 0.98))
    amp = torch.autocast("cpu", dtype=torch.bfloat16)

    def step():  # train.py's loop body for one shard
        return T.optimizer_step(m, opt, amp, [(contextlib.nullcontext(), task.step_loss)])[0]

    t = time.time()
    for i in range(a.warmup):
        step()
        if i % 10 == 9:
            print(f"warm-up steps {i - 8}-{i + 1}: {time.time() - t:.1f} s", flush=True)
            t = time.time()
    t = time.time()
    n = sum(step() for _ in range(a.steps))
    el = time.time() - t
    print(f"{n / el:.0f} tokens/s over {a.steps} steps ({el / a.steps * 1000:.0f} ms a step, {n / a.steps:.0f} tokens a step)")
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as p:
        t = time.time()
        n = sum(step() for _ in range(a.profile_steps))
        el = time.time() - t
    print(f"{n / el:.0f} tokens/s while profiled ({a.profile_steps} steps)")
    print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=a.rows))
    print(p.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=a.rows))


if __name__ == "__main__":
    main()
