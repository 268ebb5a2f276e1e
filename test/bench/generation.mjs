// Generation and fill-mask speed (a benchmark that prints a table; not a test):
//   1. 128-token greedy generation through the Engine (worker): tokens/s with the KV cache against --no-cache
//      (full recompute every token), a sampled run (temperature, top-p), and time to the first token; beside it
//      a bare ONNX Runtime decode loop on this thread (the physical limit) and transformers.js, all interleaved
//      round by round; ratio rows "ours / transformers.js" and "ours / bare ORT";
//   2. the same ONNX model folders run by transformers.js (@huggingface/transformers, local files only,
//      remote models off): its text-generation and fill-mask pipelines against ours, in one run;
//   3. fill-mask end to end (Engine: tokenize, worker round trip, post-process) against the raw session.run
//      of the same feeds (onnxruntime-node on this thread).
// Every timing is the median of --runs runs after one warm-up; a generation ratio is the median of the rounds'
// ratios. ONNX Runtime uses one intra-op thread on both sides (the engine's default; transformers.js is told so) so
// the comparison is like for like.
// Usage: npm run build && node test/bench/generation.mjs [--models-dir DIR] [--gpt2 ID] [--tokens 128] [--runs 15] [--json]
//   A 12-layer GPT-2-sized model (random weights, speed only): /usr/bin/python3 test/bench/synthetic_gpt2.py DIR,
//   then --models-dir DIR --gpt2 gpt2-12x768 (DIR also needs a bert-mini folder: the script links it).
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
    // 15 rounds: a 128-token generation of gpt2-mini takes about 0.2 s, and on this shared 2-core host single rounds'
    // ratios spread 0.5x-3.2x, so with the 7 rounds used before 2026-12-07 a run's median was decided by a few noisy
    // rounds (the 1.25x target met in 6 of 9 runs, 1.04x-2.19x, in one idle spell)
    runs: { type: 'string', default: '15' },
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
/** Tokens per second of a run of TOKENS tokens that took `ms` (a median). */
const perSecond = (ms) => TOKENS / (ms / 1000);

// ---- 1. ours: generation with and without the cache ----------------------------------------------------------
const { Engine, modelDirectories } = require(path.join(root, 'dist', 'engine.js'));
const engine = new Engine({ modelDirectories: modelDirectories(modelsDir), workerPath: path.join(root, 'dist', 'worker.js'), threads: 1 });

async function oursGenerate(noCache, sampling = {}) {
  const started = performance.now();
  let firstPiece;
  const result = await engine.generate(
    { text: PROMPT, maxTokens: TOKENS, minTokens: TOKENS, noCache, model: GPT2, ...sampling },
    undefined,
    () => (firstPiece ??= performance.now() - started),
  );
  return { ...result, wallMs: performance.now() - started, firstPieceMs: firstPiece };
}

// ---- 1b. the bare ORT decode loop: the physical limit for this model -------------------------------------------
// onnxruntime-node on this thread with the same feeds the engine builds (input_ids, attention_mask, position_ids,
// past_key_values.* from the previous step's present.*), greedy argmax in JS, nothing else: no worker, no
// tokenizer in the loop, no streaming.
const ort = require('onnxruntime-node');
const { Tokenizer } = require('@huggingface/tokenizers');
const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
const loadTokenizer = (folder) =>
  new Tokenizer(JSON.parse(readFileSync(path.join(folder, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(path.join(folder, 'tokenizer_config.json'), 'utf8')));

async function bareLoop(folder) {
  const config = JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8'));
  const session = await ort.InferenceSession.create(path.join(folder, 'onnx', 'model.onnx'), SESSION_OPTIONS);
  const prompt = loadTokenizer(folder).encode(PROMPT).ids;
  const pasts = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const fetches = ['logits', ...pasts.map((n) => n.replace('past_key_values.', 'present.'))];
  const heads = config.n_head ?? config.num_attention_heads;
  const headDim = (config.n_embd ?? config.hidden_size) / heads;
  const empty = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
  // never end-of-text, as ours (minTokens) and transformers.js (min_new_tokens) are told: all three make TOKENS tokens
  const eos = new Set([config.eos_token_id ?? []].flat());
  return async () => {
    const started = performance.now();
    let ids = prompt;
    let past;
    let pastLength = 0;
    const out = [];
    for (let step = 0; step < TOKENS; step++) {
      const t = ids.length;
      const feeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, t]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLength + t).fill(1n), [1, pastLength + t]),
      };
      if (session.inputNames.includes('position_ids')) {
        feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: t }, (_, j) => BigInt(pastLength + j)), [1, t]);
      }
      for (const name of pasts) feeds[name] = past ? past[name.replace('past_key_values.', 'present.')] : empty;
      const result = await session.run(feeds, fetches);
      const logits = result.logits.data;
      const vocab = result.logits.dims[2];
      const off = (t - 1) * vocab;
      let best = eos.has(0) ? 1 : 0;
      for (let v = best + 1; v < vocab; v++) if (logits[off + v] > logits[off + best] && !eos.has(v)) best = v;
      out.push(best);
      past = result;
      pastLength += t;
      ids = [best];
    }
    return { ms: performance.now() - started, ids: out, prompt };
  };
}

