"""Averages the weights of one model's lineage into one checkpoint: stochastic weight averaging over session ends
(Izmailov et al. 2018; "latest weight averaging", Kaddour 2022).

  cd training/work && /usr/bin/python3 ../average.py --model bert --out ckpt/bert.pt \\
      ../../media/models/bert-mini/onnx/model.onnx ckpt/done-2026-12-01m/bert.pt ckpt/done-2026-12-01n/bert.pt

Every session ends its run at a small learning rate, near a minimum of its own; the next warm restart climbs off it
and settles in a neighbouring one, and the average of such ends tends to generalise better than any one of them
(measured in the 2026-12-01 23:14 session on bert-mini; training/README.md has the figures).

Inputs are training checkpoints (WORK/ckpt/*.pt) or a shipped ONNX export (its weights read back as a warm start
reads them; its history from config.json). They must be one architecture and one lineage: each continued from the
one before it (its recorded history holds the earlier one's tokens), was taken later in the same run, or is a sibling
run from the newest input's start (a model soup; the history then adds every sibling run's tokens and minutes). The
written checkpoint has the newest input's state (its history is the lineage's) with `averaged` listing what went in (an input
that is itself an average, with what it was the mean of); `run.py --from export` exports it like any other, and its
card says it is an average. Tensors an export leaves out (BERT's next-sentence head) are the newest's.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402
from common import REPO, log, run_probes  # noqa: E402


def load(path, model, width=None):
    """A checkpoint as {"model", "opt", "state"}; a shipped ONNX export as one with its weights and history, widened
    to `width` when the checkpoints beside it are twice as wide (the run that widened it started from exactly these
    weights: `train.widen` splits with a fixed seed)."""
    if not path.endswith(".onnx"):
        return torch.load(path, map_location="cpu")
    if model is None:
        raise SystemExit(f"average: {path} is an ONNX export: say which model it is (--model bert, gpt2, ...)")
    model_dir = os.path.dirname(os.path.dirname(path))
    net = T.shipped_model(model, path)
    layers, shipped_width = T.shipped_layers(model, path), T.shipped_width(model, path)
    # the shipped history as a state whose history_after() is that history
    history = T.prior_training(model_dir)
    if width and width != shipped_width:
        wide = T.build(model, net.tok.weight.shape[0], False, layers, width, 2 * net.nh)
        T.widen(net, wide)
        net = wide
    width = width or shipped_width
    state = {"prior": {**history, "sessions": history["sessions"] - 1}, "tokens": 0, "elapsed": 0.0, "layers": layers,
             "width": width}
    return {"model": net.state_dict(), "opt": None, "state": state}


def named(path):
    """How a card names an input: a checkpoint by its path in the repository, an ONNX export by its model folder."""
    if path.endswith(".onnx"):
        return f"the {os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(path))))} ONNX export"
    return os.path.relpath(os.path.abspath(path), REPO)


def cumulative_tokens(state):
    return T.history_after(state)["tokens"]


def same_run(older, newer):
    """Two checkpoints of one run (say, copies of its checkpoint taken along the way, for an average over the run's
    tail): the same history and start, and the older one's training curve a prefix of the newer one's."""
    a, b = older["state"], newer["state"]
    curve_a, curve_b = a.get("curve") or [], b.get("curve") or []
    return (a.get("prior") == b.get("prior") and a.get("start") == b.get("start") and bool(curve_a)
            and curve_b[:len(curve_a)] == curve_a)


def siblings(a, b):
    """Two runs from one start (a "model soup", Wortsman et al. 2022: fine-tunings of one model average well): the
    same history before them, different runs."""
    return a["state"].get("prior") is not None and a["state"].get("prior") == b["state"].get("prior")


def average(paths, model=None):
    """The mean of the inputs' weights (float tensors in fp32) and the newest one's state plus `averaged`; the inputs
    sorted oldest first by their history. Refuses inputs of other shapes or of two lineages. Sibling runs (from the
    newest one's start) count their tokens and minutes once each in the written history; copies of one run once."""
    if len(paths) < 2:
        raise SystemExit("average: give two checkpoints or more")
    checkpoints = {p: load(p, model) for p in paths if not p.endswith(".onnx")}
    width = max((c["state"].get("width") or 0 for c in checkpoints.values()), default=0) or None
    cs = sorted(((checkpoints.get(p) or load(p, model, width), p) for p in paths),
                key=lambda cp: cumulative_tokens(cp[0]["state"]))
    newest = cs[-1][0]
    for (older, p_old), (newer, p_new) in zip(cs, cs[1:]):
        if set(older["model"]) != set(newer["model"]) or any(
                older["model"][k].shape != newer["model"][k].shape for k in newer["model"]):
            raise SystemExit(f"average: {p_old} and {p_new} are not the same architecture")
        started = (newer["state"].get("prior") or {}).get("tokens", 0)
        if started >= cumulative_tokens(older["state"]) or same_run(older, newer):
            continue
        if siblings(older, newer) and siblings(older, newest):
            continue
        raise SystemExit(f"average: {p_new} did not continue from {p_old} (its history starts at {started} tokens, "
                         f"before the other's {cumulative_tokens(older['state'])})"
                         + (", and they are siblings of an older start than the newest input's: their tokens would "
                            "not all count" if siblings(older, newer) else "") + ": not one lineage")
    # one run per sibling: the newest copy of each stands for it (a run's tail counts once)
    runs = []
    for c, _ in reversed(cs):
        if siblings(c, newest) and not any(same_run(c, r) for r in runs):
            runs.append(c)
    weights = {}
    for k, v in newest["model"].items():
        if v.is_floating_point() and not k.startswith(T.TRAINING_ONLY):
            weights[k] = (sum(c["model"][k].float() for c, _ in cs) / len(cs)).to(v.dtype)
        else:
            weights[k] = v
    state = dict(newest["state"])
    others = [r["state"] for r in runs if r is not newest]
    if others:  # the soup's history: the start's, then every sibling run's tokens and minutes
        every = [newest["state"], *others]
        state["tokens"] = sum(o["tokens"] for o in every)
        state["elapsed"] = sum(o["elapsed"] for o in every)
        state["runs"] = sum(int(o.get("runs", 1)) for o in every)
        # "step" stays the newest run's (a resume follows its schedule); the card counts every run's steps
        state["run_steps"] = sum(int(o.get("run_steps", o["step"])) for o in every)
        # each run timed its own matmul probe at its start (siblings side by side can differ): the card quotes them all
        probes = [g for o in every for g in run_probes(o)]
        if probes:
            state["run_matmul_gflops"] = probes
    state["averaged"] = [{"file": named(p), "cumulative_tokens": cumulative_tokens(c["state"]),
                          **({"of": c["state"]["averaged"]} if c["state"].get("averaged") else {})} for c, p in cs]
    return {"model": weights, "opt": newest["opt"], "state": state}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="+", help="checkpoints (.pt) and at most one shipped ONNX export (.onnx)")
    ap.add_argument("--model", choices=list(T.SIZES), help="which model an ONNX input is")
    ap.add_argument("--out", required=True, help="the checkpoint to write (WORK/ckpt/<model>.pt for an export)")
    a = ap.parse_args()
    c = average(a.inputs, a.model)
    tmp = a.out + ".tmp"
    torch.save(c, tmp)
    os.replace(tmp, a.out)
    went_in = ", ".join(f"{x['file']} ({x['cumulative_tokens']:,} tokens)" for x in c["state"]["averaged"])
    log(f"average: the mean of {len(a.inputs)} -> {a.out} ({went_in})")
