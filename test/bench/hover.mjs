// Hover latency (a benchmark that prints a table; not a test). What the hover does for the word "bank" in the
// middle of a 20-, 100- and 500-word paragraph: find the sentence window (wordContextAt), then engine.sense with
// details (ELMo, and BERT when the shipped scorer listens to it, in the worker; WordNet, GloVe, scorer, neighbours). p50/p95 over --runs runs after
// --warmup hovers per row (V8 optimises the worker's scans only after some calls: the first hovers of a session
// are slower, steady state is what a reader lingering over a text meets), and the engine's end-to-end time against the raw session.run time of the same feeds of the models the hover ran (ELMo; BERT only if it ran) on
// this thread (onnxruntime-node, one intra-op thread like the engine's default): the rest is our overhead.
// Usage: npm run build && node test/bench/hover.mjs [--models-dir DIR]... [--runs 30] [--warmup 10] [--json]
//   DIR defaults to media/models (then training/work-smoke/models for models missing there: speed only).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { requireTs } from '../requireTs.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { values } = parseArgs({
  options: {
    'models-dir': { type: 'string', multiple: true },
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '10' },
    elmo: { type: 'string', default: 'elmo-mini' },
    bert: { type: 'string', default: 'bert-mini' },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const WARMUP = Math.max(1, Number(values.warmup));
const dirs = values['models-dir']?.length
  ? values['models-dir'].map((d) => path.resolve(d))
  : [path.join(root, 'media', 'models'), path.join(root, 'training', 'work-smoke', 'models')].filter(existsSync);

// the pure TypeScript the hover runs before the engine, bundled for this script
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lm-lens-bench-'));
const H = await requireTs(root, path.join(tmp, 'helper.cjs'), {
  './src/features/hover/wordContext': ['wordContextAt'],
  './src/engine/models/elmo': ['elmoFeeds', 'parseElmoConfig'],
  './src/engine/tokenizer': ['loadTokenizer'],
});
const { Engine, modelDirectories } = require(path.join(root, 'dist', 'engine.js'));
const ort = require('onnxruntime-node');

const engine = new Engine({ modelDirectories: modelDirectories(dirs[0], dirs.slice(1)), workerPath: path.join(root, 'dist', 'worker.js') });
const models = await engine.listModels();
const elmo = models.find((m) => m.id === values.elmo);
const bert = models.find((m) => m.id === values.bert);
if (!elmo) throw new Error(`no ${values.elmo} in ${dirs.join(', ')}`);

const FILLER = ('the old town lay along a slow river where people walked in the evening and talked about the ' +
  'weather the harvest the prices at the market and the news from the city across the hills').split(' ');
/** A paragraph of `n` words with "bank" in the middle, wrapped at ~80 columns like prose in an editor. */
function paragraph(n, target = 'bank') {
  const words = Array.from({ length: n }, (_, i) => FILLER[i % FILLER.length]);
  words[Math.floor(n / 2)] = target;
  const lines = [];
  let line = '';
  for (const w of words) {
    if (line.length + w.length + 1 > 80) { lines.push(line); line = ''; }
    line += (line ? ' ' : '') + w;
  }
  lines.push(line + '.');
  const at = lines.findIndex((l) => ` ${l} `.includes(` ${target} `));
  return { lines, line: at, character: ` ${lines[at]} `.indexOf(` ${target} `) };
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

async function rawRunner() {
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  const elmoSession = await ort.InferenceSession.create(path.join(elmo.path, 'onnx', 'model.onnx'), opts);
  const elmoConfig = H.parseElmoConfig(JSON.parse(readFileSync(path.join(elmo.path, 'config.json'), 'utf8')), elmo.path);
  const bertSession = bert ? await ort.InferenceSession.create(path.join(bert.path, 'onnx', 'model.onnx'), opts) : undefined;
  const tokenizer = bert ? await H.loadTokenizer(bert.path) : undefined;
  const toOrt = (feeds) => Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type, t.data, t.dims)]));
  return async (words, text, { withBert }) => {
    const t0 = performance.now();
    await elmoSession.run(toOrt(H.elmoFeeds(words, elmoConfig)), ['hidden_states']);
    const t1 = performance.now();
    let t2 = t1;
    if (bertSession && withBert) {
      const ids = tokenizer.encode(text).ids.slice(0, 128);
      const n = ids.length;
      const i64 = (a) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, n]);
      const feeds = { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)) };
      if (bertSession.inputNames.includes('token_type_ids')) feeds.token_type_ids = i64(ids.map(() => 0));
      await bertSession.run(feeds, ['hidden_states']);
      t2 = performance.now();
    }
    return { elmo: t1 - t0, bert: t2 - t1 };
  };
}