// ---- 1c. transformers.js text-generation on the same folder ----------------------------------------------------
let tjs;
try {
  tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = modelsDir + path.sep;
} catch (error) {
  notes.push(`transformers.js could not be imported: ${error.message}`);
}
const TJS_OPTIONS = { dtype: 'fp32', device: 'cpu', session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 } };

// The contenders run interleaved (one run of each per round, after a warm-up of each), so a machine whose load
// drifts during the benchmark slows them alike. The three that the ratios compare (ours with the cache, the bare
// loop, transformers.js) run back to back, in reverse order every other round, and each ratio is taken within a
// round and then the median over the rounds: on this shared host the same code ran at 401 and 844 tokens/s ten
// minutes apart (2026-12-05), and a ratio of two medians taken over different rounds mixed such spells.
const contenders = {
  cache: () => oursGenerate(false),
  bare: await bareLoop(path.join(modelsDir, GPT2)),
};
const others = {
  noCache: () => oursGenerate(true),
  sampled: () => oursGenerate(false, { temperature: 0.8, topP: 0.95, seed: 1 }),
};
if (tjs) {
  try {
    const loadStarted = performance.now();
    const generator = await tjs.pipeline('text-generation', GPT2, TJS_OPTIONS);
    row('transformers.js: text-generation', 'pipeline load', fixed(performance.now() - loadStarted), 'ms');
    contenders.tjs = async () => {
      const started = performance.now();
      const [out] = await generator(PROMPT, { max_new_tokens: TOKENS, min_new_tokens: TOKENS, do_sample: false, return_full_text: false });
      return { ms: performance.now() - started, text: out.generated_text };
    };
    others.tjsFirst = async () => {
      const started = performance.now();
      await generator(PROMPT, { max_new_tokens: 1, min_new_tokens: 1, do_sample: false, return_full_text: false });
      return { ms: performance.now() - started };
    };
  } catch (error) {
    notes.push(`transformers.js text-generation could not load or run ${GPT2}: ${error.message}`);
  }
}
const results = Object.fromEntries([...Object.keys(contenders), ...Object.keys(others)].map((k) => [k, []]));
for (let round = -1; round < RUNS; round++) {
  const paired = Object.entries(contenders);
  for (const [name, run] of [...(round % 2 ? paired.reverse() : paired), ...Object.entries(others)]) {
    const r = await run();
    if (round >= 0) results[name].push(r);
  }
}

const speeds = {};
let oursCompletion;
for (const [key, label] of [['cache', 'KV cache'], ['noCache', 'no cache (full recompute)'], ['sampled', 'KV cache, sampled (T 0.8, top-p 0.95)']]) {
  const runs = results[key];
  const tps = median(runs.map((r) => r.tokensPerSecond));
  speeds[key] = tps;
  row('ours: generate', `${label}: tokens/s`, fixed(tps), 'tok/s', `${runs[0].tokens} tokens, prompt ${runs[0].promptTokens}`);
  if (key === 'sampled') continue;
  row('ours: generate', `${label}: first token (worker)`, fixed(median(runs.map((r) => r.firstTokenMs)), 2), 'ms');
  row('ours: generate', `${label}: first text at the caller`, fixed(median(runs.map((r) => r.firstPieceMs)), 2), 'ms');
  row('ours: generate', `${label}: ${TOKENS} tokens end to end`, fixed(median(runs.map((r) => r.wallMs))), 'ms');
  if (key === 'cache') oursCompletion = runs[0].completion;
  else if (runs[0].completion !== oursCompletion) notes.push('!! greedy output with and without the cache DIFFERS');
  else notes.push('greedy output with and without the cache is identical');
}
row('ours: generate', 'cache speed-up (tokens/s ratio)', fixed(speeds.cache / speeds.noCache, 2), 'x');

