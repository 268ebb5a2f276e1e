/**
 * The new-keys/values rewrite (onnx/kvAppend.ts) and the generation cache that uses it (causalLm.ts, KvArena): the
 * outputs it adds are the step's part of each present, the arena's joined cache equals the presents ONNX Runtime
 * returns, and a graph it does not know is left as it was with the reason. On the exporter fixtures (Optimum's
 * past_key_values layout and ONNX Runtime's old past_{i}) and the shipped gpt2-mini.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { CausalLm, KvArena, parseCausalConfig, type KvCache } from '../../src/engine/models/causalLm';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { NEW_KV_PREFIX, newKvOutput } from '../../src/engine/models/kvCache';
import { decodeModel, encodeModel, exposeOutputs } from '../../src/engine/onnx';
import { loadSession } from '../../src/engine/runtime/ort';
import { DIST, REPO_ROOT, SHIPPED_MODELS, tempDir } from './helpers/modelFolders';

const EXPORTS = path.join(REPO_ROOT, 'test', 'fixtures', 'exporters');
const onnxOf = (dir: string, id: string): string => path.join(dir, id, 'onnx', 'model.onnx');
const KV = 'torch-gpt2-kv';
const LEGACY = 'torch-gpt2-legacy-past';

function int64(values: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
}

/** The graph without its `lm_lens_new.*` outputs (the values inside renamed): a causal LM that returns its presents only. */
function withoutNewKv(bytes: Uint8Array): Uint8Array {
  const model = decodeModel(bytes);
  const rename = (name: string): string => (name.startsWith(NEW_KV_PREFIX) ? `step.${name.slice(NEW_KV_PREFIX.length)}` : name);
  model.graph!.output = model.graph!.output!.filter((o) => !o.name!.startsWith(NEW_KV_PREFIX));
  for (const node of model.graph!.node!) {
    node.input = node.input?.map(rename);
    node.output = node.output?.map(rename);
  }
  return encodeModel(model);
}

function config(dir: string, id: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(dir, id, 'config.json'), 'utf8')) as Record<string, unknown>;
}

