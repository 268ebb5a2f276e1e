/**
 * The models shipped in media/models (put there by the training pipeline). Skipped while there are none.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { DIST, SHIPPED_MODELS } from './helpers/modelFolders';

const shipped = existsSync(SHIPPED_MODELS)
  ? readdirSync(SHIPPED_MODELS, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.'))
  : [];
const skip = shipped.length === 0 ? 'no shipped models in media/models yet (the training pipeline puts them there)' : false;

describe('shipped models', { skip }, () => {
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
