"""Shared paths and helpers for the training pipeline."""
import os
import sys
import time

TRAINING_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TRAINING_DIR)
T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)
