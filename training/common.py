"""Shared paths and helpers for the training pipeline."""
import os
import sys
import time

TRAINING_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TRAINING_DIR)
T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def fast_malloc_env():
    """jemalloc that keeps freed pages: on this kind of sandboxed machine a fresh 100 MB allocation costs ~0.4 s of
    page faults under glibc malloc (measured: clone of a 4096x8192 fp32 tensor 497 ms vs 7 ms), which made every
    training step 3-4x slower (GPT-2 step 4.7 s -> 1.2 s)."""
    if not os.path.exists(JEMALLOC):
        return {}
    return {"LD_PRELOAD": JEMALLOC, "MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1"}
