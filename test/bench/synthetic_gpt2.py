"""A GPT-2-sized causal LM with random weights, for speed benchmarks only (test/bench/generation.mjs).

12 layers x 768 wide x 12 heads, 1024 positions, exported exactly like the shipped gpt2-mini (training/export.py:
input_ids, attention_mask, position_ids, past_key_values.* -> logits, present.*, attentions), with gpt2-mini's
8k tokenizer, so per-token overhead can be compared on a model where session.run dominates. ~90M parameters,
~360 MB: written to a folder you name, never committed.

Usage: /usr/bin/python3 test/bench/synthetic_gpt2.py DIR
  then: node test/bench/generation.mjs --models-dir DIR --gpt2 gpt2-12x768   (DIR/bert-mini is linked for fill-mask)
"""
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "training"))

import torch  # noqa: E402

from export import export_gpt  # noqa: E402
from models import Gpt  # noqa: E402


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = os.path.abspath(sys.argv[1])
    mini = os.path.join(ROOT, "media", "models", "gpt2-mini")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        tok = os.path.join(tmp, "tok")
        os.makedirs(tok)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(mini, f), tok)
        vocab = 8192
        model = Gpt(vocab, h=768, layers=12, heads=12, max_pos=1024)
        export_gpt(model, tok, os.path.join(out, "gpt2-12x768"), os.path.join(tmp, "ref.json"),
                   {"lm_lens_note": "random weights: a speed benchmark model, not a language model"}, eos=vocab - 1)
    bert = os.path.join(out, "bert-mini")
    if not os.path.exists(bert):
        os.symlink(os.path.join(ROOT, "media", "models", "bert-mini"), bert)
    print(f"wrote {os.path.join(out, 'gpt2-12x768')}")


if __name__ == "__main__":
    main()
