// Attention view speed (a benchmark that prints a table; not a test): the time from a request to data the webview
// can draw, i.e. Engine.attention (tokenize, worker round trip, session.run, collecting [layer][head][q][k]) plus
// building what is posted to the webview (the summary and the first head's weights, quantised), for
//   - the shipped bert-mini and gpt2-mini at 32 and 128 tokens (each from media/models, else its untrained smoke
//     build in training/work-smoke/models: speed only), and
//   - a synthetic 12-layer x 12-head model at 128 tokens (a hand-built ONNX graph of 144 softmaxes with the
//     outputs of a BERT-base-sized model; the model runs almost no compute, so this measures the plumbing).
// Not included: the 200 ms pause after the cursor stops (by design), and the webview's drawing.
// Every timing is the median of --runs runs after one warm-up; ONNX Runtime uses one intra-op thread.
// Usage: npm run build && node test/bench/attention.mjs [--models-dir DIR] [--runs 5] [--json]
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { requireTs } from '../requireTs.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { values } = parseArgs({
  options: { 'models-dir': { type: 'string' }, runs: { type: 'string', default: '5' }, json: { type: 'boolean', default: false } },
});
const RUNS = Number(values.runs);

const SHIPPED = path.join(root, 'media', 'models');
const SMOKE = path.join(root, 'training', 'work-smoke', 'models');
/** Where each model is: --models-dir, else media/models, else the smoke builds. */
function folderOf(id) {
  const dirs = values['models-dir'] ? [path.resolve(values['models-dir'])] : [SHIPPED, SMOKE];
  return dirs.find((dir) => existsSync(path.join(dir, id, 'onnx', 'model.onnx')));
}
const bertDir = folderOf('bert-mini');
if (!bertDir) throw new Error('no bert-mini in media/models or training/work-smoke/models (give --models-dir)');

// the engine (dist/engine.js) and, bundled here, the host's payload builders and the test ONNX writer
if (!existsSync(path.join(root, 'dist', 'engine.js'))) throw new Error('run npm run build first');
const { Engine, modelDirectories } = require(path.join(root, 'dist', 'engine.js'));
const { readySummary, headsPayload, thumbnailsPayload, encodeModel, FLOAT, INT64 } = await requireTs(
  root, path.join(root, 'out', 'bench', 'attention-lib.cjs'), {
    './src/features/attention/attentionPayload': ['readySummary', 'headsPayload', 'thumbnailsPayload'],
    './test/unit/helpers/onnxWriter': ['encodeModel', 'FLOAT', 'INT64'],
  });

/** A BERT-shaped graph with `layers` x `heads` attention outputs: softmax(scale_lh * ids ⊗ ids), stacked. */
function syntheticModel(layers, heads) {
  const nodes = [
    { op: 'Cast', inputs: ['input_ids'], outputs: ['x'], attributes: [{ name: 'to', i: FLOAT }] },
    { op: 'Unsqueeze', inputs: ['x', 'ax2'], outputs: ['col'] },
    { op: 'Unsqueeze', inputs: ['x', 'ax1'], outputs: ['row'] },
    { op: 'Mul', inputs: ['col', 'row'], outputs: ['outer'] },
  ];
  const initializers = [
    { name: 'ax0', dims: [1], int64: [0] },
    { name: 'ax1', dims: [1], int64: [1] },
    { name: 'ax2', dims: [1], int64: [2] },
  ];
  const stacked = [];
  for (let l = 0; l < layers; l++) {
    const perHead = [];
    for (let h = 0; h < heads; h++) {
      initializers.push({ name: `s${l}_${h}`, dims: [], float: [((l + 1) * (h + 1)) / 20000] });
      nodes.push(
        { op: 'Mul', inputs: ['outer', `s${l}_${h}`], outputs: [`a${l}_${h}`] },
        { op: 'Softmax', inputs: [`a${l}_${h}`], outputs: [`p${l}_${h}`], attributes: [{ name: 'axis', i: 2 }] },
        { op: 'Unsqueeze', inputs: [`p${l}_${h}`, 'ax1'], outputs: [`u${l}_${h}`] },
      );
      perHead.push(`u${l}_${h}`);
    }
    nodes.push(
      { op: 'Concat', inputs: perHead, outputs: [`layer${l}`], attributes: [{ name: 'axis', i: 1 }] },
      { op: 'Unsqueeze', inputs: [`layer${l}`, 'ax0'], outputs: [`st${l}`] },
    );
    stacked.push(`st${l}`);
  }
  nodes.push({ op: 'Concat', inputs: stacked, outputs: ['attentions'], attributes: [{ name: 'axis', i: 0 }] });
  return encodeModel({
    inputs: [
      { name: 'input_ids', elemType: INT64, dims: [1, 'seq'] },
      { name: 'attention_mask', elemType: INT64, dims: [1, 'seq'] },
      { name: 'token_type_ids', elemType: INT64, dims: [1, 'seq'] },
    ],
    outputs: [{ name: 'attentions', elemType: FLOAT, dims: [layers, 1, heads, 'seq', 'seq'] }],
    nodes,
    initializers,
    opset: 14,
  });
}

