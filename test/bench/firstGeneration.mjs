// The first generation in a fresh process (a benchmark that prints figures; not a test): what a user waits for the
// first ghost text after VS Code starts. Each run is a new Node process with an empty cache folder: the Engine's worker
// starts, loads the tokenizer and the ONNX session and generates --tokens tokens; a second request follows for
// comparison. Under the first request's median: the pages it touched first and its CPU time, user and system. A causal LM exported with its step outputs (`lm_lens_new.*`, gpt2-mini since 2026-12-04) is loaded as
// it is; one without them is first rewritten into the cache folder (src/engine/onnx/kvAppend.ts): pass such a model's
// folder (e.g. `git show 3502523:media/models/gpt2-mini/onnx/model.onnx` in a copy of media/models/gpt2-mini) with
// --models-dir to compare.
// Usage: npm run build && node test/bench/firstGeneration.mjs [--models-dir DIR] [--gpt2 ID] [--tokens 8] [--runs 5] [--json]
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchEngine, benchOptions, coldStartLine, freshProcessRuns, measured } from './common.mjs';

const values = benchOptions(5, { tokens: { type: 'string', default: '8' }, child: { type: 'boolean', default: false } });
const PROMPT = 'The President of the United';

if (values.child) {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'lm-lens-first-'));
  const engine = benchEngine(values['models-dir'], cacheDir);
  const tokens = Number(values.tokens);
  const request = { text: PROMPT, maxTokens: tokens, minTokens: tokens, model: values.gpt2 };
  const first = await measured(() => engine.generate(request));
  const started = performance.now();
  await engine.generate(request);
  const second = performance.now() - started;
  const copies = readdirSync(cacheDir).filter((f) => f.endsWith('.onnx')).length;
  console.log(JSON.stringify({ first: first.ms, firstFaults: first.faults, firstUserMs: first.userMs, firstSysMs: first.sysMs, second, copies }));
  await engine.dispose();
  rmSync(cacheDir, { recursive: true, force: true });
  process.exit(0);
}

const { runs, stats } = freshProcessRuns(import.meta.url, Number(values.runs));
const result = {
  model: values.gpt2,
  modelsDir: path.resolve(values['models-dir']),
  tokens: Number(values.tokens),
  runs: runs.length,
  rewrittenCopies: runs[0].copies,
  firstMs: stats('first'),
  secondMs: stats('second'),
  firstFaults: stats('firstFaults'),
  firstUserMs: stats('firstUserMs'),
  firstSysMs: stats('firstSysMs'),
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`${result.model} (${result.modelsDir}), ${result.tokens} tokens, ${result.runs} fresh processes, ${result.rewrittenCopies} rewritten cop${result.rewrittenCopies === 1 ? 'y' : 'ies'}`);
  console.log(`  first request  median ${result.firstMs.median.toFixed(0)} ms (min ${result.firstMs.min.toFixed(0)}, max ${result.firstMs.max.toFixed(0)})`);
  console.log(coldStartLine(stats, 'first'));
  console.log(`  second request median ${result.secondMs.median.toFixed(0)} ms (min ${result.secondMs.min.toFixed(0)}, max ${result.secondMs.max.toFixed(0)})`);
}
