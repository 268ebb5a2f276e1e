// Generation and fill-mask speed (a benchmark that prints a table; not a test):
//   1. 128-token greedy generation through the Engine (worker): tokens/s with the KV cache against --no-cache
//      (full recompute every token), and time to the first token;
//   2. the same ONNX model folders run by transformers.js (@huggingface/transformers, local files only,
//      remote models off): its text-generation and fill-mask pipelines against ours, in one run;
//   3. fill-mask end to end (Engine: tokenize, worker round trip, post-process) against the raw session.run
//      of the same feeds (onnxruntime-node on this thread).
// Every timing is the median of --runs runs after one warm-up. ONNX Runtime uses one intra-op thread on
// both sides (the engine's default; transformers.js is told so) so the comparison is like for like.
// Usage: npm run build && node test/bench/generation.mjs [--models-dir DIR] [--tokens 128] [--runs 3] [--json]
//   DIR defaults to media/models, else training/work-smoke/models (untrained smoke builds: speed only).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { values } = parseArgs({
  options: {
    'models-dir': { type: 'string' },
    tokens: { type: 'string', default: '128' },
    runs: { type: 'string', default: '3' },
    gpt2: { type: 'string', default: 'gpt2-mini' },
    bert: { type: 'string', default: 'bert-mini' },
    json: { type: 'boolean', default: false },
  },
});
const TOKENS = Number(values.tokens);
const RUNS = Number(values.runs);
const GPT2 = values.gpt2;
const BERT = values.bert;
const PROMPT = 'The dog barked at the mailman, and the cat';
const FILL_TEXT = 'The [MASK] barked at the mailman.';

function pickModelsDir() {
  if (values['models-dir']) return path.resolve(values['models-dir']);
  for (const dir of [path.join(root, 'media', 'models'), path.join(root, 'training', 'work-smoke', 'models')]) {
    if (existsSync(path.join(dir, GPT2, 'onnx', 'model.onnx')) && existsSync(path.join(dir, BERT, 'onnx', 'model.onnx'))) return dir;
  }
  throw new Error(`no ${GPT2} and ${BERT} in media/models or training/work-smoke/models: pass --models-dir`);
}
const modelsDir = pickModelsDir();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
async function timed(runs, fn) {
  await fn(); // warm-up: session load, JIT
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await fn());
  return results;
}

const rows = [];
const notes = [];
const row = (section, what, value, unit, detail = '') => rows.push({ section, what, value, unit, detail });
const fixed = (x, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? Number(x.toFixed(d)) : x);

// ---- 1. ours: generation with and without the cache ----------------------------------------------------------
const { Engine, modelDirectories } = require(path.join(root, 'dist', 'engine.js'));
const engine = new Engine({ modelDirectories: modelDirectories(modelsDir), workerPath: path.join(root, 'dist', 'worker.js'), threads: 1 });

async function oursGenerate(noCache) {
  const started = performance.now();
  let firstPiece;
  const result = await engine.generate(
    { text: PROMPT, maxTokens: TOKENS, minTokens: TOKENS, noCache, model: GPT2 },
    undefined,
    () => (firstPiece ??= performance.now() - started),
  );
  return { ...result, wallMs: performance.now() - started, firstPieceMs: firstPiece };
}

let oursCompletion;
const speeds = {};
for (const noCache of [false, true]) {
  const runs = await timed(RUNS, () => oursGenerate(noCache));
  const label = noCache ? 'no cache (full recompute)' : 'KV cache';
  const tps = median(runs.map((r) => r.tokensPerSecond));
  speeds[noCache ? 'noCache' : 'cache'] = tps;
  row('ours: generate', `${label}: tokens/s`, fixed(tps), 'tok/s', `${runs[0].tokens} tokens, prompt ${runs[0].promptTokens}`);
  row('ours: generate', `${label}: first token (worker)`, fixed(median(runs.map((r) => r.firstTokenMs)), 2), 'ms');
  row('ours: generate', `${label}: first text at the caller`, fixed(median(runs.map((r) => r.firstPieceMs)), 2), 'ms');
  row('ours: generate', `${label}: ${TOKENS} tokens end to end`, fixed(median(runs.map((r) => r.wallMs))), 'ms');
  if (!noCache) oursCompletion = runs[0].completion;
  else if (runs[0].completion !== oursCompletion) notes.push('!! greedy output with and without the cache DIFFERS');
  else notes.push('greedy output with and without the cache is identical');
}
row('ours: generate', 'cache speed-up (tokens/s ratio)', fixed(speeds.cache / speeds.noCache, 2), 'x');

// ---- 3. fill-mask: ours end to end vs raw session.run -------------------------------------------------------
const fillRuns = await timed(Math.max(RUNS, 10), async () => {
  const started = performance.now();
  const result = await engine.fill({ text: FILL_TEXT, topK: 5, model: BERT });
  return { wall: performance.now() - started, ...result.timings, top: result.masks[0].predictions };
});
row('ours: fill-mask', 'end to end (Engine.fill, worker round trip)', fixed(median(fillRuns.map((r) => r.wall)), 2), 'ms');
row('ours: fill-mask', 'inside the worker (tokenize + run + post-process)', fixed(median(fillRuns.map((r) => r.totalMs)), 2), 'ms');
row('ours: fill-mask', 'of which session.run', fixed(median(fillRuns.map((r) => r.runMs)), 2), 'ms');

