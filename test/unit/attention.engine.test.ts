/**
 * The attention operation: tokenisation windows, reading stacked and per-layer attention outputs, causal
 * post-processing, and the Engine end to end on hand-built ONNX graphs run by the real worker (BERT-shaped with
 * one stacked `attentions` output, the same with `attentions.{i}` per layer, GPT-2-shaped with an empty past).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { checkAttentionRequest, specialAffixes, surprisalAndNext, tokenWindow, topK, transformerFeeds } from '../../src/engine/tasks/attention/attention';
import { attentionOutputNames, canShowAttention, collectAttentions, headMatrix, nestAttentions } from '../../src/engine/tasks/attention/attentionTensor';
import { Engine, modelDirectories } from '../../src/engine/engine';
import type { HostTensor } from '../../src/engine/runtime/session';
import { DIST, tempDir, writeModelFolder } from './helpers/modelFolders';
import { wordPieceJson } from './helpers/lmModels';
import { encodeModel, FLOAT, INT64, type Node } from './helpers/onnxWriter';
import { lensError } from './helpers/lensError';

/** A tiny WordPiece tokenizer.json (BERT's scheme: lower case, [CLS] text [SEP]). */
const TOKENIZER_JSON = wordPieceJson({
  vocab: ['[UNK]', '[CLS]', '[SEP]', 'the', 'river', 'bank', '##s', 'we', 'sat', 'on', 'of', '.'],
  special: ['[UNK]', '[CLS]', '[SEP]'],
  normalizer: { type: 'Lowercase' },
});

const tokenizer = new Tokenizer(TOKENIZER_JSON, {});

