// Garbage collections during generation (a benchmark that prints figures; not a test): --runs generations of --tokens
// greedy tokens through the Engine (worker, KV cache) in a child process run with `node --trace-gc`, whose lines
// (main thread and engine worker alike) are counted: V8's full mark-compacts stop the worker while they run. Load does
// not blur the counts much; the times it prints do.
// Usage: npm run build && node test/bench/gc.mjs [--models-dir DIR] [--gpt2 ID] [--tokens 128] [--runs 16] [--json]
//   Before 2026-12-04 ONNX Runtime handed each step's whole key/value cache back as new buffers; since then generation
//   fetches only the step's new keys and values (src/engine/onnx/kvAppend.ts; gpt2-mini exports them itself
//   since 2026-12-04). The first generation, which loads the model (and rewrites a model without them once into a
//   temporary cache folder), is left out of the counts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchEngine, benchOptions } from './common.mjs';

const values = benchOptions(16, { tokens: { type: 'string', default: '128' }, child: { type: 'boolean', default: false } });
const PROMPT = 'The dog barked at the mailman, and the cat';
const MARK = 'LM-LENS-GC-BENCH';

if (values.child) {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'lm-lens-gc-'));
  const engine = benchEngine(values['models-dir'], cacheDir);
  const tokens = Number(values.tokens);
  const request = { text: PROMPT, maxTokens: tokens, minTokens: tokens, model: values.gpt2 };
  await engine.generate(request); // load, JIT, rewrite
  console.log(`${MARK} start`);
  const ms = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const started = performance.now();
    await engine.generate(request);
    ms.push(performance.now() - started);
  }
  console.log(`${MARK} end ${JSON.stringify(ms)}`);
  await engine.dispose();
  rmSync(cacheDir, { recursive: true, force: true });
  process.exit(0);
}

const child = spawnSync(process.execPath, ['--trace-gc', new URL(import.meta.url).pathname, '--child', ...process.argv.slice(2)], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
if (child.status !== 0) {
  console.error(child.stderr || child.stdout);
  process.exit(1);
}
const lines = child.stdout.split('\n');
const from = lines.findIndex((l) => l.startsWith(`${MARK} start`));
const to = lines.findIndex((l) => l.startsWith(`${MARK} end`));
const counted = lines.slice(from + 1, to);
const pauses = (kind) => counted.filter((l) => l.includes(`: ${kind} `)).map((l) => Number(/, ([\d.]+) \/ [\d.]+ ms/.exec(l)?.[1] ?? 0));
const ms = JSON.parse(lines[to].slice(`${MARK} end `.length));
const sorted = [...ms].sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
const markCompact = pauses('Mark-Compact');
const scavenge = pauses('Scavenge');
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const result = {
  model: values.gpt2,
  generations: ms.length,
  tokens: Number(values.tokens),
  markCompacts: markCompact.length,
  markCompactMs: Number(sum(markCompact).toFixed(1)),
  scavenges: scavenge.length,
  scavengeMs: Number(sum(scavenge).toFixed(1)),
  medianGenerationMs: Number(median.toFixed(1)),
  tokensPerSecond: Number(((Number(values.tokens) * 1000) / median).toFixed(1)),
  load: os.loadavg()[0],
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`${result.generations} generations of ${result.tokens} tokens, ${result.model} (load ${result.load.toFixed(2)})`);
  console.log(`  mark-compacts ${result.markCompacts} (${result.markCompactMs} ms in all), scavenges ${result.scavenges} (${result.scavengeMs} ms)`);
  console.log(`  median generation ${result.medianGenerationMs} ms = ${result.tokensPerSecond} tokens/s`);
}
