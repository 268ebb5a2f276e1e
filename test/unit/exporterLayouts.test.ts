/**
 * Layouts of other exporters, on fixtures made by test/fixtures/exporters/make_fixtures.py (random tiny weights;
 * golden.json holds what torch, or numpy for the fused graph, computes):
 *
 *   torch-mha-encoder      torch nn.MultiheadAttention: attention scores [batch·heads, T, S], Softmax over a rank-3
 *                          tensor; the rewrite reshapes them to [batch, heads, T, S]
 *   torch-gpt2-legacy-past ONNX Runtime's old GPT-2 cache: past_{i} / present_{i} [2, batch, heads, past, head_dim]
 *   torch-gpt2-kv          the same weights in Optimum's past_key_values.{i}.key / present.{i}.key layout
 *   ort-fused-attention    com.microsoft.Attention (packed QKV), decomposed so its probabilities can be shown
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { headMatrix } from '../../src/engine/tasks/attention/attentionTensor';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { decodeModel, encodeModel, exposeOutputs, findAttentionSoftmaxes } from '../../src/engine/onnx';
import { loadTokenizer } from '../../src/engine/tokenizer';
import { DIST, REPO_ROOT, tempDir } from './helpers/modelFolders';
import { suiteEngine } from './helpers/suiteEngine';

const EXPORTS = path.join(REPO_ROOT, 'test', 'fixtures', 'exporters');
const onnxOf = (id: string): string => path.join(EXPORTS, id, 'onnx', 'model.onnx');

interface EncoderCase {
  input_ids: number[];
  attention_mask: number[];
  /** [layer][head][query][key] */
  attentions: number[][][][];
  /** [T][vocab] */
  logits: number[][];
}

interface EncoderGolden {
  heads: number;
  layers: number;
  cases: EncoderCase[];
}

function golden<T>(id: string): T {
  return JSON.parse(readFileSync(path.join(EXPORTS, id, 'golden.json'), 'utf8')) as T;
}

function int64(values: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);
}

async function runOnnx(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Largest absolute difference between two equally long sequences of numbers. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Every row of a [..., T, S] probability tensor sums to 1. */
function assertRowsSumToOne(data: Float32Array, keys: number, label: string): void {
  for (let row = 0; row < data.length / keys; row++) {
    const sum = data.subarray(row * keys, (row + 1) * keys).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, `${label} row ${row} sums to ${sum}`);
  }
}

/**
 * The rewritten graph against the original (outputs unchanged) and against the golden probabilities, for every
 * golden case. Returns the largest probability difference seen.
 */
async function checkRewrite(id: string, tolerance: number): Promise<number> {
  const expected = golden<EncoderGolden>(id);
  const original = readFileSync(onnxOf(id));
  const rewritten = exposeOutputs(original, { hiddenStates: false });
  assert.equal(rewritten.changed, true);
  assert.deepEqual(rewritten.attentions.map((a) => a.name), ['attentions.0', 'attentions.1']);
  assert.deepEqual(rewritten.explanations, {});
  let worst = 0;
  for (const c of expected.cases) {
    const feeds = { input_ids: int64(c.input_ids), attention_mask: int64(c.attention_mask) };
    const before = await runOnnx(original, feeds);
    const after = await runOnnx(rewritten.bytes, feeds);
    const t = c.input_ids.length;
    // the model's own output is unchanged by the rewrite, and is what the golden says
    assert.ok(maxDiff(after['logits']!.data as Float32Array, before['logits']!.data as Float32Array) < 1e-5, `${id}: logits changed`);
    assert.ok(maxDiff(after['logits']!.data as Float32Array, c.logits.flat()) < 1e-4, `${id}: logits differ from the golden`);
    for (let l = 0; l < expected.layers; l++) {
      const probs = after[`attentions.${l}`]!;
      assert.deepEqual(probs.dims, [1, expected.heads, t, t], `attentions.${l} is [batch, heads, T, S]`);
      const data = probs.data as Float32Array;
      const diff = maxDiff(data, c.attentions[l]!.flat(2));
      assert.ok(diff < tolerance, `${id} attentions.${l}: max difference ${diff} from the golden`);
      worst = Math.max(worst, diff);
      assertRowsSumToOne(data, t, `${id} attentions.${l}`);
      // a padded key gets no attention
      c.attention_mask.forEach((m, key) => {
        if (m === 0) for (let row = 0; row < expected.heads * t; row++) assert.ok(data[row * t + key]! < 1e-6);
      });
    }
  }
  return worst;
}

