/**
 * Parity: the shipped ONNX files, run by onnxruntime-node, reproduce the torch reference outputs that the training
 * pipeline saved for fixed inputs (test/fixtures/parity/<id>.json): every value within 1e-4 + 1e-5 x |reference|
 * (numpy.allclose's form). The relative part is there because both sides compute in float32 but sum in another order
 * (ONNX Runtime's MLAS against torch's BLAS), and such differences scale with the value: bert-mini's logits reach
 * +-54, where 1e-4 is about 27 float32 steps (its 2026-12-05 export differed by 1.03e-4 at a logit of -44.9, a relative
 * 2.3e-6), while attention probabilities and most hidden states stay under 1e-5 apart.
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
const ABS_TOLERANCE = 1e-4;
const REL_TOLERANCE = 1e-5;

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

export interface Closeness {
  /** The largest |got - want| and the reference value where it is. */
  maxAbsDiff: number;
  wantThere: number;
  /** The first value outside ABS_TOLERANCE + REL_TOLERANCE x |want|, if any. */
  outside?: { index: number; got: number; want: number };
}

export function closeness(got: ArrayLike<number>, want: ArrayLike<number>): Closeness {
  assert.equal(got.length, want.length, 'same number of values');
  const result: Closeness = { maxAbsDiff: 0, wantThere: Number.NaN };
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (d > result.maxAbsDiff) Object.assign(result, { maxAbsDiff: d, wantThere: want[i] });
    if (!result.outside && !(d <= ABS_TOLERANCE + REL_TOLERANCE * Math.abs(want[i]))) result.outside = { index: i, got: got[i], want: want[i] };
  }
  return result;
}

async function check(modelDir: string, ref: Reference): Promise<Record<string, Closeness>> {
  const session = await ort.InferenceSession.create(path.join(modelDir, 'onnx', 'model.onnx'));
  const diffs: Record<string, Closeness> = {};
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
      diffs[`${i}:${name}`] = closeness(values, want.data);
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
        for (const [name, c] of Object.entries(diffs)) {
          const o = c.outside;
          assert.ok(!o, o && `${ref.model} ${name}[${o.index}]: ${o.got} against ${o.want}, more than ${ABS_TOLERANCE} + ${REL_TOLERANCE} x |${o.want}| apart (largest difference ${c.maxAbsDiff} at ${c.wantThere})`);
        }
      });
    }
  });
}

test('closeness finds the largest difference and the first value outside the tolerance', () => {
  const c = closeness([1, 2, 3], [1, 2.5, 2]);
  assert.equal(c.maxAbsDiff, 1);
  assert.equal(c.wantThere, 2);
  assert.deepEqual(c.outside, { index: 1, got: 2, want: 2.5 });
  assert.throws(() => closeness([1], [1, 2]));
});

test('the tolerance is 1e-4 near zero and grows with the value (1e-5 of it)', () => {
  assert.equal(closeness([0.5 + 9e-5], [0.5]).outside, undefined);
  assert.deepEqual(closeness([0.5 + 2e-4], [0.5]).outside?.index, 0);
  assert.equal(closeness([-44.9 + 1.03e-4], [-44.9]).outside, undefined); // 1e-4 + 4.5e-4 allowed
  assert.deepEqual(closeness([-44.9 + 6e-4], [-44.9]).outside?.index, 0);
  assert.deepEqual(closeness([Number.NaN], [1]).outside?.index, 0);
});
