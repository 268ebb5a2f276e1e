/**
 * ONNX reading and rewriting: a tiny two-layer transformer built by hand (BERT-style post-LN,
 * GPT-2-style pre-LN, and one with old exporter names that carry no layer index), rewritten to
 * expose attentions and hidden states, then run in onnxruntime-node.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { STAMP_MAX_AGE_MS } from '../../src/engine/fileStamp';
import {
  decodeModel,
  encodeModel,
  exposeOutputs,
  exposeOutputsCached,
  REWRITE_VERSION,
  findAttentionSoftmaxes,
  findFusedAttention,
  findLayerOutputs,
  layerIndexFromName,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from '../../src/engine/onnx';
import {
  makeFloatTensor,
  makeGraph,
  makeInt64Tensor,
  makeModel,
  makeNode,
  makeTensorValueInfo,
} from '../../src/engine/onnx/build';
import { HEAD_POSITIONS_INPUT } from '../../src/engine/onnx/headGather';
import { AttributeType, DataType, type GraphProto } from '../../src/engine/onnx/proto';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

const HIDDEN = 8;
const HEADS = 2;
const HEAD_DIM = HIDDEN / HEADS;
const VOCAB = 11;

type Style = 'bert' | 'gpt2' | 'unnamed';

/** Deterministic pseudo-random weights (a small LCG), so failures reproduce. */
function weights(seed: number, count: number, scale = 0.5): Float32Array {
  const out = new Float32Array(count);
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out[i] = ((state / 2147483648) * 2 - 1) * scale;
  }
  return out;
}

interface TinyModel {
  model: ModelProto;
  /** Expected block outputs (value names) in layer order. */
  blockOutputs: string[];
  softmaxOutputs: string[];
}

/**
 * input_ids [batch, seq] -> Gather -> `layers` blocks -> MatMul head -> logits [batch, seq, VOCAB];
 * attention_mask [batch, seq] becomes the additive mask (1 - m) * -10000 like HF BERT/GPT-2 exports.
 * Each block: q,k,v projections, Reshape/Transpose to heads, MatMul(q, kᵀ) -> Div -> Add(mask) ->
 * Softmax -> MatMul(·, v), output projection, residual Adds and LayerNormalization.
 */
