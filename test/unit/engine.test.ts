/**
 * The Engine end to end: the production worker (dist/worker.js) running a real ONNX Runtime session on a
 * hand-built ELMo-shaped model (see helpers/onnxWriter.ts).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { elmoBoundaryCharIds, elmoCharIds } from '../../src/engine/models/elmo';
import { DIST, tempDir, writeElmoFolder, writeModelFolder } from './helpers/modelFolders';
import { unloadableModel } from './helpers/onnxWriter';
import { lensError } from './helpers/lensError';

const workerPath = path.join(DIST, 'worker.js');

/** Layer 0 of the test model for a word: [sum of ids, id 1, id 2, sum of k * id_k]. */
function tokenLayer(ids: number[]): number[] {
  return [ids.reduce((a, b) => a + b, 0), ids[1]!, ids[2]!, ids.reduce((a, id, k) => a + k * id, 0)];
}

const isOrtLoaded = (): boolean => Object.keys(require.cache).some((file) => file.includes('onnxruntime-node'));

describe('Engine (real ONNX Runtime in the worker)', () => {
  const shipped = tempDir();
  const user = tempDir();
  const directories = () => modelDirectories(shipped.dir, [user.dir]);
  let engine: Engine;

  before(() => {
    writeElmoFolder(shipped.dir, 'elmo-test'); // the default bilm: the first shipped one
    writeModelFolder(user.dir, 'elmo-broken', { config: { model_type: 'elmo' }, onnx: unloadableModel() });
    writeModelFolder(user.dir, 'elmo-no-json', { config: '{', onnx: unloadableModel() });
    writeElmoFolder(user.dir, 'elmo-flat', { model_type: 'elmo', add_sentence_boundaries: false });
    engine = new Engine({ modelDirectories: directories(), workerPath });
  });
  after(async () => {
    await engine.dispose();
    shipped.remove();
    user.remove();
  });

  test('constructing an Engine and listing models never loads onnxruntime-node in this thread', async () => {
    const fresh = new Engine({ modelDirectories: directories(), workerPath });
    assert.deepEqual(
      (await fresh.listModels()).map((m) => [m.id, m.source]),
      [
        ['elmo-test', 'shipped'],
        ['elmo-broken', 'user'],
        ['elmo-flat', 'user'],
      ],
    );
    assert.equal(isOrtLoaded(), false);
    await fresh.dispose();
  });

  test("embeds a word: every layer's vector, the tokens, the index", async () => {
    const result = await engine.embed({ text: 'We sat on the river bank.', word: 'bank', model: 'elmo-test' });
    assert.equal(result.model, 'elmo-test');
    assert.deepEqual(result.tokens, ['We', 'sat', 'on', 'the', 'river', 'bank', '.']);
    assert.equal(result.index, 5);
    assert.deepEqual(result.offsets.map(([start, end]) => 'We sat on the river bank.'.slice(start, end)), result.tokens);
    assert.equal(result.truncated, false);
    assert.deepEqual(result.layers.map((l) => l.layer), ['token', 'lstm1', 'lstm2']);
    assert.deepEqual(result.layers[0]!.vector, tokenLayer(elmoCharIds('bank')));
    assert.deepEqual(result.layers[1]!.vector, tokenLayer(elmoCharIds('bank')));
    // Layer 2 adds the mean over the sequence, <S> and </S> included.
    const rows = [elmoBoundaryCharIds('begin'), ...result.tokens.map((w) => elmoCharIds(w)), elmoBoundaryCharIds('end')];
    const mean = [0, 1, 2, 3].map((d) => rows.reduce((sum, ids) => sum + tokenLayer(ids)[d]!, 0) / rows.length);
    result.layers[2]!.vector.forEach((v, d) => {
      const expected = tokenLayer(elmoCharIds('bank'))[d]! + mean[d]!;
      assert.ok(Math.abs(v - expected) <= 1e-4 * Math.abs(expected), `lstm2[${d}] = ${v}, expected ${expected}`);
    });
    assert.equal(isOrtLoaded(), false, 'ONNX Runtime stays in the worker');
  });

  test('the same word in another context: same token layer, different contextual layer', async () => {
    const river = await engine.embed({ text: 'the river bank', word: 'bank' });
    const money = await engine.embed({ text: 'the bank lent money', word: 'bank' });
    assert.deepEqual(river.layers[0], money.layers[0]);
    assert.notDeepEqual(river.layers[2], money.layers[2]);
  });

  test('occurrence picks the nth instance', async () => {
    const result = await engine.embed({ text: 'bank to bank', word: 'bank', occurrence: 2, model: 'elmo-test' });
    assert.equal(result.index, 2);
  });

  test('no sentence boundaries when the config says so', async () => {
    const result = await engine.embed({ text: 'a b', word: 'b', model: 'elmo-flat' });
    assert.equal(result.index, 1);
    assert.deepEqual(result.layers[0]!.vector, tokenLayer(elmoCharIds('b')));
  });

  test('long text is cut to a 128-word window around the word, never refused', async () => {
    const words = Array.from({ length: 400 }, (_, i) => `w${i}`);
    words[300] = 'target';
    const result = await engine.embed({ text: words.join(' '), word: 'target' });
    assert.equal(result.truncated, true);
    assert.equal(result.tokens.length, 128);
    assert.equal(result.tokens[result.index], 'target');
    assert.equal(result.index, 64);
    // the offsets point into the text sent, not into the window
    const [start, end] = result.offsets[result.index]!;
    assert.equal(words.join(' ').slice(start, end), 'target');
    assert.equal(start, words.slice(0, 300).join(' ').length + 1);
  });

  test('input errors come back as BAD_INPUT before any model is touched', async () => {
    await assert.rejects(engine.embed({ text: 'the river bank', word: 'money' }), lensError('BAD_INPUT', /does not occur/));
    await assert.rejects(engine.embed({ text: '', word: 'bank' }), lensError('BAD_INPUT', /text is empty/));
    await assert.rejects(engine.embed({ text: 'bank', word: 'bank', occurrence: 2 }), lensError('BAD_INPUT'));
  });

  test('model errors: unknown id, broken folder, and a model ONNX Runtime cannot load (no crash)', async () => {
    await assert.rejects(engine.embed({ text: 'a bank', word: 'bank', model: 'nope' }), lensError('MODEL_NOT_FOUND', /Available: /));
    await assert.rejects(engine.embed({ text: 'a bank', word: 'bank', model: 'elmo-no-json' }), lensError('MODEL_CORRUPT', /not valid JSON/));
    await assert.rejects(
      engine.embed({ text: 'a bank', word: 'bank', model: 'elmo-broken' }),
      lensError('MODEL_CORRUPT', /ONNX Runtime could not load/),
    );
    // The worker survived: the good model still works.
    assert.equal((await engine.embed({ text: 'a bank', word: 'bank', model: 'elmo-test' })).index, 1);
  });

  test('a failed model load is not cached: once the file is fixed, the same model works', async () => {
    const broken = await engine.models.get('elmo-broken');
    writeFileSync(path.join(broken.path, 'config.json'), JSON.stringify({ model_type: 'elmo' }));
    const { elmoLikeModel } = await import('./helpers/onnxWriter');
    writeFileSync(path.join(broken.path, 'onnx', 'model.onnx'), elmoLikeModel());
    assert.equal((await engine.embed({ text: 'a bank', word: 'bank', model: 'elmo-broken' })).index, 1);
  });

  test('a cancelled request rejects with CANCELLED and the engine keeps working', async () => {
    await assert.rejects(engine.embed({ text: 'a bank', word: 'bank' }, AbortSignal.abort()), lensError('CANCELLED'));
    const controller = new AbortController();
    const running = engine.embed({ text: 'a bank', word: 'bank' }, controller.signal);
    controller.abort();
    await assert.rejects(running, lensError('CANCELLED'));
    assert.equal((await engine.embed({ text: 'a bank', word: 'bank' })).index, 1);
  });

  test('with no bilm model installed, embed is MODEL_NOT_FOUND', async () => {
    const empty = tempDir();
    const bare = new Engine({ modelDirectories: modelDirectories(empty.dir), workerPath });
    await assert.rejects(bare.embed({ text: 'a bank', word: 'bank' }), lensError('MODEL_NOT_FOUND', /No bilm model is installed/));
    await bare.dispose();
    empty.remove();
  });
});