const raw = await rawRunner();
// Words hovered once each (the "new word" row): nothing about them is cached yet (WordNet synsets, static
// neighbours); the other rows hover "bank" again and again, as a reader lingering on one word does.
const NEW_WORDS = ('bar bass bat bear bill board bolt bow box cap case cell charge club court crane date deck draft drill ' +
  'fair fan file firm fly game glass ground jam key kind lead letter light line match mine mint nail note novel palm park ' +
  'pitch plant play pool press pupil race range rock root row ruler saw scale seal season sink slip spring staff star ' +
  'stick story suit table tie tip train trunk wave well yard').split(' ');
const table = [];
for (const [n, fresh] of [[20, false], [20, true], [100, false], [500, false]]) {
  if (fresh && RUNS + WARMUP > NEW_WORDS.length) throw new Error(`--runs + --warmup: at most ${NEW_WORDS.length} with the new-word row`);
  let p = paragraph(n);
  const times = [];
  const rawTimes = [];
  const contextTimes = [];
  let result;
  let ranBert = false;
  for (let r = -WARMUP; r < RUNS; r++) {
    if (fresh) p = paragraph(n, NEW_WORDS[r + WARMUP]);
    const source = { lineCount: p.lines.length, lineAt: (i) => p.lines[i] };
    const t0 = performance.now();
    const ctx = H.wordContextAt(source, p.line, p.character + 1, 'prose');
    const t1 = performance.now();
    result = await engine.senses.sense({ text: ctx.text, word: ctx.word, occurrence: ctx.occurrence, details: true }, undefined, {
      elmo: elmo.id, ...(bert ? { bert: bert.id } : {}),
    });
    const t2 = performance.now();
    const words = result.details.tokens;
    ranBert = result.models.bert !== undefined; // the sense runs BERT only for a scorer that listens to it
    const rr = await raw(words, ctx.text, { withBert: ranBert });
    if (r < 0) continue; // warm-up
    contextTimes.push(t1 - t0);
    times.push(t2 - t0);
    rawTimes.push(rr.elmo + rr.bert);
  }
  table.push({
    words: n,
    fresh,
    windowWords: result.details.tokens.length,
    ran: ranBert ? 'ELMo + BERT' : 'ELMo',
    contextMs: pct(contextTimes, 50),
    p50: pct(times, 50),
    p95: pct(times, 95),
    rawRunP50: pct(rawTimes, 50),
    ratio: pct(times, 50) / pct(rawTimes, 50),
    sense: `${result.senseKey} (${result.method}, ${result.score})`,
  });
}
await engine.dispose();
rmSync(tmp, { recursive: true, force: true });

if (values.json) {
  console.log(JSON.stringify({ models: { elmo: elmo.path, bert: bert?.path }, runs: RUNS, warmup: WARMUP, table }, null, 1));
} else {
  console.log(`hover latency: engine.sense with details, ${RUNS} runs each (after ${WARMUP} warm-up hovers); node ${process.version}, ${os.cpus().length} cores`);
  console.log(`models: ${elmo.path}${bert ? `, ${bert.path}` : ''}`);
  console.log('| paragraph | words the models see | find sentence | hover p50 | hover p95 | raw session.run p50 (models the hover ran) | end-to-end / raw |');
  console.log('|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of table) {
    console.log(`| ${r.words} words${r.fresh ? ', a new word each hover' : ''} | ${r.windowWords} | ${r.contextMs.toFixed(2)} ms | ${r.p50.toFixed(1)} ms | ${r.p95.toFixed(1)} ms | ${r.rawRunP50.toFixed(1)} ms (${r.ran}) | ${r.ratio.toFixed(2)}x |`);
  }
  console.log(`sense chosen: ${table.map((r) => r.sense).join(' · ')}`);
}