describe('torch nn.MultiheadAttention: attention scores [batch·heads, T, S]', () => {
  const id = 'torch-mha-encoder';

  test('found as rank-3 Softmax nodes, one per layer, by the layers.{i} in their names', () => {
    const result = exposeOutputs(readFileSync(onnxOf(id)), { hiddenStates: false });
    assert.deepEqual(
      result.attentions.map((a) => [a.layer, a.node]),
      [
        [0, '/layers.0/attn/Softmax'],
        [1, '/layers.1/attn/Softmax'],
      ],
    );
    assert.deepEqual(findAttentionSoftmaxes(decodeModel(readFileSync(onnxOf(id)))).map((s) => s.rank), [3, 3]);
  });

  test('a Softmax over axis 2 of the rank-3 scores (as opset < 13 exports write it) is attention too', async () => {
    const decoded = decodeModel(readFileSync(onnxOf(id)));
    for (const node of decoded.graph!.node!) {
      if (node.op_type === 'Softmax') node.attribute = [{ name: 'axis', type: 2, i: 2 }];
    }
    const result = exposeOutputs(encodeModel(decoded), { hiddenStates: false });
    assert.deepEqual(result.attentions.map((a) => a.layer), [0, 1]);
    const c = golden<EncoderGolden>(id).cases[0]!;
    const out = await runOnnx(result.bytes, { input_ids: int64(c.input_ids), attention_mask: int64(c.attention_mask) });
    assert.ok(maxDiff(out['attentions.1']!.data as Float32Array, c.attentions[1]!.flat(2)) < 1e-5);
  });

  test('the rewrite gives torch\'s per-head probabilities (need_weights, not averaged) as [1, heads, T, S]; outputs unchanged', async () => {
    const worst = await checkRewrite(id, 1e-5);
    assert.ok(worst < 1e-5, `${worst}`);
  });

  test('a Softmax over the query axis is named in the message, not "no query×key MatMul"', () => {
    const model = readFileSync(onnxOf(id));
    // the same graph with each attention Softmax over axis 1 (the query axis of [batch·heads, T, S])
    const decoded = decodeModel(model);
    for (const node of decoded.graph!.node!) {
      if (node.op_type === 'Softmax') node.attribute = [{ name: 'axis', type: 2, i: 1 }];
    }
    const result = exposeOutputs(encodeModel(decoded), { hiddenStates: false });
    assert.deepEqual(result.attentions, []);
    assert.match(
      result.explanations.attentions ?? '',
      /2 Softmax node\(s\) fed by a MatMul of two activations \(query × keyᵀ\), but over axis 1 of a rank-3 tensor \(\/layers\.0\/attn\/Softmax\)/,
    );
    assert.doesNotMatch(result.explanations.attentions ?? '', /No attention was found/);
  });

  describe('in the engine', () => {
    let engine: Engine;
    suiteEngine(EXPORTS, 'lm-lens-exporters-', (e) => (engine = e));

    test('the attention view shows torch\'s probabilities for "the dog sat on the mat"', async () => {
      const expected = golden<EncoderGolden>(id).cases[0]!;
      const tokenizer = await loadTokenizer(path.join(EXPORTS, id));
      assert.deepEqual(tokenizer.encode('the dog sat on the mat').ids, expected.input_ids);
      const result = await engine.attention({ text: 'the dog sat on the mat', model: id });
      const shape = { layers: 2, heads: 2, tokens: expected.input_ids.length };
      assert.deepEqual([result.layers, result.heads, result.tokens.length], [2, 2, 8]);
      for (let l = 0; l < 2; l++) {
        for (let h = 0; h < 2; h++) {
          const diff = maxDiff(headMatrix(result.attentions, shape, l, h), expected.attentions[l]![h]!.flat());
          assert.ok(diff < 1e-5, `layer ${l} head ${h}: ${diff}`);
        }
      }
    });
  });
});

interface CausalGolden {
  prompt: number[];
  /** torch's greedy continuation, recomputing the whole sequence each step (<|endoftext|> held back). */
  greedy: number[];
  /** <|endoftext|> + "the bird sat." and the log-probability of each token after the first. */
  scored: number[];
  tokenLogProbs: number[];
}