const ort = require('onnxruntime-node');
const { Tokenizer } = require('@huggingface/tokenizers');
{
  const folder = path.join(modelsDir, BERT);
  const tokenizer = new Tokenizer(JSON.parse(readFileSync(path.join(folder, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(path.join(folder, 'tokenizer_config.json'), 'utf8')));
  const session = await ort.InferenceSession.create(path.join(folder, 'onnx', 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const ids = tokenizer.encode(FILL_TEXT).ids;
  const t = (v) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), [1, ids.length]);
  const feeds = { input_ids: t(ids) };
  if (session.inputNames.includes('attention_mask')) feeds.attention_mask = t(ids.map(() => 1));
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = t(ids.map(() => 0));
  const raw = await timed(Math.max(RUNS, 10), async () => {
    const started = performance.now();
    await session.run(feeds, ['logits']);
    return performance.now() - started;
  });
  row('raw ORT: fill-mask', 'session.run only (this thread, same feeds)', fixed(median(raw), 2), 'ms', `${ids.length} tokens`);
}

// ---- 2. transformers.js on the same folders ------------------------------------------------------------------
let tjs;
try {
  tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = modelsDir + path.sep;
} catch (error) {
  notes.push(`transformers.js could not be imported: ${error.message}`);
}
if (tjs) {
  const options = { dtype: 'fp32', device: 'cpu', session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 } };
  try {
    const loadStarted = performance.now();
    const generator = await tjs.pipeline('text-generation', GPT2, options);
    row('transformers.js: text-generation', 'pipeline load', fixed(performance.now() - loadStarted), 'ms');
    const run = async (n) => {
      const started = performance.now();
      const [out] = await generator(PROMPT, { max_new_tokens: n, min_new_tokens: n, do_sample: false, return_full_text: false });
      return { ms: performance.now() - started, text: out.generated_text };
    };
    const full = await timed(RUNS, () => run(TOKENS));
    const first = await timed(RUNS, () => run(1));
    const ms = median(full.map((r) => r.ms));
    row('transformers.js: text-generation', `${TOKENS} tokens: tokens/s`, fixed(TOKENS / (ms / 1000)), 'tok/s', 'max_new_tokens = min_new_tokens');
    row('transformers.js: text-generation', `${TOKENS} tokens end to end`, fixed(ms), 'ms');
    row('transformers.js: text-generation', 'first token (a 1-token generation)', fixed(median(first.map((r) => r.ms)), 2), 'ms');
    notes.push(
      full[0].text === oursCompletion
        ? 'transformers.js greedy text == ours (same tokens)'
        : `transformers.js greedy text differs from ours: ${JSON.stringify(full[0].text.slice(0, 60))} vs ${JSON.stringify(oursCompletion.slice(0, 60))}`,
    );
  } catch (error) {
    notes.push(`transformers.js text-generation could not load or run ${GPT2}: ${error.message}`);
  }
  try {
    const loadStarted = performance.now();
    const unmasker = await tjs.pipeline('fill-mask', BERT, options);
    row('transformers.js: fill-mask', 'pipeline load', fixed(performance.now() - loadStarted), 'ms');
    const runs = await timed(Math.max(RUNS, 10), async () => {
      const started = performance.now();
      const out = await unmasker(FILL_TEXT, { top_k: 5 });
      return { ms: performance.now() - started, out };
    });
    row('transformers.js: fill-mask', 'end to end (same thread, no worker)', fixed(median(runs.map((r) => r.ms)), 2), 'ms');
    const theirs = runs[0].out[0];
    const ours = fillRuns[0].top[0];
    notes.push(
      `fill-mask top-1: transformers.js ${JSON.stringify(theirs.token_str)} ${theirs.score.toFixed(5)}, ours ${JSON.stringify(ours.token)} ${ours.score.toFixed(5)}` +
        ' (ours skips "##" word pieces: a mask stands for a whole word)',
    );
  } catch (error) {
    notes.push(`transformers.js fill-mask could not load or run ${BERT}: ${error.message}`);
  }
}
await engine.dispose();

// ---- report --------------------------------------------------------------------------------------------------
const header = `models: ${modelsDir} (${GPT2}, ${BERT}); ${TOKENS} tokens; median of ${RUNS}+ runs; node ${process.version}; ` +
  `${os.cpus().length} cpu(s) ${os.cpus()[0]?.model ?? ''}; load ${os.loadavg()[0].toFixed(2)}`;
if (values.json) {
  console.log(JSON.stringify({ header, rows, notes }, null, 2));
} else {
  console.log(header + '\n');
  const widths = [34, 52, 10, 6];
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join(' | ').trimEnd();
  console.log(line(['section', 'measure', 'value', 'unit']) + ' | detail');
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-') + '-|-------');
  for (const r of rows) console.log(`${line([r.section, r.what, r.value, r.unit])} | ${r.detail}`);
  console.log('');
  for (const n of notes) console.log(`- ${n}`);
}