function softmax(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((x) => Math.exp(x - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/**
 * Expected weights of the test graphs: scores[q][k] = scale * id_q * id_k / 100, per (layer, head) scale
 * (layer l, head h: scale = (l + 1) * (h + 1) * sign, sign -1 for layer 1), causal graphs mask k > q.
 */
function expected(ids: number[], layer: number, head: number, causal: boolean): number[][] {
  const scale = ((layer + 1) * (head + 1) * (layer === 1 ? -1 : 1)) / 100;
  return ids.map((q, qi) =>
    softmax(ids.map((k, ki) => (causal && ki > qi ? -1e9 : scale * q * k))).map((x) => (Number.isFinite(x) ? x : 0)),
  );
}

/**
 * Attention-shaped graphs. Nodes compute, for layer l and head h, Softmax(scale_lh * ids ⊗ ids) (masked for
 * causal) as [1, 1, T, T] pieces, joined into the requested output layout.
 */
function attentionModel(layout: 'stacked' | 'per-layer', causal: boolean, vocab = 12): Uint8Array {
  const nodes: Node[] = [
    { op: 'Cast', inputs: ['input_ids'], outputs: ['x'], attributes: [{ name: 'to', i: FLOAT }] },
    { op: 'Unsqueeze', inputs: ['x', 'ax2'], outputs: ['col'] }, // [1, T, 1]
    { op: 'Unsqueeze', inputs: ['x', 'ax1'], outputs: ['row'] }, // [1, 1, T]
    { op: 'Mul', inputs: ['col', 'row'], outputs: ['outer'] }, // [1, T, T]
  ];
  const initializers = [
    { name: 'ax0', dims: [1], int64: [0] },
    { name: 'ax1', dims: [1], int64: [1] },
    { name: 'ax2', dims: [1], int64: [2] },
    { name: 'zero', dims: [], float: [0] },
    { name: 'one', dims: [], float: [1] },
    { name: 'big', dims: [], float: [1e9] },
  ];
  let scores = 'outer';
  if (causal) {
    nodes.push(
      { op: 'Mul', inputs: ['outer', 'zero'], outputs: ['z'] },
      { op: 'Add', inputs: ['z', 'one'], outputs: ['ones'] },
      { op: 'Trilu', inputs: ['ones'], outputs: ['tri'], attributes: [{ name: 'upper', i: 0 }] },
      { op: 'Sub', inputs: ['tri', 'one'], outputs: ['tri_m1'] },
      { op: 'Mul', inputs: ['tri_m1', 'big'], outputs: ['mask'] }, // 0 on and below the diagonal, -1e9 above
    );
  }
  const layers: string[] = [];
  for (let l = 0; l < 2; l++) {
    const heads: string[] = [];
    for (let h = 0; h < 2; h++) {
      const scale = `s${l}${h}`;
      initializers.push({ name: scale, dims: [], float: [((l + 1) * (h + 1) * (l === 1 ? -1 : 1)) / 100] });
      nodes.push({ op: 'Mul', inputs: [scores, scale], outputs: [`sc${l}${h}`] });
      let input = `sc${l}${h}`;
      if (causal) {
        nodes.push({ op: 'Add', inputs: [input, 'mask'], outputs: [`m${l}${h}`] });
        input = `m${l}${h}`;
      }
      nodes.push(
        { op: 'Softmax', inputs: [input], outputs: [`p${l}${h}`], attributes: [{ name: 'axis', i: 2 }] },
        { op: 'Unsqueeze', inputs: [`p${l}${h}`, 'ax1'], outputs: [`u${l}${h}`] }, // [1, 1, T, T]
      );
      heads.push(`u${l}${h}`);
    }
    const name = layout === 'per-layer' ? `attentions.${l}` : `layer${l}`;
    nodes.push({ op: 'Concat', inputs: heads, outputs: [name], attributes: [{ name: 'axis', i: 1 }] }); // [1, 2, T, T]
    layers.push(name);
  }
  if (layout === 'stacked') {
    layers.forEach((name, l) => nodes.push({ op: 'Unsqueeze', inputs: [name, 'ax0'], outputs: [`st${l}`] }));
    nodes.push({ op: 'Concat', inputs: ['st0', 'st1'], outputs: ['attentions'], attributes: [{ name: 'axis', i: 0 }] });
  }
  const inputs = [
    { name: 'input_ids', elemType: INT64, dims: [1, 'seq'] },
    { name: 'attention_mask', elemType: INT64, dims: [1, 'seq'] },
  ];
  const outputs =
    layout === 'stacked'
      ? [{ name: 'attentions', elemType: FLOAT, dims: [2, 1, 2, 'seq', 'seq'] }]
      : layers.map((name) => ({ name, elemType: FLOAT, dims: [1, 2, 'seq', 'seq'] }));
  if (causal) {
    inputs.push({ name: 'position_ids', elemType: INT64, dims: [1, 'seq'] });
    inputs.push({ name: 'past_key_values.0.key', elemType: FLOAT, dims: [1, 2, 'past', 4] });
    inputs.push({ name: 'past_key_values.0.value', elemType: FLOAT, dims: [1, 2, 'past', 4] });
    // logits[t] = E[id_t]: row i of E puts log-weight i on token (i + 1) % vocab
    const e: number[] = [];
    for (let i = 0; i < vocab; i++) for (let j = 0; j < vocab; j++) e.push(j === (i + 1) % vocab ? 3 : j === i ? 1 : 0);
    initializers.push({ name: 'E', dims: [vocab, vocab], float: e } as never);
    nodes.push({ op: 'Gather', inputs: ['E', 'input_ids'], outputs: ['logits'], attributes: [{ name: 'axis', i: 0 }] });
    outputs.push({ name: 'logits', elemType: FLOAT, dims: [1, 'seq', vocab] });
  } else {
    inputs.push({ name: 'token_type_ids', elemType: INT64, dims: [1, 'seq'] });
  }
  return encodeModel({ inputs, outputs, nodes, initializers: initializers as never, opset: 14 });
}

function closeTo(actual: ArrayLike<number>, wanted: ArrayLike<number>, tolerance = 1e-5, what = ''): void {
  assert.equal(actual.length, wanted.length, `${what} length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - wanted[i]!) <= tolerance, `${what}[${i}] = ${actual[i]}, expected ${wanted[i]}`);
  }
}

describe('attention: tokenising a window', () => {
  test("the tokenizer's special tokens are found by probing", () => {
    assert.deepEqual(specialAffixes(tokenizer), { prefix: [1], suffix: [2] });
  });

  test('chunk by chunk gives the same tokens as the whole text, and each token knows its word', () => {
    const text = 'We sat on the  river banks.';
    const w = tokenWindow(tokenizer, text, 0, 100);
    assert.deepEqual(w.ids, tokenizer.encode(text).ids);
    assert.deepEqual(w.tokens, ['[CLS]', 'we', 'sat', 'on', 'the', 'river', 'bank', '##s', '.', '[SEP]']);
    assert.deepEqual(w.special, [true, false, false, false, false, false, false, false, false, true]);
    assert.deepEqual(w.spans[6], [text.indexOf('banks'), text.length]); // "banks." is one chunk
    assert.deepEqual(w.spans[0], null);
    assert.equal(text.slice(...(w.spans[5] as [number, number])), 'river');
    assert.equal(w.truncated, false);
  });

  test('a long text is cut to a window around the focus', () => {
    const words = Array.from({ length: 60 }, (_, i) => (i === 40 ? 'bank' : 'the'));
    const text = words.join(' ');
    const focus = text.indexOf('bank');
    const w = tokenWindow(tokenizer, text, focus, 9);
    assert.equal(w.ids.length, 11); // 9 + [CLS] + [SEP]
    assert.equal(w.truncated, true);
    const bank = w.tokens.indexOf('bank');
    assert.ok(bank >= 4 && bank <= 6, `bank near the middle, at ${bank}`);
    // the end of the text: the window cannot be centred, it is the last 9 tokens
    const end = tokenWindow(tokenizer, text, text.length, 9);
    assert.equal(end.tokens.at(-2), 'the');
    assert.equal(end.spans.at(-2)![1], text.length);
  });

  test('checkAttentionRequest refuses bad requests', () => {
    assert.throws(() => checkAttentionRequest({ text: ' ' }), lensError('BAD_INPUT', /empty/));
    assert.throws(() => checkAttentionRequest({ text: 'a', focus: 5 }), lensError('BAD_INPUT', /focus/));
    assert.throws(() => checkAttentionRequest({ text: 'a', maxTokens: 0 }), lensError('BAD_INPUT', /maxTokens/));
    assert.throws(() => checkAttentionRequest({ text: 'a', topK: 51 }), lensError('BAD_INPUT', /topK/));
    assert.deepEqual(checkAttentionRequest({ text: 'a b' }), { text: 'a b', model: undefined, focus: 0, maxTokens: undefined, topK: 5 });
  });
});

describe('attention: reading model outputs', () => {
  const t = 3;
  // layer l, head h, query q, key k -> 1000 l + 100 h + 10 q + k (not distributions: only the layout matters here)
  const value = (l: number, h: number, q: number, k: number) => 1000 * l + 100 * h + 10 * q + k;

  test('attentionOutputNames: the stacked output, else attentions.{i} in numeric order', () => {
    assert.deepEqual(attentionOutputNames(['logits', 'attentions', 'attentions.0']), ['attentions']);
    assert.deepEqual(attentionOutputNames(['attentions.10', 'attentions.2', 'logits', 'attentions.0', 'hidden_states.0']), [
      'attentions.0',
      'attentions.2',
      'attentions.10',
    ]);
    assert.deepEqual(attentionOutputNames(['logits']), []);
    const model = { id: 'm', modelType: 'bert', kind: 'masked-lm' as const, path: '', inputs: [], outputs: ['attentions.0'], source: 'user' as const };
    assert.equal(canShowAttention(model), true);
    assert.equal(canShowAttention({ ...model, outputs: ['logits'] }), true, 'a plain export: the worker rewrites its graph');
    assert.equal(canShowAttention({ ...model, kind: 'bilm', outputs: ['attentions'] }), false);
  });

  test('stacked [L, B, H, T, S] and per-layer [B, H, T, S] give the same array; batch item 0 only', () => {
    const layers = 2;
    const heads = 2;
    const batch = 2;
    const stacked = new Float32Array(layers * batch * heads * t * t);
    const perLayer = [0, 1].map(() => new Float32Array(batch * heads * t * t));
    for (let l = 0; l < layers; l++)
      for (let b = 0; b < batch; b++)
        for (let h = 0; h < heads; h++)
          for (let q = 0; q < t; q++)
            for (let k = 0; k < t; k++) {
              const v = b === 0 ? value(l, h, q, k) : -1;
              stacked[(((l * batch + b) * heads + h) * t + q) * t + k] = v;
              perLayer[l]![((b * heads + h) * t + q) * t + k] = v;
            }
    const a = collectAttentions({ attentions: { type: 'float32', data: stacked, dims: [2, 2, 2, t, t] } }, ['attentions'], t);
    const b = collectAttentions(
      {
        'attentions.0': { type: 'float32', data: perLayer[0]!, dims: [2, 2, t, t] },
        'attentions.1': { type: 'float32', data: perLayer[1]!, dims: [2, 2, t, t] },
      },
      ['attentions.0', 'attentions.1'],
      t,
    );
    assert.deepEqual(a.shape, { layers: 2, heads: 2, tokens: t });
    assert.deepEqual(b.shape, a.shape);
    assert.deepEqual(Array.from(b.data), Array.from(a.data));
    assert.equal(headMatrix(a.data, a.shape, 1, 0)[2 * t + 1], value(1, 0, 2, 1));
    assert.equal(nestAttentions(a.data, a.shape)[1]![1]![0]![2], value(1, 1, 0, 2));
  });

  test('keys of a past come first and are dropped', () => {
    const s = t + 2;
    const data = new Float32Array(2 * t * s);
    for (let h = 0; h < 2; h++) for (let q = 0; q < t; q++) for (let k = 0; k < s; k++) data[(h * t + q) * s + k] = k < 2 ? -1 : value(0, h, q, k - 2);
    const out = collectAttentions({ 'attentions.0': { type: 'float32', data, dims: [1, 2, t, s] } }, ['attentions.0'], t);
    assert.equal(out.data.every((v) => v >= 0), true);
    assert.equal(headMatrix(out.data, out.shape, 0, 1)[t + 2], value(0, 1, 1, 2));
  });

  test('a wrong shape is MODEL_CORRUPT', () => {
    const bad: HostTensor = { type: 'float32', data: new Float32Array(8), dims: [2, 2, 2] };
    assert.throws(() => collectAttentions({ attentions: bad }, ['attentions'], 2), lensError('MODEL_CORRUPT', /attentions/));
    assert.throws(() => collectAttentions({}, ['attentions.0'], 2), lensError('MODEL_CORRUPT', /got nothing/));
  });

  test('surprisal in bits and the top-k next tokens come from the logits', () => {
    // vocab 4; logits rows: position 0 prefers token 2, position 1 is uniform
    const logits: HostTensor = { type: 'float32', data: Float32Array.from([0, 0, Math.log(4), 0, 0, 0, 0, 0]), dims: [1, 2, 4] };
    const { surprisal, next } = surprisalAndNext(logits, [3, 2], 2, (id) => `t${id}`);
    assert.equal(surprisal[0], null);
    closeTo([surprisal[1]!], [Math.log2(7 / 4)], 1e-6); // p(2 | 3) = 4 / 7
    assert.deepEqual(next[0]!.map((c) => c.token), ['t2', 't0']);
    closeTo([next[0]![0]!.probability], [4 / 7], 1e-6);
    assert.equal(next[1]!.length, 2);
  });

  test('topK keeps the largest values, largest first', () => {
    assert.deepEqual(topK(Float32Array.from([1, 5, 3, 5, 0, 9]), 3), [5, 1, 3]);
    assert.deepEqual(topK(Float32Array.from([1, 2]), 5), [1, 0]);
    assert.deepEqual(topK(Float32Array.from([1, 2]), 0), []);
  });

  test('transformerFeeds: every declared input, an empty past; an unknown input is MODEL_CORRUPT', () => {
    const config = { positions: 64, kvHeads: 2, headDim: 4 };
    const declared = (inputNames: string[]) => ({ inputNames, inputInfo: [] });
    const feeds = transformerFeeds(declared(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'use_cache_branch']), [5, 6, 7], config, 'm');
    assert.deepEqual(feeds['input_ids']!.dims, [1, 3]);
    assert.deepEqual(Array.from(feeds['position_ids']!.data as BigInt64Array), [0n, 1n, 2n]);
    assert.deepEqual(feeds['past_key_values.0.key']!.dims, [1, 2, 0, 4]);
    assert.deepEqual(Array.from(feeds['use_cache_branch']!.data as Uint8Array), [0]);
    assert.throws(() => transformerFeeds(declared(['input_ids', 'pixel_values']), [1], config, 'm'), lensError('MODEL_CORRUPT', /pixel_values/));
    assert.throws(
      () => transformerFeeds(declared(['input_ids', 'past_key_values.0.key']), [1], { kvHeads: undefined, headDim: undefined }, 'm'),
      lensError('MODEL_CORRUPT', /past_key_values/),
    );
  });
});

describe('Engine.attention (real ONNX Runtime in the worker, hand-built graphs)', () => {
  const dir = tempDir();
  let engine: Engine;
  const files = { 'tokenizer.json': JSON.stringify(TOKENIZER_JSON), 'tokenizer_config.json': '{}' };

  before(() => {
    writeModelFolder(dir.dir, 'bert-stacked', {
      config: { model_type: 'bert', num_hidden_layers: 2, num_attention_heads: 2, max_position_embeddings: 16 },
      onnx: attentionModel('stacked', false),
      files,
    });
    writeModelFolder(dir.dir, 'bert-per-layer', {
      config: { model_type: 'bert', num_hidden_layers: 2, num_attention_heads: 2, max_position_embeddings: 16 },
      onnx: attentionModel('per-layer', false),
      files,
    });
    writeModelFolder(dir.dir, 'gpt-tiny', {
      config: { model_type: 'gpt2', n_layer: 2, n_head: 2, n_embd: 8, n_positions: 16 },
      onnx: attentionModel('stacked', true),
      files,
    });
    writeModelFolder(dir.dir, 'bert-blind', {
      config: { model_type: 'bert', max_position_embeddings: 16 },
      onnx: encodeModel({
        inputs: [{ name: 'input_ids', elemType: INT64, dims: [1, 'seq'] }],
        outputs: [{ name: 'logits', elemType: FLOAT, dims: [1, 'seq'] }],
        nodes: [{ op: 'Cast', inputs: ['input_ids'], outputs: ['logits'], attributes: [{ name: 'to', i: FLOAT }] }],
      }),
      files,
    });
    engine = new Engine({ modelDirectories: modelDirectories(undefined, [dir.dir]), workerPath: path.join(DIST, 'worker.js') });
  });
  after(async () => {
    await engine.dispose();
    dir.remove();
  });

  const text = 'We sat on the river bank.';
  const ids = [1, 7, 8, 9, 3, 4, 5, 11, 2];

  for (const id of ['bert-stacked', 'bert-per-layer']) {
    test(`${id}: every layer and head, rows that sum to 1, the weights the graph computes`, async () => {
      const result = await engine.attention({ text, model: id });
      assert.equal(result.model, id);
      assert.equal(result.kind, 'encoder', 'attentions but no logits: a BERT without its masked-LM head');
      assert.deepEqual(result.ids, ids);
      assert.deepEqual(result.tokens, ['[CLS]', 'we', 'sat', 'on', 'the', 'river', 'bank', '.', '[SEP]']);
      assert.equal(result.layers, 2);
      assert.equal(result.heads, 2);
      assert.ok(result.attentions instanceof Float32Array);
      const shape = { layers: 2, heads: 2, tokens: ids.length };
      for (let l = 0; l < 2; l++) {
        for (let h = 0; h < 2; h++) closeTo(headMatrix(result.attentions, shape, l, h), expected(ids, l, h, false).flat(), 1e-5, `L${l}H${h}`);
      }
      assert.equal(result.surprisal, undefined);
      assert.equal(result.truncated, false);
    });
  }

  test('gpt-tiny: causal weights (nothing after the query), surprisal and next tokens from the logits', async () => {
    const result = await engine.attention({ text, model: 'gpt-tiny', topK: 3 });
    assert.equal(result.kind, 'causal-lm');
    const shape = { layers: 2, heads: 2, tokens: result.ids.length };
    for (let l = 0; l < 2; l++) {
      for (let h = 0; h < 2; h++) closeTo(headMatrix(result.attentions, shape, l, h), expected(result.ids, l, h, true).flat(), 1e-5, `L${l}H${h}`);
    }
    // logits row i: 3 at (i + 1) % 12, 1 at i, 0 elsewhere
    const z = Math.exp(3) + Math.exp(1) + 10;
    const p = (from: number, to: number) => (to === (from + 1) % 12 ? Math.exp(3) : to === from ? Math.exp(1) : 1) / z;
    assert.equal(result.surprisal![0], null);
    for (let i = 1; i < result.ids.length; i++) closeTo([result.surprisal![i]!], [-Math.log2(p(result.ids[i - 1]!, result.ids[i]!))], 1e-4, `surprisal ${i}`);
    assert.equal(result.next!.length, result.ids.length);
    assert.deepEqual(result.next![1]!.map((c) => c.id), [(result.ids[1]! + 1) % 12, result.ids[1]!, 0]);
    closeTo([result.next![1]![0]!.probability], [Math.exp(3) / z], 1e-5);
  });

  test('a long text is windowed around the focus (maxTokens), never refused', async () => {
    const long = Array.from({ length: 40 }, () => 'the river').join(' ') + ' bank of the river.';
    const result = await engine.attention({ text: long, model: 'bert-stacked', focus: long.indexOf('bank'), maxTokens: 8 });
    assert.equal(result.tokens.length, 10);
    assert.equal(result.truncated, true);
    assert.ok(result.tokens.includes('bank'));
    // the model's positions cap the window too (16 positions: 14 text tokens)
    const capped = await engine.attention({ text: long, model: 'bert-stacked' });
    assert.equal(capped.tokens.length, 16);
  });

  test('a model without attention outputs, or of another kind, is BAD_INPUT', async () => {
    await assert.rejects(engine.attention({ text, model: 'bert-blind' }), lensError('BAD_INPUT', /does not expose its attention/));
    await assert.rejects(engine.attention({ text, model: 'nope' }), lensError('MODEL_NOT_FOUND'));
  });

  test('cancelling stops the request', async () => {
    const controller = new AbortController();
    const pending = engine.attention({ text, model: 'bert-stacked' }, controller.signal);
    controller.abort();
    await assert.rejects(pending, lensError('CANCELLED'));
  });
});