describe('kvAppend: a causal LM that also returns each step\'s keys and values', () => {
  test('adds one output per past input: the step\'s part of its present; every output before stays the same', async () => {
    const bytes = readFileSync(onnxOf(EXPORTS, KV));
    const result = exposeOutputs(bytes, { kvAppend: true });
    assert.equal(result.changed, true);
    const pasts = ['0.key', '0.value', '1.key', '1.value'].map((s) => `past_key_values.${s}`);
    assert.deepEqual(result.kvAppend?.outputs, Object.fromEntries(pasts.map((p) => [p, newKvOutput(p)])));

    const original = await ort.InferenceSession.create(bytes);
    const rewritten = await ort.InferenceSession.create(result.bytes);
    const empty = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 4]);
    const first = await original.run({
      input_ids: int64([3, 4, 5]),
      attention_mask: int64([1, 1, 1]),
      position_ids: int64([0, 1, 2]),
      ...Object.fromEntries(pasts.map((p) => [p, empty])),
    });
    const feeds = {
      input_ids: int64([6, 7]),
      attention_mask: int64([1, 1, 1, 1, 1]),
      position_ids: int64([3, 4]),
      ...Object.fromEntries(pasts.map((p) => [p, first[p.replace('past_key_values', 'present')]!])),
    };
    const a = await original.run(feeds);
    const b = await rewritten.run(feeds);
    for (const name of original.outputNames) assert.deepEqual(b[name]!.data, a[name]!.data, name);
    for (const past of pasts) {
      const present = a[past.replace('past_key_values', 'present')]!; // [1, 2, 5, 4]
      const added = b[newKvOutput(past)]!;
      assert.deepEqual(added.dims, [1, 2, 2, 4]);
      const want: number[] = [];
      for (let h = 0; h < 2; h++) want.push(...(present.data as Float32Array).subarray((h * 5 + 3) * 4, (h * 5 + 5) * 4));
      assert.deepEqual([...(added.data as Float32Array)], want, past);
    }
    await original.release();
    await rewritten.release();
  });

  test('says why and leaves the model as it was: ONNX Runtime\'s stacked past_{i}, another axis, control flow, no cache', () => {
    const legacy = exposeOutputs(readFileSync(onnxOf(EXPORTS, LEGACY)), { kvAppend: true });
    assert.equal(legacy.changed, false);
    assert.equal(legacy.kvAppend, undefined);
    assert.match(legacy.explanations.kvAppend!, /"present_0" is not a Concat of "past_0"/);

    const model = decodeModel(readFileSync(onnxOf(EXPORTS, KV)));
    const concat = model.graph!.node!.find((n) => n.output?.[0] === 'present.1.value')!;
    concat.attribute![0]!.i = 1;
    assert.match(exposeOutputs(encodeModel(model), { kvAppend: true }).explanations.kvAppend!, /"present.1.value" joins along axis 1/);
    concat.attribute![0]!.i = -2; // the sequence axis counted from the end: accepted
    assert.ok(exposeOutputs(encodeModel(model), { kvAppend: true }).kvAppend);
    model.graph!.node!.push({ op_type: 'If', input: ['x'], output: ['y'], name: 'branch' });
    assert.match(exposeOutputs(encodeModel(model), { kvAppend: true }).explanations.kvAppend!, /control flow/);

    const encoder = exposeOutputs(readFileSync(onnxOf(EXPORTS, 'torch-mha-encoder')), { kvAppend: true });
    assert.match(encoder.explanations.kvAppend!, /takes no key\/value cache/);
  });

  test('the shipped gpt2-mini is exported with one output per layer\'s keys and values: nothing to rewrite', () => {
    const bytes = readFileSync(onnxOf(SHIPPED_MODELS, 'gpt2-mini'));
    const layers = Number(config(SHIPPED_MODELS, 'gpt2-mini')['n_layer']);
    const outputs = decodeModel(bytes).graph!.output!.map((o) => o.name);
    const pasts = Array.from({ length: layers }, (_, i) => ['key', 'value'].map((kv) => `past_key_values.${i}.${kv}`)).flat();
    for (const past of pasts) assert.ok(outputs.includes(newKvOutput(past)), `${newKvOutput(past)} is an output`);
    const again = exposeOutputs(bytes, { kvAppend: true });
    assert.equal(again.kvAppend, undefined, 'the rewriter does not add them twice');
    assert.match(again.explanations.kvAppend!, /already has a value named "lm_lens_new\./);
    // the same graph without them (as an export before 2026-12-04 was) gets them back from the rewriter
    const stripped = exposeOutputs(withoutNewKv(bytes), { kvAppend: true });
    assert.equal(Object.keys(stripped.kvAppend?.outputs ?? {}).length, 2 * layers, stripped.explanations.kvAppend);
  });

  test('steps on a KvArena give the logits and the cache that fetching the presents gives, token after token (the shipped export and the rewrite)', async () => {
    const dir = tempDir('lm-lens-kvappend-');
    try {
      const source = onnxOf(SHIPPED_MODELS, 'gpt2-mini');
      const bare = path.join(dir.dir, 'bare.onnx');
      const rewrite = path.join(dir.dir, 'kv.onnx');
      writeFileSync(bare, withoutNewKv(readFileSync(source)));
      writeFileSync(rewrite, exposeOutputs(readFileSync(bare), { kvAppend: true }).bytes);
      const causal = parseCausalConfig(config(SHIPPED_MODELS, 'gpt2-mini'));
      const plain = new CausalLm(await loadSession(bare, { threads: 1 }), causal, 'gpt2-mini (presents only)');
      const appenders = [
        new CausalLm(await loadSession(source, { threads: 1 }), causal, 'gpt2-mini'),
        new CausalLm(await loadSession(rewrite, { threads: 1 }), causal, 'gpt2-mini (rewritten)'),
      ];
      assert.equal(plain.appends, false);
      for (const lm of appenders) {
        assert.equal(lm.appends, true);
        const arena = new KvArena();
        let a: KvCache | undefined;
        let b: KvCache | undefined;
        const prompt = [17, 250, 31, 9, 1200];
        let next = prompt;
        for (let step = 0; step < 24; step++) {
          const x = await plain.step(next, a, true);
          const y = await lm.step(next, b, true, arena);
          assert.deepEqual(y.logits, x.logits, `${lm.modelId}: logits at step ${step}`);
          for (const [name, tensor] of x.cache!) {
            assert.deepEqual(y.cache!.get(name)!.dims, tensor.dims, name);
            assert.deepEqual(y.cache!.get(name)!.data, tensor.data, `${lm.modelId}: ${name} at step ${step}`);
          }
          a = x.cache;
          b = y.cache;
          next = [(step * 37 + 11) % causal.vocabSize!]; // any token: the cache must follow whatever is fed
        }
        // a step without an arena on the same graph fetches the presents, as before
        const z = await lm.step([5], b, true);
        assert.equal(z.cache!.get('past_key_values.0.key')!.dims[2], prompt.length + 24);
      }
    } finally {
      dir.remove();
    }
  });

  test('a KvArena grows by doubling and keeps the buffer of the step before', () => {
    const arena = new KvArena();
    const first = arena.view('k', 10);
    first.fill(1);
    arena.flip();
    const second = arena.view('k', 20);
    assert.equal(second.length, 20);
    assert.notEqual(second.buffer, first.buffer, 'the two steps use two buffers');
    arena.flip();
    const grown = arena.view('k', 9000);
    assert.equal(grown.length, 9000);
    assert.ok(grown.buffer.byteLength >= 9000 * 4);
    assert.equal(second.buffer.byteLength, 4096 * 4, 'the other buffer is left alone');
    arena.flip();
    assert.equal(arena.view('k', 20).buffer, second.buffer, 'a buffer big enough is reused');
  });

  test('generation through the engine takes the rewritten copy (cached once) and writes what it writes without a cache', async () => {
    const cache = tempDir('lm-lens-kvappend-cache-');
    const engine = new Engine({ modelDirectories: modelDirectories(undefined, [EXPORTS]), workerPath: path.join(DIST, 'worker.js'), cacheDir: cache.dir });
    try {
      const request = { text: 'a bird', maxTokens: 8, minTokens: 8, model: KV };
      const cached = await engine.generate(request);
      const recomputed = await engine.generate({ ...request, noCache: true });
      assert.equal(cached.cache, true);
      assert.equal(cached.completion, recomputed.completion);
      const files = readdirSync(cache.dir);
      assert.equal(files.filter((f) => /\.kv\.v\d+\.onnx$/.test(f)).length, 1, files.join(', '));
      await engine.generate({ ...request, model: LEGACY }); // not rewritable: its own graph, no copy
      assert.equal(readdirSync(cache.dir).filter((f) => f.endsWith('.onnx')).length, 1);
    } finally {
      await engine.dispose();
      cache.remove();
    }
  });

  test('a model exported with the new-keys/values outputs is used as it is: no copy', async () => {
    const cache = tempDir('lm-lens-kvappend-cache-');
    const models = tempDir('lm-lens-kvappend-models-');
    const engine = new Engine({ modelDirectories: modelDirectories(undefined, [models.dir]), workerPath: path.join(DIST, 'worker.js'), cacheDir: cache.dir });
    try {
      cpSync(path.join(EXPORTS, KV), path.join(models.dir, KV), { recursive: true });
      writeFileSync(onnxOf(models.dir, KV), exposeOutputs(readFileSync(onnxOf(EXPORTS, KV)), { kvAppend: true }).bytes);
      const request = { text: 'a bird', maxTokens: 8, minTokens: 8, model: KV };
      const cached = await engine.generate(request);
      assert.equal(cached.completion, (await engine.generate({ ...request, noCache: true })).completion);
      assert.deepEqual(existsSync(cache.dir) ? readdirSync(cache.dir) : [], []);
    } finally {
      await engine.dispose();
      cache.remove();
      models.remove();
    }
  });
});
