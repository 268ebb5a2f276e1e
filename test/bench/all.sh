#!/usr/bin/env bash
# Every benchmark README's "Measured" table quotes, one after the other, each one's output in OUT/<name>.txt:
# generation three times, then the rest, then generation three times more (two spells of the machine's load), the
# pseudo-log-likelihood bench twice, the 12 x 768 synthetic GPT-2 (written to OUT/synth, about 360 MB, removed after),
# the slow fill of the e2e cancel step, and Continue Text's sampling settings compared (seeded: the same figures at any
# load). About 11 minutes on the 2-core machine with nothing else running; run it
# so, and state the load (OUT/load.txt has `uptime` before each bench).
# Usage: npm run build && bash test/bench/all.sh OUT
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: test/bench/all.sh OUT}
mkdir -p "$out"
: > "$out/load.txt"
bench() { # name, command...
  local name=$1; shift
  echo "$name: $(uptime)" >> "$out/load.txt"
  echo "bench: $name" >&2
  "$@" > "$out/$name.txt" 2>&1 || { echo "bench: $name failed (see $out/$name.txt)" >&2; return 1; }
}
for i in 1 2 3; do bench "generation-$i" node test/bench/generation.mjs; done
bench pll-1 node test/bench/pll.mjs
bench ghostText node test/bench/ghostText.mjs
bench hover node test/bench/hover.mjs
bench attention node test/bench/attention.mjs --runs 21  # its 5-run default spreads 8-42 ms on the synthetic model
bench lag node test/bench/lag.mjs
bench firstGeneration node test/bench/firstGeneration.mjs
bench firstHover node test/bench/firstHover.mjs
bench gc node test/bench/gc.mjs
for i in 4 5 6; do bench "generation-$i" node test/bench/generation.mjs; done
bench pll-2 node test/bench/pll.mjs
bench synth-build /usr/bin/python3 test/bench/synthetic_gpt2.py "$out/synth"
bench generation-synth node test/bench/generation.mjs --models-dir "$out/synth" --gpt2 gpt2-12x768 --runs 7  # 2-3 s a generation: its rounds spread 0.8x-1.5x (2026-12-07)
rm -rf "$out/synth"
bench slowFill node test/bench/slowFill.mjs
bench sampling node test/bench/sampling.mjs
echo "bench: done, outputs in $out" >&2
