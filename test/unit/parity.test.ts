/**
 * Parity: the shipped ONNX files, run by onnxruntime-node, reproduce the torch reference outputs that the training
 * pipeline saved for fixed inputs (test/fixtures/parity/<id>.json), max |diff| <= 1e-4.
 * Models exported with float16 weights (config.json `lm_lens_weights`) keep that tolerance: the exporter rounds the
 * torch weights to float16 before it computes the reference, so both sides compute in float32 on the same weights.
 * Also run on the smoke build (training/work-smoke) when CI has produced it, so the exporter is checked either way.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

// Tests may load ONNX Runtime directly: they are not the extension host.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TOLERANCE = 1e-4;

interface Json {
  dims: number[];
  data: number[];
  dtype?: string;
}
interface Case {
  inputs: Record<string, Json>;
  outputs: Record<string, Json>;
}
interface Reference extends Partial<Case> {
  model: string;
  steps?: Case[];
  slice_last?: Record<string, number>;
}

function feeds(inputs: Record<string, Json>): Record<string, import('onnxruntime-node').Tensor> {
  const out: Record<string, import('onnxruntime-node').Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) {
    out[name] = t.dtype === 'int64'
      ? new ort.Tensor('int64', BigInt64Array.from(t.data.map((x) => BigInt(x))), t.dims)
      : new ort.Tensor('float32', Float32Array.from(t.data), t.dims);
  }
  return out;
}

/** Keep the first `n` entries of the last axis (the references store a slice of the vocabulary logits). */
function sliceLast(data: Float32Array, dims: readonly number[], n: number): number[] {
  const last = dims[dims.length - 1];
  const out: number[] = [];
  for (let row = 0; row < data.length / last; row++) {
    for (let j = 0; j < n; j++) out.push(data[row * last + j]);
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'same number of values');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function check(modelDir: string, ref: Reference): Promise<Record<string, number>> {
  const session = await ort.InferenceSession.create(path.join(modelDir, 'onnx', 'model.onnx'));
  const diffs: Record<string, number> = {};
  const cases: Case[] = ref.steps ?? [{ inputs: ref.inputs!, outputs: ref.outputs! }];
  for (const [i, c] of cases.entries()) {
    const result = await session.run(feeds(c.inputs));
    for (const [name, want] of Object.entries(c.outputs)) {
      const got = result[name];
      assert.ok(got, `output ${name} exists`);
      const n = ref.slice_last?.[name];
      const gotDims = [...got.dims];
      const values = n ? sliceLast(got.data as Float32Array, gotDims, n) : Array.from(got.data as Float32Array);
      if (n) gotDims[gotDims.length - 1] = n;
      assert.deepEqual(gotDims, want.dims, `${name} shape`);
      diffs[`${i}:${name}`] = maxAbsDiff(values, want.data);
    }
  }
  return diffs;
}

const builds = [
  { name: 'shipped', refs: path.join(ROOT, 'test', 'fixtures', 'parity'), models: path.join(ROOT, 'media', 'models') },
  { name: 'smoke', refs: path.join(ROOT, 'training', 'work-smoke', 'parity'), models: path.join(ROOT, 'training', 'work-smoke', 'models') },
];

for (const build of builds) {
  const files = existsSync(build.refs) ? readdirSync(build.refs).filter((f) => f.endsWith('.json')) : [];
  describe(`ONNX parity with torch (${build.name} models)`, { skip: files.length ? false : `no ${build.name} parity references` }, () => {
    for (const file of files) {
      const ref = JSON.parse(readFileSync(path.join(build.refs, file), 'utf8')) as Reference;
      const dir = path.join(build.models, ref.model);
      test(ref.model, { skip: existsSync(dir) ? false : `${dir} missing` }, async () => {
        const diffs = await check(dir, ref);
        for (const [name, d] of Object.entries(diffs)) assert.ok(d <= TOLERANCE, `${ref.model} ${name}: max |diff| ${d} > ${TOLERANCE}`);
      });
    }
  });
}

test('maxAbsDiff finds the largest difference', () => {
  assert.equal(maxAbsDiff([1, 2, 3], [1, 2.5, 2]), 1);
  assert.throws(() => maxAbsDiff([1], [1, 2]));
});