describe('GPT-2 cache layouts: ONNX Runtime\'s past_{i} [2, batch, heads, past, head_dim] and Optimum\'s past_key_values', () => {
  const legacy = 'torch-gpt2-legacy-past';
  const kv = 'torch-gpt2-kv';
  let engine: Engine;
  suiteEngine(EXPORTS, 'lm-lens-exporters-', (e) => (engine = e));

  test('the legacy graph returns present_{i} stacked [2, 1, heads, past + T, head_dim]', async () => {
    const session = await ort.InferenceSession.create(onnxOf(legacy));
    const past = new ort.Tensor('float32', new Float32Array(0), [2, 1, 2, 0, 4]);
    const out = await session.run({
      input_ids: int64([3, 4, 5]),
      position_ids: int64([0, 1, 2]),
      attention_mask: int64([1, 1, 1]),
      past_0: past,
      past_1: past,
    });
    await session.release();
    assert.deepEqual(out['present_1']!.dims, [2, 1, 2, 3, 4]);
  });

  for (const id of [legacy, kv]) {
    test(`${id}: greedy generation with the cache = without it = torch's greedy tokens`, async () => {
      const expected = golden<CausalGolden>(id);
      const tokenizer = await loadTokenizer(path.join(EXPORTS, id));
      const text = tokenizer.decode(expected.prompt, { skip_special_tokens: true });
      assert.deepEqual(tokenizer.encode(text).ids, expected.prompt);
      const request = { text, maxTokens: expected.greedy.length, minTokens: expected.greedy.length, model: id };
      const cached = await engine.generate(request);
      const recomputed = await engine.generate({ ...request, noCache: true });
      assert.equal(cached.cache, true, 'the cache was used');
      assert.equal(recomputed.cache, false);
      assert.equal(cached.promptTokens, expected.prompt.length);
      const torchText = tokenizer.decode(expected.greedy, { skip_special_tokens: true });
      assert.equal(cached.completion, torchText);
      assert.equal(recomputed.completion, torchText);
    });

    test(`${id}: score gives torch's log-probabilities`, async () => {
      const expected = golden<CausalGolden>(id);
      const result = await engine.score({ text: 'the bird sat.', model: id });
      assert.equal(result.tokenLogProbs.length, expected.tokenLogProbs.length);
      assert.ok(maxDiff(result.tokenLogProbs, expected.tokenLogProbs) < 1e-4, `${result.tokenLogProbs} vs ${expected.tokenLogProbs}`);
    });
  }

  test('the two layouts generate the same text, and the attention view feeds the legacy graph an empty past_{i}', async () => {
    const a = await engine.generate({ text: 'a bird', maxTokens: 6, minTokens: 6, model: legacy });
    const b = await engine.generate({ text: 'a bird', maxTokens: 6, minTokens: 6, model: kv });
    assert.equal(a.completion, b.completion);
    const view = await engine.attention({ text: 'the bird', model: legacy });
    assert.deepEqual([view.layers, view.heads, view.tokens.length], [2, 2, 8]);
    const shape = { layers: 2, heads: 2, tokens: 8 };
    const m = headMatrix(view.attentions, shape, 1, 0);
    for (let q = 0; q < 8; q++) {
      const row = m.subarray(q * 8, q * 8 + 8);
      assert.ok(Math.abs(row.reduce((x, y) => x + y, 0) - 1) < 1e-5, `row ${q} sums to 1`);
      assert.ok(row.subarray(q + 1).every((p) => p < 1e-6), `row ${q} attends to no later token`);
    }
  });
});