// the synthetic 12 x 12 model folder, with bert-mini's tokenizer
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lm-lens-bench-attention-'));
const synthetic = path.join(tmp, 'synthetic-12x12');
mkdirSync(path.join(synthetic, 'onnx'), { recursive: true });
for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
  if (existsSync(path.join(bertDir, 'bert-mini', f))) cpSync(path.join(bertDir, 'bert-mini', f), path.join(synthetic, f));
}
writeFileSync(
  path.join(synthetic, 'config.json'),
  JSON.stringify({ model_type: 'bert', num_hidden_layers: 12, num_attention_heads: 12, hidden_size: 768, max_position_embeddings: 512 }),
);
writeFileSync(path.join(synthetic, 'onnx', 'model.onnx'), syntheticModel(12, 12));

const TEXT = (
  'We sat on the bank of the river and watched the water go by, while she paid the money into her bank account. ' +
  'The bank closed early on Friday, so the cheque waited until Monday, and the river rose over its banks. '
).repeat(8);
const focus = Math.floor(TEXT.length / 2);

const folders = { 'bert-mini': bertDir, 'gpt2-mini': folderOf('gpt2-mini'), 'synthetic-12x12': tmp };
const engine = new Engine({
  modelDirectories: modelDirectories(undefined, [...new Set([folders['bert-mini'], folders['gpt2-mini'], tmp].filter(Boolean))]),
  workerPath: path.join(root, 'dist', 'worker.js'),
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(model, tokens) {
  const request = { text: TEXT, model, focus, maxTokens: tokens };
  await engine.attention(request); // warm-up: session load, tokenizer load
  const engineMs = [];
  const payloadMs = [];
  const thumbsMs = [];
  let sizes;
  let shape;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const result = await engine.attention(request);
    const t1 = performance.now();
    const summary = JSON.stringify(readySummary(result, 1, [], focus));
    const heads = JSON.stringify(headsPayload(result, 1, 0, [0]));
    const t2 = performance.now();
    const thumbs = JSON.stringify(thumbnailsPayload(result, 1, 24));
    const t3 = performance.now();
    engineMs.push(t1 - t0);
    payloadMs.push(t2 - t1);
    thumbsMs.push(t3 - t2);
    sizes = { summary: summary.length, head: heads.length, thumbnails: thumbs.length, tensor: result.attentions.byteLength };
    shape = `${result.layers}x${result.heads}, ${result.tokens.length} tok`;
  }
  const engineMedian = median(engineMs);
  const payloadMedian = median(payloadMs);
  const from = folders[model] === SMOKE ? 'smoke build' : folders[model] === tmp ? 'synthetic' : path.relative(root, folders[model]) || folders[model];
  return {
    model,
    from,
    tokens,
    shape,
    engineMs: engineMedian,
    payloadMs: payloadMedian,
    drawableMs: engineMedian + payloadMedian,
    thumbnailsMs: median(thumbsMs),
    ...sizes,
  };
}

const rows = [];
try {
  for (const model of ['bert-mini', 'gpt2-mini']) {
    if (!folders[model]) continue;
    for (const tokens of [32, 128]) rows.push(await measure(model, tokens));
  }
  rows.push(await measure('synthetic-12x12', 128));
} finally {
  await engine.dispose();
  rmSync(tmp, { recursive: true, force: true });
}

if (values.json) {
  console.log(JSON.stringify({ runs: RUNS, rows }, null, 1));
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`attention: request -> drawable data, median of ${RUNS} runs (${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)})`);
  console.log('| model | from | tokens | shape | engine ms | payload ms | drawable ms | model view ms | posted: summary + 1 head | whole tensor |');
  console.log('|--|--|--:|--|--:|--:|--:|--:|--:|--:|');
  for (const r of rows) {
    console.log(
      `| ${r.model} | ${r.from} | ${r.tokens} | ${r.shape} | ${r.engineMs.toFixed(1)} | ${r.payloadMs.toFixed(1)} | **${r.drawableMs.toFixed(1)}** | ${r.thumbnailsMs.toFixed(1)} | ${kb(r.summary + r.head)} | ${kb(r.tensor)} |`,
    );
  }
  console.log('engine = Engine.attention (tokenize + worker + run + collect); payload = summary + first head (what the head view draws);');
  console.log('model view = all heads pooled to 24x24 thumbnails (built when that view is opened).');
}