function tinyTransformer(style: Style, layers = 2): TinyModel {
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const used = new Map<string, number>();
  let counter = 0;
  let seed = 1;
  const prefix = style === 'bert' ? '/bert/encoder/layer.' : '/transformer/h.';
  /**
   * Adds a node named the way the exporter names it: `/bert/encoder/layer.0/attention/self/MatMul`,
   * then `.../MatMul_1` in the same scope; old exporters (style 'unnamed') say `MatMul_17` and number values.
   */
  const node = (op: string, inputs: string[], scope: string, attrs: Record<string, number | number[]> = {}): string => {
    let name: string;
    let out: string;
    if (style === 'unnamed') {
      name = `${op}_${counter}`;
      out = String(counter++);
    } else {
      const base = `${scope}/${op}`;
      const n = used.get(base) ?? 0;
      used.set(base, n + 1);
      name = n === 0 ? base : `${base}_${n}`;
      out = `${name}_output_0`;
    }
    nodes.push(makeNode(op, inputs, [out], name, attrs));
    return out;
  };
  const weight = (name: string, dims: number[], scale = 0.5): string => {
    const count = dims.reduce((a, b) => a * b, 1);
    inits.push(makeFloatTensor(name, dims, weights(seed++, count, scale)));
    return name;
  };
  const constant = (name: string, value: number): string => {
    inits.push(makeFloatTensor(name, [], [value]));
    return name;
  };
  const int64s = (name: string, values: number[]): string => {
    inits.push(makeInt64Tensor(name, [values.length], values));
    return name;
  };
  const root = style === 'bert' ? '/bert' : '/transformer';

  const headShape = int64s('const_head_shape', [0, 0, HEADS, HEAD_DIM]);
  const mergedShape = int64s('const_merged_shape', [0, 0, HIDDEN]);
  const maskAxes = int64s('const_mask_axes', [1, 2]);
  const one = constant('const_one', 1);
  const minusBig = constant('const_minus_big', -10000);
  const scale = constant('const_scale', Math.sqrt(HEAD_DIM));

  let h = node('Gather', [weight('embeddings.weight', [VOCAB, HIDDEN], 1), 'input_ids'], `${root}/embeddings/word_embeddings`);
  const maskU = node('Unsqueeze', ['attention_mask', maskAxes], root);
  const maskF = node('Cast', [maskU], root, { to: DataType.FLOAT });
  const maskI = node('Sub', [one, maskF], root);
  const mask = node('Mul', [maskI, minusBig], root);

  const layerNorm = (x: string, scope: string, tag: string): string =>
    node(
      'LayerNormalization',
      [x, weight(`${tag}.gamma`, [HIDDEN], 0.2), weight(`${tag}.beta`, [HIDDEN], 0.1)],
      scope,
      { axis: -1 },
    );

  const blockOutputs: string[] = [];
  const softmaxOutputs: string[] = [];
  for (let l = 0; l < layers; l++) {
    const p = `${prefix}${l}`;
    const att = style === 'bert' ? `${p}/attention/self` : `${p}/attn`;
    const x = style === 'gpt2' ? layerNorm(h, `${p}/ln_1`, `h.${l}.ln_1`) : h;
    const proj = (tag: string, perm: number[]): string => {
      const m = node('MatMul', [x, weight(`l${l}.${tag}`, [HIDDEN, HIDDEN])], `${att}/${tag}`);
      const r = node('Reshape', [m, headShape], att);
      return node('Transpose', [r], att, { perm });
    };
    const q = proj('query', [0, 2, 1, 3]);
    const kT = proj('key', [0, 2, 3, 1]);
    const v = proj('value', [0, 2, 1, 3]);
    const scores = node('MatMul', [q, kT], att);
    const scaled = node('Div', [scores, scale], att);
    const masked = node('Add', [scaled, mask], att);
    const probs = node('Softmax', [masked], att, { axis: -1 });
    softmaxOutputs.push(probs);
    const context = node('MatMul', [probs, v], att);
    const merged = node('Reshape', [node('Transpose', [context], att, { perm: [0, 2, 1, 3] }), mergedShape], att);
    const out = node('MatMul', [merged, weight(`l${l}.out`, [HIDDEN, HIDDEN])], `${p}/attention/output/dense`);
    if (style === 'gpt2') {
      const r1 = node('Add', [h, out], p);
      const m = layerNorm(r1, `${p}/ln_2`, `h.${l}.ln_2`);
      const ff = node('MatMul', [node('Relu', [node('MatMul', [m, weight(`l${l}.fc`, [HIDDEN, 2 * HIDDEN])], `${p}/mlp/c_fc`)], `${p}/mlp`), weight(`l${l}.fc2`, [2 * HIDDEN, HIDDEN])], `${p}/mlp/c_proj`);
      h = node('Add', [r1, ff], p);
    } else {
      const r1 = node('Add', [out, h], `${p}/attention/output`);
      const ln1 = layerNorm(r1, `${p}/attention/output/LayerNorm`, `l${l}.ln1`);
      const ff = node('MatMul', [node('Relu', [node('MatMul', [ln1, weight(`l${l}.fc`, [HIDDEN, 2 * HIDDEN])], `${p}/intermediate/dense`)], `${p}/intermediate`), weight(`l${l}.fc2`, [2 * HIDDEN, HIDDEN])], `${p}/output/dense`);
      const r2 = node('Add', [ff, ln1], `${p}/output`);
      h = layerNorm(r2, `${p}/output/LayerNorm`, `l${l}.ln2`);
    }
    blockOutputs.push(h);
  }
  const final = style === 'gpt2' ? layerNorm(h, `${root}/ln_f`, 'ln_f') : h;
  const logits = node('MatMul', [final, weight('head.weight', [HIDDEN, VOCAB])], style === 'gpt2' ? '/lm_head' : '/cls/predictions/decoder');
  nodes.push(makeNode('Identity', [logits], ['logits'], style === 'unnamed' ? `Identity_${counter++}` : '/Identity'));

  const graph = makeGraph(
    'tiny',
    nodes,
    [
      makeTensorValueInfo('input_ids', DataType.INT64, ['batch_size', 'sequence_length']),
      makeTensorValueInfo('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']),
    ],
    [makeTensorValueInfo('logits', DataType.FLOAT, ['batch_size', 'sequence_length', VOCAB])],
    inits,
  );
  return { model: makeModel(graph, [{ version: 17 }]), blockOutputs, softmaxOutputs };
}

