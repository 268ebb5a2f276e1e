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

describe('shipped models', { skip }, () => {
  test('each ONNX file stores its weights as its config.json says (float16: every tensor of min_elements+ values)', () => {
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
      const types = new Set(large.map((t) => t.data_type));
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
