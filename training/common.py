"""Shared paths and helpers for the training pipeline."""
import hashlib
import json
import os
import re
import sys
import time

TRAINING_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TRAINING_DIR)
T0 = time.time()
# A word as the corpus card and the README reader count it
WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def log(msg):
    print(f"[{time.time() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def run_probes(training):
    """The matmul probes behind a run's training record (a checkpoint's state or a card's metadata): a soup's, one
    per sibling run (training/average.py), else the run's own, else none."""
    return training.get("run_matmul_gflops") or ([training["matmul_gflops"]] if training.get("matmul_gflops") else [])


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def fast_malloc_env():
    """jemalloc that keeps freed pages: on this kind of sandboxed machine a fresh 100 MB allocation costs ~0.4 s of
    page faults under glibc malloc (measured: clone of a 4096x8192 fp32 tensor 497 ms vs 7 ms), which made every
    training step 3-4x slower (GPT-2 step 4.7 s -> 1.2 s)."""
    if not os.path.exists(JEMALLOC):
        return {}
    return {"LD_PRELOAD": JEMALLOC, "MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1"}


def one_thread_env():
    """The environment a training subprocess runs in: one intra-op thread (the lanes run side by side, a core each)
    and jemalloc (`fast_malloc_env`)."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **fast_malloc_env()}


def model_fingerprint(path, span=65536):
    """The engine's fingerprint of a model file (src/engine/models/fingerprint.ts): its size and the sha1 of its first
    and last 64 KiB. An ELMo head records its base's (pos.py), so the engine refuses it once that ELMo is replaced."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(min(size, span))
        f.seek(size - min(size, span))
        tail = f.read(min(size, span))
    return f"{size}-{hashlib.sha1(head + tail).hexdigest()[:16]}"


def stale_taggers(models_dir, base_id):
    """The ELMo-head taggers in `models_dir` over `base_id` whose recorded base fingerprint is not the file there now."""
    onnx_path = os.path.join(models_dir, base_id, "onnx", "model.onnx")
    if not os.path.exists(onnx_path):
        return []
    now = model_fingerprint(onnx_path)
    stale = []
    for entry in sorted(os.listdir(models_dir)):
        try:
            tagger = json.load(open(os.path.join(models_dir, entry, "config.json"))).get("tagger") or {}
        except (OSError, ValueError):
            continue
        if tagger.get("base") == base_id and tagger.get("base_fingerprint") not in (None, now):
            stale.append(entry)
    return stale