/**
 * A merged decoder like optimum's decoder_model_merged.onnx: If(use_cache_branch) runs the layers
 * in a "with past" or a "without past" branch; the weights are shared initializers of the main graph.
 */
function mergedDecoder(): ModelProto {
  const { model } = tinyTransformer('gpt2', 2);
  const branch = (tag: string): GraphProto => {
    const g = tinyTransformer('gpt2', 2).model.graph!;
    // Value and node names stay unique across the nested graphs.
    const local = new Set(g.node!.flatMap((n) => n.output!));
    const nodes = g.node!.map((n) => ({
      ...n,
      name: `${tag}${n.name}`,
      input: n.input!.map((x) => (local.has(x) ? `${tag}${x}` : x)),
      output: n.output!.map((x) => `${tag}${x}`),
    }));
    return { name: tag, node: nodes, output: [makeTensorValueInfo(`${tag}logits`, DataType.FLOAT)] };
  };
  const ifNode = makeNode('If', ['use_cache_branch'], ['logits'], 'optimum::if');
  ifNode.attribute = [
    { name: 'then_branch', type: AttributeType.GRAPH, g: branch('with_past/') },
    { name: 'else_branch', type: AttributeType.GRAPH, g: branch('no_past/') },
  ];
  const graph = makeGraph(
    'merged',
    [ifNode],
    [...model.graph!.input!, makeTensorValueInfo('use_cache_branch', DataType.BOOL, [1])],
    model.graph!.output!,
    model.graph!.initializer!,
  );
  return makeModel(graph, [{ version: 17 }]);
}

const SEQ = 5;
const IDS = [1, 4, 7, 2, 9];
const MASK = [1, 1, 1, 1, 0];

async function run(
  bytes: Uint8Array,
  extra: Record<string, import('onnxruntime-node').Tensor> = {},
): Promise<Record<string, import('onnxruntime-node').Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(IDS.map(BigInt)), [1, SEQ]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from(MASK.map(BigInt)), [1, SEQ]),
      ...extra,
    });
  } finally {
    await session.release();
  }
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

describe('onnx proto', () => {
  it('round-trips a model byte for byte, including raw_data initializers', () => {
    const bytes = encodeModel(tinyTransformer('bert').model);
    const again = encodeModel(decodeModel(bytes));
    assert.ok(Buffer.from(again).equals(Buffer.from(bytes)));
  });

  it('keeps fields it does not declare, in place, and int64 beyond 2^53', () => {
    const { model } = tinyTransformer('gpt2', 1);
    // INT64_MAX in an INTS attribute, the way old exporters write Slice "to the end".
    const int64Max = { low: -1, high: 0x7fffffff, unsigned: false };
    model.graph!.node!.push(makeNode('Slice', ['logits'], ['unused'], 'Slice_old', { axes: [0] }));
    model.graph!.node!.at(-1)!.attribute!.push({ name: 'ends', type: 7, ints: [int64Max] });
    const base = Buffer.from(encodeModel(model));
    // Append ModelProto.functions (25) and training_info (20)-like unknown fields, and an INT64_MAX varint field.
    const unknownLen = Buffer.from([0xca, 0x01, 3, 1, 2, 3]); // field 25, wire type 2, 3 bytes
    const unknownVarint = Buffer.from([0xa0, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]); // field 20 varint
    const bytes = Buffer.concat([base, unknownLen, unknownVarint]);
    const decoded = decodeModel(bytes);
    assert.equal(decoded.$unknowns?.length, 2);
    const ends = decoded.graph!.node!.at(-1)!.attribute!.find((a) => a.name === 'ends')!.ints![0];
    assert.equal(typeof ends === 'object' && ends.high, 0x7fffffff);
    assert.ok(Buffer.from(encodeModel(decoded)).equals(bytes));
  });

  it('round-trips a model serialized by ONNX Runtime (C++ protobuf) byte for byte', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lm-lens-onnx-'));
    try {
      const saved = path.join(dir, 'optimized.onnx');
      const session = await ort.InferenceSession.create(encodeModel(tinyTransformer('bert').model), {
        graphOptimizationLevel: 'basic',
        optimizedModelFilePath: saved,
      });
      await session.release();
      const bytes = await readFile(saved);
      assert.ok(bytes.length > 1000);
      assert.ok(Buffer.from(encodeModel(decodeModel(bytes))).equals(bytes));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads layer indexes from exporter node names', () => {
    assert.equal(layerIndexFromName('/bert/encoder/layer.3/attention/self/Softmax'), 3);
    assert.equal(layerIndexFromName('/transformer/h.11/attn/Softmax'), 11);
    assert.equal(layerIndexFromName('/model/layers.0/self_attn/Softmax'), 0);
    assert.equal(layerIndexFromName('/encoder/block.2/layer.0/SelfAttention/Softmax'), 2);
    assert.equal(layerIndexFromName('Softmax_123'), undefined);
    assert.equal(layerIndexFromName('/transformer/ln_f/LayerNormalization'), undefined);
  });
});

