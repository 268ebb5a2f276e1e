/**
 * buildSenseIndex end to end on the hand-built ELMo-shaped model (real ONNX Runtime in the worker): progress,
 * the cached store, and `sense` using it afterwards; cancellation.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Engine, modelDirectories } from '../../src/engine/engine';
import type { SenseIndexProgress } from '../../src/engine/api';
import { DIST, tempDir, writeElmoFolder } from './helpers/modelFolders';

describe('buildSenseIndex (background sense vectors for a user model)', () => {
  const models = tempDir();
  const cache = tempDir();
  writeElmoFolder(models.dir, 'elmo-user');
  const engine = new Engine({
    modelDirectories: modelDirectories(undefined, [models.dir]),
    workerPath: path.join(DIST, 'worker.js'),
    senses: { cacheDir: cache.dir },
  });
  after(async () => {
    await engine.dispose();
    models.remove();
    cache.remove();
  });

  test('reports progress, writes the store to the cache, and sense then uses it', async () => {
    const before = await engine.sense({ text: 'We sat on the bank of the river.', word: 'bank' });
    assert.deepEqual(before.missingSenseVectors, ['elmo-user']);
    const progress: SenseIndexProgress[] = [];
    const built = await engine.senses.buildSenseIndex('elmo-user', (p) => progress.push(p), undefined, { limit: 60 });
    assert.equal(built.model, 'elmo-user');
    assert.equal(built.examples, 60);
    assert.ok(built.synsets > 0 && built.synsets <= 60);
    assert.ok(existsSync(path.join(cache.dir, 'elmo-user.senses.json')));
    assert.ok(existsSync(path.join(cache.dir, 'elmo-user.senses.bin')));
    const phases = [...new Set(progress.map((p) => p.phase))];
    assert.deepEqual(phases, ['examples', 'embedding', 'centroids', 'writing']);
    const embedding = progress.filter((p) => p.phase === 'embedding');
    assert.equal(embedding[embedding.length - 1]!.done, 60);

    const after = await engine.sense({ text: 'We sat on the bank of the river.', word: 'bank' });
    assert.deepEqual(after.missingSenseVectors, []);
    assert.equal(after.models.elmo, 'elmo-user');
    const nearest = await engine.sense({ text: 'We sat on the bank of the river.', word: 'bank', layer: 'lstm2' });
    assert.ok(['nearest-sense', 'most-frequent-sense'].includes(nearest.method));
  });

  test('an aborted build rejects with CANCELLED', async () => {
    const controller = new AbortController();
    const building = engine.senses.buildSenseIndex('elmo-user', () => controller.abort(), controller.signal, { outDir: path.join(cache.dir, 'x') });
    await assert.rejects(building, (error: unknown) => (error as { code?: string }).code === 'CANCELLED');
  });

  test('a static-vector or unknown model is refused', async () => {
    await assert.rejects(engine.senses.buildSenseIndex('nope'), (error: unknown) => (error as { code?: string }).code === 'MODEL_NOT_FOUND');
  });
});
