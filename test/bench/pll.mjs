// Pseudo-log-likelihood speed (a benchmark that prints a table; not a test). `eval pairs` and `eval cloze` score a
// sentence with a masked LM by masking each of its tokens in turn: one row per token, of which only the masked
// position's logits are read, while the graph as exported runs its vocabulary-sized head at every position. The
// engine scores with a rewritten copy whose head runs at the scored position of each row only
// (src/engine/onnx/headGather.ts, checked against the whole graph on its first batch). This times both graphs on
// the same rows, for the cloze sentences of test/fixtures/eval/cloze.tsv (the first answer in the blank: short
// everyday sentences, as BLiMP's are), through onnxruntime-node on one thread, batches of 64 rows as the engine
// sends them, the two graphs interleaved sentence by sentence; it prints the seconds each took for all sentences
// (median of --runs passes), the speed-up, and the largest difference in a token's log-probability between them.
// Usage: npm run build && node test/bench/pll.mjs [--models-dir DIR] [--model bert-mini] [--runs 3] [--json]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';
import { requireTs } from '../requireTs.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const { values } = parseArgs({
  options: {
    'models-dir': { type: 'string', default: path.join(root, 'media', 'models') },
    model: { type: 'string', default: 'bert-mini' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const folder = path.join(path.resolve(values['models-dir']), values.model);
const modelFile = path.join(folder, 'onnx', 'model.onnx');
if (!existsSync(modelFile)) throw new Error(`no ${modelFile} (give --models-dir / --model)`);

// the engine's own rewrite, batch size and log-sum-exp, so the bench scores as `eval pairs` does
const { exposeOutputs, HEAD_POSITIONS_INPUT, BATCH_ROWS, logSumExp } = await requireTs(root, path.join(root, 'out', 'bench', 'pll-lib.cjs'), {
  './src/engine/onnx/expose': ['exposeOutputs'],
  './src/engine/onnx/headGather': ['HEAD_POSITIONS_INPUT'],
  './src/engine/eval/likelihood': ['BATCH_ROWS'],
  './src/engine/sampling': ['logSumExp'],
});

const tokenizer = new Tokenizer(
  JSON.parse(readFileSync(path.join(folder, 'tokenizer.json'), 'utf8')),
  existsSync(path.join(folder, 'tokenizer_config.json')) ? JSON.parse(readFileSync(path.join(folder, 'tokenizer_config.json'), 'utf8')) : {},
);
const maskId = tokenizer.token_to_id('[MASK]');
if (maskId === undefined) throw new Error(`${values.model} has no [MASK] token`);

const sentences = readFileSync(path.join(root, 'test', 'fixtures', 'eval', 'cloze.tsv'), 'utf8')
  .split('\n')
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [answers, sentence] = line.split('\t');
    return sentence.replace('[MASK]', answers.split('|')[0]);
  });

const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
const whole = await ort.InferenceSession.create(modelFile, options);
const logitsName = whole.outputNames.includes('logits') ? 'logits' : whole.outputNames[0];
const rewrite = exposeOutputs(readFileSync(modelFile), { headGather: logitsName });
if (!rewrite.headGather) throw new Error(`${values.model}: its head cannot be gathered: ${rewrite.explanations.headGather}`);
const gathered = await ort.InferenceSession.create(rewrite.bytes, options);

function feedsFor(rows, length) {
  const batch = rows.length;
  return {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [batch, length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(batch * length).fill(1n), [batch, length]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(batch * length), [batch, length]),
  };
}

/** Each scored token's log-probability in `sentence`, from one graph. */
async function score(session, isGathered, sentence) {
  const ids = tokenizer.encode(sentence).ids;
  const positions = ids.map((_, i) => i).slice(1, -1); // [CLS] … [SEP]
  const out = [];
  for (let at = 0; at < positions.length; at += BATCH_ROWS) {
    const chunk = positions.slice(at, at + BATCH_ROWS);
    const rows = chunk.map((p) => ids.map((id, i) => (i === p ? maskId : id)));
    const all = feedsFor(rows, ids.length);
    if (isGathered) all[HEAD_POSITIONS_INPUT] = new ort.Tensor('int64', BigInt64Array.from(chunk, BigInt), [chunk.length]);
    const feeds = Object.fromEntries(session.inputNames.map((name) => [name, all[name]]));
    const { [logitsName]: logits } = await session.run(feeds, [logitsName]);
    const vocab = logits.dims[2];
    chunk.forEach((p, b) => {
      const offset = isGathered ? b * vocab : (b * ids.length + p) * vocab;
      const row = logits.data.subarray(offset, offset + vocab);
      out.push(row[ids[p]] - logSumExp(row));
    });
  }
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await score(whole, false, sentences[0]); // warm-up
await score(gathered, true, sentences[0]);
const wholeTimes = [];
const gatheredTimes = [];
let maxDiff = 0;
let tokens = 0;
for (let run = 0; run < Number(values.runs); run++) {
  let tw = 0;
  let tg = 0;
  tokens = 0;
  for (const sentence of sentences) {
    let t = performance.now();
    const a = await score(whole, false, sentence);
    tw += performance.now() - t;
    t = performance.now();
    const b = await score(gathered, true, sentence);
    tg += performance.now() - t;
    a.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - b[i]))));
    tokens += a.length;
  }
  wholeTimes.push(tw / 1000);
  gatheredTimes.push(tg / 1000);
}

const result = {
  model: values.model,
  sentences: sentences.length,
  scoredTokens: tokens,
  runs: Number(values.runs),
  wholeGraphSeconds: median(wholeTimes),
  headGatheredSeconds: median(gatheredTimes),
  speedUp: median(wholeTimes) / median(gatheredTimes),
  maxLogProbDifference: maxDiff,
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`${values.model}: ${result.sentences} sentences, ${result.scoredTokens} scored tokens (one masked row each), median of ${result.runs}`);
  console.log(`| graph | seconds |\n|---|---:|`);
  console.log(`| whole graph (head at every position) | ${result.wholeGraphSeconds.toFixed(2)} |`);
  console.log(`| head at the scored positions only | ${result.headGatheredSeconds.toFixed(2)} |`);
  console.log(`speed-up ${result.speedUp.toFixed(2)}x; largest log-probability difference ${result.maxLogProbDifference.toExponential(2)}`);
}