describe('finding attention and block outputs', () => {
  for (const style of ['bert', 'gpt2', 'unnamed'] as const) {
    it(`finds the Softmax and the output of each block (${style})`, () => {
      const { model, softmaxOutputs, blockOutputs } = tinyTransformer(style, 3);
      const softmaxes = findAttentionSoftmaxes(model);
      assert.deepEqual(
        softmaxes.map((s) => s.output),
        softmaxOutputs,
      );
      assert.deepEqual(
        softmaxes.map((s) => s.layer),
        [0, 1, 2],
      );
      assert.ok(softmaxes.every((s) => s.keyTransposed));
      const layers = findLayerOutputs(model);
      assert.deepEqual(
        layers.map((l) => l.output),
        blockOutputs,
      );
      assert.equal(layers[0].method, style === 'unnamed' ? 'topology' : 'names');
    });
  }

  it('orders layers by the index in their names, not by graph order', () => {
    const { model, softmaxOutputs } = tinyTransformer('bert', 3);
    const graphNodes = model.graph!.node!;
    // Move layer 2's Softmax before layer 1's in the node list (still a valid graph order is not needed here).
    const s2 = graphNodes.findIndex((n) => n.name === '/bert/encoder/layer.2/attention/self/Softmax');
    const [moved] = graphNodes.splice(s2, 1);
    graphNodes.splice(graphNodes.length - 2, 0, moved);
    assert.deepEqual(
      findAttentionSoftmaxes(model).map((s) => s.output),
      softmaxOutputs,
    );
  });

  it('ignores a Softmax over logits (a MatMul with a weight)', () => {
    const graph = makeGraph(
      'classifier',
      [
        makeNode('MatMul', ['x', 'w'], ['logits'], '/classifier/MatMul'),
        makeNode('Softmax', ['logits'], ['probs'], '/Softmax', { axis: -1 }),
      ],
      [makeTensorValueInfo('x', DataType.FLOAT, [1, 4])],
      [makeTensorValueInfo('probs', DataType.FLOAT, [1, 3])],
      [makeFloatTensor('w', [4, 3], weights(3, 12))],
    );
    assert.deepEqual(findAttentionSoftmaxes(makeModel(graph)), []);
  });

  it('explains fused attention it cannot write out (unidirectional) instead of exposing it', () => {
    const graph = makeGraph(
      'fused',
      [
        makeNode('Attention', ['x', 'w', 'b', 'mask'], ['ctx'], '/bert/encoder/layer.0/attention/self/Attention', { num_heads: 2, unidirectional: 1 }, 'com.microsoft'),
        makeNode('Add', ['ctx', 'x'], ['res'], '/bert/encoder/layer.0/attention/output/Add'),
        makeNode('LayerNormalization', ['res', 'g', 'beta'], ['h0'], '/bert/encoder/layer.0/output/LayerNorm/LayerNormalization'),
        makeNode('MatMul', ['h0', 'head'], ['logits'], '/cls/MatMul'),
      ],
      [makeTensorValueInfo('x', DataType.FLOAT, [1, 'seq', 4]), makeTensorValueInfo('mask', DataType.INT32, [1, 'seq'])],
      [makeTensorValueInfo('logits', DataType.FLOAT, [1, 'seq', 3])],
      [
        makeFloatTensor('w', [4, 12], weights(1, 48)),
        makeFloatTensor('b', [12], weights(2, 12)),
        makeFloatTensor('g', [4], weights(3, 4)),
        makeFloatTensor('beta', [4], weights(4, 4)),
        makeFloatTensor('head', [4, 3], weights(5, 12)),
      ],
    );
    const model = makeModel(graph, [{ version: 17 }, { domain: 'com.microsoft', version: 1 }]);
    assert.deepEqual(findFusedAttention(model).map((f) => `${f.domain}.${f.opType}`), ['com.microsoft.Attention']);
    const result = exposeOutputs(encodeModel(model));
    assert.deepEqual(result.attentions, []);
    assert.match(result.explanations.attentions ?? '', /fused operators \(com\.microsoft\.Attention/);
    assert.match(result.explanations.attentions ?? '', /node "\/bert\/encoder\/layer\.0\/attention\/self\/Attention" uses unidirectional=1/);
    assert.deepEqual(result.decomposedAttention, []);
    // Hidden states do not depend on attention: still exposed from the names.
    assert.deepEqual(result.hiddenStates.map((h) => h.source), ['h0']);
    assert.equal(result.explanations.hiddenStates, undefined);
  });

  it('explains a model without attention and leaves it unchanged', () => {
    const graph = makeGraph(
      'mlp',
      [makeNode('MatMul', ['x', 'w'], ['y'], 'MatMul_0')],
      [makeTensorValueInfo('x', DataType.FLOAT, [1, 4])],
      [makeTensorValueInfo('y', DataType.FLOAT, [1, 3])],
      [makeFloatTensor('w', [4, 3], weights(3, 12))],
    );
    const bytes = encodeModel(makeModel(graph));
    const result = exposeOutputs(bytes);
    assert.equal(result.changed, false);
    assert.equal(result.bytes, bytes);
    assert.match(result.explanations.attentions ?? '', /No attention was found/);
    assert.match(result.explanations.hiddenStates ?? '', /could not be told apart/);
  });

  it('rejects bytes that are not a model with MODEL_CORRUPT', () => {
    assert.throws(() => exposeOutputs(Buffer.from('not an onnx file, just text')), { code: 'MODEL_CORRUPT' });
  });
});

describe('exposed outputs in onnxruntime-node', () => {
  for (const style of ['bert', 'gpt2', 'unnamed'] as const) {
    it(`adds attentions.{i} and hidden_states.{i} that compute the right values (${style})`, async () => {
      const { model } = tinyTransformer(style, 2);
      const original = encodeModel(model);
      const result = exposeOutputs(original, { attentions: true, hiddenStates: true });
      assert.equal(result.changed, true);
      assert.deepEqual(result.attentions.map((a) => a.name), ['attentions.0', 'attentions.1']);
      assert.deepEqual(result.hiddenStates.map((h) => h.name), ['hidden_states.0', 'hidden_states.1']);
      assert.deepEqual(result.explanations, {});

      const before = await run(original);
      const after = await run(result.bytes);
      assert.deepEqual(Object.keys(before), ['logits']);
      // Original output unchanged.
      assertClose(after.logits.data as Float32Array, before.logits.data as Float32Array, 1e-5, 'logits');

      for (const name of ['attentions.0', 'attentions.1']) {
        const t = after[name];
        assert.deepEqual(t.dims, [1, HEADS, SEQ, SEQ], name);
        const data = t.data as Float32Array;
        for (let row = 0; row < HEADS * SEQ; row++) {
          const probs = Array.from(data.subarray(row * SEQ, row * SEQ + SEQ));
          assert.ok(probs.every((p) => p >= 0 && p <= 1), `${name} row ${row} in [0, 1]`);
          assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5, `${name} row ${row} sums to 1`);
          assert.ok(probs[SEQ - 1] < 1e-3, `${name} row ${row}: the padded key gets no attention`);
        }
      }
      for (const name of ['hidden_states.0', 'hidden_states.1']) {
        assert.deepEqual(after[name].dims, [1, SEQ, HIDDEN], name);
      }
      if (style === 'bert' || style === 'unnamed') {
        // BERT-style: logits = hidden_states.last × head, so the last block output is the right value.
        const head = model.graph!.initializer!.find((t) => t.name === 'head.weight')!;
        const w = new Float32Array(head.raw_data!.slice().buffer);
        const hs = after['hidden_states.1'].data as Float32Array;
        const logits = new Float32Array(SEQ * VOCAB);
        for (let s = 0; s < SEQ; s++) {
          for (let v = 0; v < VOCAB; v++) {
            let sum = 0;
            for (let d = 0; d < HIDDEN; d++) sum += hs[s * HIDDEN + d] * w[d * VOCAB + v];
            logits[s * VOCAB + v] = sum;
          }
        }
        assertClose(logits, before.logits.data as Float32Array, 1e-4, 'head(hidden_states.1)');
      }
    });
  }

  it('exposes attentions and hidden states from both branches of a merged decoder (If)', async () => {
    const original = encodeModel(mergedDecoder());
    const result = exposeOutputs(original);
    assert.deepEqual(result.explanations, {});
    assert.deepEqual(result.attentions.map((a) => a.name), ['attentions.0', 'attentions.1']);
    assert.deepEqual(result.hiddenStates.map((h) => h.name), ['hidden_states.0', 'hidden_states.1']);
    for (const useCache of [true, false]) {
      const feeds = { use_cache_branch: new ort.Tensor('bool', [useCache], [1]) };
      const before = await run(original, feeds);
      const after = await run(result.bytes, feeds);
      assertClose(after.logits.data as Float32Array, before.logits.data as Float32Array, 1e-5, `logits (${useCache})`);
      const probs = after['attentions.1'].data as Float32Array;
      assert.deepEqual(after['attentions.1'].dims, [1, HEADS, SEQ, SEQ]);
      for (let row = 0; row < HEADS * SEQ; row++) {
        const sum = probs.subarray(row * SEQ, row * SEQ + SEQ).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `row ${row} sums to 1 (${useCache})`);
      }
      assert.deepEqual(after['hidden_states.1'].dims, [1, SEQ, HIDDEN]);
    }
  });

  it('exposes only what is asked for, and a second rewrite adds nothing', () => {
    const original = encodeModel(tinyTransformer('bert').model);
    const onlyAttn = exposeOutputs(original, { attentions: true, hiddenStates: false });
    assert.equal(onlyAttn.attentions.length, 2);
    assert.equal(onlyAttn.hiddenStates.length, 0);
    const outputs = decodeModel(onlyAttn.bytes).graph!.output!.map((o) => o.name);
    assert.deepEqual(outputs, ['logits', 'attentions.0', 'attentions.1']);
    const again = exposeOutputs(onlyAttn.bytes, { attentions: true, hiddenStates: false });
    assert.equal(again.changed, false);
    assert.equal(again.attentions.length, 2);
  });
});

