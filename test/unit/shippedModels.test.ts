/**
 * The models shipped in media/models (put there by the training pipeline). Skipped while there are none.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { DataType, decodeModel } from '../../src/engine/onnx';
import { DIST, SHIPPED_MODELS } from './helpers/modelFolders';

const shipped = existsSync(SHIPPED_MODELS)
  ? readdirSync(SHIPPED_MODELS, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.'))
  : [];
const skip = shipped.length === 0 ? 'no shipped models in media/models yet (the training pipeline puts them there)' : false;

/** Whether every value of a float32 initializer is finite and within float16's range. */
function float16Holds(t: { raw_data?: Uint8Array; float_data?: number[] }): boolean {
  const raw = t.raw_data;
  // a copy (new Uint8Array): aligned for Float32Array, and not a view of the whole file's Buffer
  const values = raw && raw.byteLength > 0 ? new Float32Array(new Uint8Array(raw).buffer) : Float32Array.from(t.float_data ?? []);
  return values.every((v) => Number.isFinite(v) && Math.abs(v) <= 65504);
}

describe('shipped models', { skip }, () => {
  test('each ONNX file stores its weights as its config.json says (float16: every tensor of min_elements+ values that float16 can hold)', () => {
    let checked = 0;
    for (const dir of shipped) {
      const folder = path.join(SHIPPED_MODELS, dir.name);
      const onnxFile = path.join(folder, 'onnx', 'model.onnx');
      if (!existsSync(onnxFile)) continue; // static vectors
      const config = JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8')) as {
        lm_lens_weights?: { stored: string; min_elements?: number };
      };
      const stored = config.lm_lens_weights?.stored ?? 'float32'; // folders exported before the field existed
      const large = decodeModel(readFileSync(onnxFile)).graph!.initializer!
        .filter((t) => (t.dims ?? []).reduce((n: number, d) => n * Number(d), 1) >= (config.lm_lens_weights?.min_elements ?? 1024));
      assert.ok(large.length > 0, `${dir.name}: has weights`);
      // the exporter's rule (training/export.py fp16_storable): a tensor with a value float16 cannot hold (not finite,
      // or beyond 65504, as a -1e9 mask) stays float32 in a float16 file
      const types = new Set(large.filter((t) => t.data_type !== DataType.FLOAT || float16Holds(t)).map((t) => t.data_type));
      assert.deepEqual([...types], [stored === 'float16' ? DataType.FLOAT16 : DataType.FLOAT], `${dir.name}: ${stored}`);
      checked++;
    }
    assert.ok(checked > 0);
  });

  test('every shipped folder is a usable model', async () => {
    const engine = new Engine({ modelDirectories: modelDirectories(SHIPPED_MODELS), workerPath: path.join(DIST, 'worker.js') });
    try {
      const { models, problems } = await engine.models.scan();
      assert.deepEqual(problems.map((p) => `${p.id}: ${p.error.message}`), []);
      assert.equal(models.length, shipped.length);
      for (const model of models) assert.equal(model.source, 'shipped');
    } finally {
      await engine.dispose();
    }
  });

  test('the default bilm model embeds a word in every layer', async (t) => {
    const engine = new Engine({ modelDirectories: modelDirectories(SHIPPED_MODELS), workerPath: path.join(DIST, 'worker.js') });
    try {
      if (!(await engine.listModels()).some((m) => m.kind === 'bilm')) {
        t.skip('no shipped bilm (ELMo) model yet');
        return;
      }
      const river = await engine.embed({ text: 'We sat on the bank of the river.', word: 'bank' });
      const money = await engine.embed({ text: 'She took the money to the bank.', word: 'bank' });
      assert.ok(river.layers.length >= 2);
      const dims = new Set(river.layers.map((l) => l.vector.length));
      assert.equal(dims.size, 1, 'every layer has the same width');
      for (const layer of river.layers) assert.ok(layer.vector.every(Number.isFinite));
      const last = river.layers.length - 1;
      assert.notDeepEqual(river.layers[last]!.vector, money.layers[last]!.vector, 'the top layer depends on the context');
    } finally {
      await engine.dispose();
    }
  });
});