describe('fused com.microsoft.Attention (ORT-optimised exports), written out as standard operators', () => {
  const id = 'ort-fused-attention';

  test('every fused node is decomposed; the probabilities are the operator\'s (numpy) to 1e-5, rows sum to 1, logits equal the fused graph\'s', async () => {
    const result = exposeOutputs(readFileSync(onnxOf(id)), { hiddenStates: false });
    assert.deepEqual(result.decomposedAttention, ['Attention_0', 'Attention_1']);
    assert.deepEqual(result.fusedAttention, []);
    const ops = new Set(decodeModel(result.bytes).graph!.node!.map((n) => `${n.domain ?? ''}.${n.op_type}`));
    assert.ok(!ops.has('com.microsoft.Attention'), 'no fused node is left');
    // layer 0 reads a raw [batch, seq] mask, layer 1 a 1-D [batch] length: both mask the two padded keys
    const worst = await checkRewrite(id, 1e-5);
    assert.ok(worst < 1e-5, `${worst}`);
  });

  test('a [2·batch] mask_index (ends, then starts: left padding) masks the keys before the start too', async () => {
    const decoded = decodeModel(readFileSync(onnxOf(id)));
    // layer 1 reads Concat(length, start = 2) instead of the length alone
    const graph = decoded.graph!;
    graph.node = graph.node!.flatMap((n) =>
      n.name === 'Attention_1'
        ? [
            { op_type: 'Constant', name: 'start', output: ['start'], attribute: [{ name: 'value', type: 4, t: { dims: [1], data_type: 6, int32_data: [2] } }] },
            { op_type: 'Concat', name: 'ends_starts', input: ['mask_1d', 'start'], output: ['ends_starts'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
            { ...n, input: [n.input![0]!, n.input![1]!, n.input![2]!, 'ends_starts'] },
          ]
        : [n],
    );
    const fused = encodeModel(decoded);
    const result = exposeOutputs(fused, { hiddenStates: false });
    assert.deepEqual(result.decomposedAttention, ['Attention_0', 'Attention_1']);
    const c = golden<EncoderGolden>(id).cases[1]!;
    const feeds = { input_ids: int64(c.input_ids), attention_mask: int64(c.attention_mask) };
    const before = await runOnnx(fused, feeds);
    const after = await runOnnx(result.bytes, feeds);
    assert.ok(maxDiff(after['logits']!.data as Float32Array, before['logits']!.data as Float32Array) < 1e-5, 'the same logits as ONNX Runtime\'s kernel');
    const t = c.input_ids.length;
    const probs = after['attentions.1']!.data as Float32Array;
    assertRowsSumToOne(probs, t, 'attentions.1');
    for (let row = 0; row < 2 * t; row++) {
      for (const key of [0, 1, 6, 7]) assert.ok(probs[row * t + key]! < 1e-6, `row ${row} key ${key} is masked`);
    }
  });

  for (const [attribute, change, named] of [
    ['unidirectional', (n: import('../../src/engine/onnx').NodeProto) => n.attribute!.push({ name: 'unidirectional', type: 2, i: 1 }), /uses unidirectional=1/],
    ['past', (n: import('../../src/engine/onnx').NodeProto) => n.input!.push('past_0'), /a past\/present key-value cache/],
    ['attention bias', (n: import('../../src/engine/onnx').NodeProto) => n.input!.push('', 'bias_5'), /an attention bias \(input 5/],
  ] as const) {
    test(`a fused node with ${attribute} is refused by name and the model is left as it is`, () => {
      const decoded = decodeModel(readFileSync(onnxOf(id)));
      const node = decoded.graph!.node!.find((n) => n.name === 'Attention_1')!;
      node.attribute = [...(node.attribute ?? [])];
      node.input = [...node.input!];
      change(node);
      const bytes = encodeModel(decoded);
      const result = exposeOutputs(bytes, { hiddenStates: false });
      assert.equal(result.changed, false);
      assert.deepEqual(result.attentions, []);
      assert.deepEqual(result.decomposedAttention, []);
      assert.match(result.explanations.attentions ?? '', /node "Attention_1" uses/);
      assert.match(result.explanations.attentions ?? '', named);
    });
  }

  test('the attention view on the ORT-optimised model shows the operator\'s probabilities', async () => {
    const cache = tempDir('lm-lens-exporters-');
    const engine = new Engine({ modelDirectories: modelDirectories(undefined, [EXPORTS]), workerPath: path.join(DIST, 'worker.js'), cacheDir: cache.dir });
    try {
      const expected = golden<EncoderGolden>(id).cases[0]!;
      const result = await engine.attention({ text: 'the dog sat on the mat', model: id });
      assert.deepEqual(result.ids, expected.input_ids);
      assert.deepEqual([result.layers, result.heads], [2, 2]);
      const shape = { layers: 2, heads: 2, tokens: expected.input_ids.length };
      for (let l = 0; l < 2; l++) {
        for (let h = 0; h < 2; h++) {
          assert.ok(maxDiff(headMatrix(result.attentions, shape, l, h), expected.attentions[l]![h]!.flat()) < 1e-5, `layer ${l} head ${h}`);
        }
      }
      const fill = await engine.fill({ text: 'the dog [MASK] on the mat', model: id });
      assert.equal(fill.masks.length, 1, 'the fused graph itself still runs for fill');
    } finally {
      await engine.dispose();
      cache.remove();
    }
  });
});