describe('exposeOutputsCached', () => {
  it('writes the rewritten model and mapping once, keyed by the sha256 of the source', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lm-lens-onnx-cache-'));
    try {
      const modelPath = path.join(dir, 'model.onnx');
      await writeFile(modelPath, encodeModel(tinyTransformer('gpt2').model));
      const cacheDir = path.join(dir, 'cache');
      const [first, concurrent] = await Promise.all([
        exposeOutputsCached(modelPath, cacheDir),
        exposeOutputsCached(modelPath, cacheDir),
      ]);
      assert.equal(first, concurrent, 'concurrent calls share one promise');
      assert.match(path.basename(first.path), new RegExp(`^[0-9a-f]{64}\\.ah\\.v${REWRITE_VERSION}\\.onnx$`));
      assert.equal(first.mapping.attentions.length, 2);
      const files = (await readdir(cacheDir)).sort();
      assert.equal(files.length, 2);
      const mtime = (await stat(first.path)).mtimeMs;

      const second = await exposeOutputsCached(modelPath, cacheDir, {}, first.mapping.sourceSha256);
      assert.equal(second.path, path.resolve(first.path));
      assert.deepEqual(second.mapping, first.mapping);
      assert.equal((await stat(first.path)).mtimeMs, mtime, 'not rewritten');

      const outputs = await run(new Uint8Array(await readFile(second.path)));
      assert.ok(outputs['attentions.1'] && outputs['hidden_states.1']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers again from memory while the file is unchanged (size, mtime), and looks again once it changed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lm-lens-onnx-memo-'));
    try {
      const modelPath = path.join(dir, 'model.onnx');
      await writeFile(modelPath, encodeModel(tinyTransformer('gpt2').model));
      const cacheDir = path.join(dir, 'cache');
      const first = await exposeOutputsCached(modelPath, cacheDir);
      const mappingFile = path.join(cacheDir, `${path.basename(first.path, '.onnx')}.json`);
      await rm(mappingFile); // a call that hashed the model and read its cache entry would write this again

      await delay(STAMP_MAX_AGE_MS + 50); // the stamp is looked at again, and found the same
      const again = await exposeOutputsCached(modelPath, cacheDir);
      assert.equal(again, first, 'the same answer, from memory');
      assert.equal(existsSync(mappingFile), false, 'no hashing, no cache lookup');

      const later = new Date(Date.now() + 60_000);
      await utimes(modelPath, later, later); // the same bytes, touched: looked at again (and found the same)
      await delay(STAMP_MAX_AGE_MS + 50);
      const touched = await exposeOutputsCached(modelPath, cacheDir);
      assert.equal(touched.path, first.path);
      assert.equal(existsSync(mappingFile), true, 'resolved again, its entry rewritten');

      await rm(touched.path); // the cache folder cleared under a running process: the copy is written again
      assert.equal(await exposeOutputsCached(modelPath, cacheDir), touched, 'within the max age: from memory, no stat');
      await delay(STAMP_MAX_AGE_MS + 50);
      const rewritten = await exposeOutputsCached(modelPath, cacheDir);
      assert.equal(rewritten.path, first.path);
      assert.equal(existsSync(rewritten.path), true);

      await writeFile(modelPath, encodeModel(tinyTransformer('bert').model)); // replaced by another model
      await delay(STAMP_MAX_AGE_MS + 50);
      const replaced = await exposeOutputsCached(modelPath, cacheDir);
      assert.notEqual(replaced.path, first.path);
      assert.notEqual(replaced.mapping.sourceSha256, first.mapping.sourceSha256);

      await rm(modelPath); // gone: an error, even though its rewritten copy is still cached
      await delay(STAMP_MAX_AGE_MS + 50);
      await assert.rejects(exposeOutputsCached(modelPath, cacheDir, {}, replaced.mapping.sourceSha256), /ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('head gather: a masked LM whose head runs at one position per row', () => {
  /** Two rows of the tiny model's input, and each row's position to keep. */
  const ROWS = [IDS, [3, 3, 8, 1, 5]];
  const POSITIONS = [1, 3];
  async function runRows(bytes: Uint8Array, positions?: number[]): Promise<import('onnxruntime-node').Tensor> {
    const session = await ort.InferenceSession.create(bytes);
    try {
      const feeds: Record<string, import('onnxruntime-node').Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ROWS.flat().map(BigInt)), [ROWS.length, SEQ]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(ROWS.length * SEQ).fill(1n), [ROWS.length, SEQ]),
      };
      if (positions) feeds[HEAD_POSITIONS_INPUT] = new ort.Tensor('int64', BigInt64Array.from(positions.map(BigInt)), [positions.length]);
      assert.deepEqual(session.outputNames, ['logits']);
      return (await session.run(feeds)).logits!;
    } finally {
      await session.release();
    }
  }

  for (const style of ['bert', 'unnamed'] as const) {
    it(`the logits at the kept positions equal the whole graph's there (${style})`, async () => {
      const original = encodeModel(tinyTransformer(style, 2).model);
      const result = exposeOutputs(original, { headGather: 'logits' });
      assert.equal(result.changed, true);
      assert.deepEqual(result.attentions, [], 'a head gather adds no other outputs');
      assert.equal(result.headGather?.input, HEAD_POSITIONS_INPUT);
      const full = await runRows(original);
      const gathered = await runRows(result.bytes, POSITIONS);
      assert.deepEqual(gathered.dims, [ROWS.length, 1, VOCAB]);
      POSITIONS.forEach((position, b) => {
        const at = (full.data as Float32Array).subarray((b * SEQ + position) * VOCAB, (b * SEQ + position + 1) * VOCAB);
        assertClose((gathered.data as Float32Array).subarray(b * VOCAB, (b + 1) * VOCAB), at, 1e-5, `row ${b}`);
      });
    });
  }

  it('drops the outputs and nodes the logits do not need (exposed attentions, hidden states)', () => {
    const exposed = exposeOutputs(encodeModel(tinyTransformer('bert', 2).model), { attentions: true, hiddenStates: true });
    const before = decodeModel(exposed.bytes);
    const after = decodeModel(exposeOutputs(exposed.bytes, { headGather: 'logits' }).bytes);
    assert.deepEqual(after.graph!.output!.map((o) => o.name), ['logits']);
    const made = (graph: ModelProto): string[] => graph.graph!.node!.flatMap((n) => n.output!);
    assert.ok(made(before).includes('attentions.0'));
    assert.deepEqual(made(after).filter((o) => /^(attentions|hidden_states)\./.test(o)), [], 'their Identity copies are gone');
    assert.deepEqual(after.graph!.input!.map((i) => i.name), ['input_ids', 'attention_mask', HEAD_POSITIONS_INPUT]);
  });

  it('says why it cannot, and leaves the model as it was: no such output, an old opset', () => {
    const bytes = encodeModel(tinyTransformer('bert', 2).model);
    const missing = exposeOutputs(bytes, { headGather: 'prediction_scores' });
    assert.equal(missing.changed, false);
    assert.equal(missing.bytes, bytes);
    assert.equal(missing.headGather, undefined);
    assert.match(missing.explanations.headGather!, /no output "prediction_scores"/);
    const old = tinyTransformer('bert', 2).model;
    old.opset_import = [{ version: 10 }];
    assert.match(exposeOutputs(encodeModel(old), { headGather: 'logits' }).explanations.headGather!, /opset is below 11/);
  });

  it('a head that mixes positions gives other numbers after the rewrite: why the engine checks the copy first', async () => {
    // after the last block, the mean over the sequence is added to every position (a graph no BERT has)
    const { model, blockOutputs } = tinyTransformer('bert', 2);
    const graph = model.graph!;
    const last = blockOutputs.at(-1)!;
    const head = graph.node!.find((n) => n.input!.includes(last) && n.op_type === 'MatMul')!;
    graph.node!.splice(graph.node!.indexOf(head), 0,
      makeNode('ReduceMean', [last], ['mixed_mean'], '/mix/ReduceMean', { axes: [1], keepdims: 1 }),
      makeNode('Add', [last, 'mixed_mean'], ['mixed'], '/mix/Add'));
    head.input = head.input!.map((x) => (x === last ? 'mixed' : x));
    const original = encodeModel(model);
    const full = await runRows(original);
    const gathered = await runRows(exposeOutputs(original, { headGather: 'logits' }).bytes, POSITIONS);
    const at = (full.data as Float32Array).subarray(POSITIONS[0]! * VOCAB, (POSITIONS[0]! + 1) * VOCAB);
    const got = (gathered.data as Float32Array).subarray(0, VOCAB);
    assert.ok(at.some((x, v) => Math.abs(x - got[v]!) > 1e-3), 'the mean over one position is not the mean over the row');
  });

  it('is cached under its own key beside the exposed copies', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lm-lens-head-cache-'));
    try {
      const modelPath = path.join(dir, 'model.onnx');
      await writeFile(modelPath, encodeModel(tinyTransformer('bert').model));
      const cached = await exposeOutputsCached(modelPath, path.join(dir, 'cache'), { headGather: 'logits' });
      assert.match(path.basename(cached.path), new RegExp(`^[0-9a-f]{64}\\.head-logits\\.v${REWRITE_VERSION}\\.onnx$`));
      assert.equal(cached.mapping.headGather?.input, HEAD_POSITIONS_INPUT);
      const exposed = await exposeOutputsCached(modelPath, path.join(dir, 'cache'));
      assert.notEqual(exposed.path, cached.path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