const bareMs = median(results.bare.map((r) => r.ms));
speeds.bare = perSecond(bareMs);
row('bare ORT: generate', `${TOKENS} tokens, KV cache, greedy: tokens/s`, fixed(speeds.bare), 'tok/s', 'onnxruntime-node on this thread, same feeds');
const oursMs = median(results.cache.map((r) => r.wallMs));
// the rows above count tokens/s in the worker; this one is the caller's, on the same footing as the bare loop's and
// transformers.js's rows (their ratio is the detail column's "ratio of the medians", not the rounds' median ratio)
row('ours: generate', 'KV cache, at the caller (worker round trip, streaming): tokens/s', fixed(perSecond(oursMs)), 'tok/s', 'the same runs timed end to end; compare with the rows below');
const gptTokenizer = loadTokenizer(path.join(modelsDir, GPT2));
const { ids: bareIds, prompt: barePrompt } = results.bare[0];
const bareText = gptTokenizer.decode([...barePrompt, ...bareIds]).slice(gptTokenizer.decode(barePrompt).length);
notes.push(
  bareText === oursCompletion
    ? 'bare ORT loop greedy text == ours'
    : '!! bare ORT loop greedy text differs from ours',
);
if (results.tjs) {
  const ms = median(results.tjs.map((r) => r.ms));
  speeds.tjs = perSecond(ms);
  row('transformers.js: text-generation', `${TOKENS} tokens: tokens/s`, fixed(speeds.tjs), 'tok/s', 'max_new_tokens = min_new_tokens');
  row('transformers.js: text-generation', `${TOKENS} tokens end to end`, fixed(ms), 'ms');
  row('transformers.js: text-generation', 'first token (a 1-token generation)', fixed(median(results.tjsFirst.map((r) => r.ms)), 2), 'ms');
  notes.push(
    results.tjs[0].text === oursCompletion
      ? 'transformers.js greedy text == ours (same tokens)'
      : `transformers.js greedy text differs from ours: ${JSON.stringify(results.tjs[0].text.slice(0, 60))} vs ${JSON.stringify(oursCompletion.slice(0, 60))}`,
  );
}
// ratios of end-to-end speed (the caller's wall time for ours, so the worker round trip and streaming count): each
// round's ratio (same load), then their median, with the spread over the rounds in the detail column
function ratioRow(what, theirs, target) {
  const perRound = results.cache.map((r, i) => theirs[i].ms / r.wallMs);
  const met = perRound.filter((ratio) => ratio >= target).length;
  const spread = `${RUNS} rounds: min ${Math.min(...perRound).toFixed(2)}, max ${Math.max(...perRound).toFixed(2)}, ${met} at or over the target; ratio of the medians ${(median(theirs.map((r) => r.ms)) / oursMs).toFixed(2)}`;
  row('ratio', what, fixed(median(perRound), 2), 'x', `target >= ${target}; median of the rounds' ratios (${spread})`);
}
if (results.tjs) ratioRow('generation: ours / transformers.js (tokens/s, end to end)', results.tjs, 1.25);
ratioRow('generation: ours / bare ORT (tokens/s, end to end)', results.bare, 0.9);

// ---- 3. fill-mask: ours end to end vs raw session.run -------------------------------------------------------
const fillRuns = await timed(Math.max(RUNS, 10), async () => {
  const started = performance.now();
  const result = await engine.fill({ text: FILL_TEXT, topK: 5, model: BERT });
  return { wall: performance.now() - started, ...result.timings, top: result.masks[0].predictions };
});
const oursFillMs = median(fillRuns.map((r) => r.wall));
row('ours: fill-mask', 'end to end (Engine.fill, worker round trip)', fixed(oursFillMs, 2), 'ms');
row('ours: fill-mask', 'inside the worker (tokenize + run + post-process)', fixed(median(fillRuns.map((r) => r.totalMs)), 2), 'ms');
row('ours: fill-mask', 'of which session.run', fixed(median(fillRuns.map((r) => r.runMs)), 2), 'ms');

let rawFillMs;
{
  const folder = path.join(modelsDir, BERT);
  const tokenizer = loadTokenizer(folder);
  const session = await ort.InferenceSession.create(path.join(folder, 'onnx', 'model.onnx'), SESSION_OPTIONS);
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
  rawFillMs = median(raw);
  row('raw ORT: fill-mask', 'session.run only (this thread, same feeds)', fixed(rawFillMs, 2), 'ms', `${ids.length} tokens`);
  row('ratio', 'fill-mask: ours end to end / bare session.run (time)', fixed(oursFillMs / rawFillMs, 2), 'x');
}

// ---- 2. transformers.js fill-mask on the same folder ----------------------------------------------------------
if (tjs) {
  try {
    const loadStarted = performance.now();
    const unmasker = await tjs.pipeline('fill-mask', BERT, TJS_OPTIONS);
    row('transformers.js: fill-mask', 'pipeline load', fixed(performance.now() - loadStarted), 'ms');
    const runs = await timed(Math.max(RUNS, 10), async () => {
      const started = performance.now();
      const out = await unmasker(FILL_TEXT, { top_k: 5 });
      return { ms: performance.now() - started, out };
    });
    const tjsFillMs = median(runs.map((r) => r.ms));
    row('transformers.js: fill-mask', 'end to end (same thread, no worker)', fixed(tjsFillMs, 2), 'ms');
    row('ratio', 'fill-mask: ours / transformers.js (speed, end to end)', fixed(tjsFillMs / oursFillMs, 2), 'x');
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
