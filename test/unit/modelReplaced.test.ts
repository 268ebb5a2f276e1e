/**
 * A model folder whose files are replaced while the engine runs (Remove Model then Add Model under the same id, a
 * user copying a new export over an old one) is used as it is now on the next request, not as it was when first loaded.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Engine, modelDirectories } from '../../src/engine/engine';
import type { LensError } from '../../src/engine/errors';
import { STAMP_MAX_AGE_MS, StampedCache } from '../../src/engine/fileStamp';
import { decodeModel, encodeModel, exposeOutputs } from '../../src/engine/onnx';
import { loadSession } from '../../src/engine/runtime/ort';
import type { HostTensor } from '../../src/engine/runtime/session';
import { slowLeftNeighbourMaskedModel } from './helpers/lmModels';
import { DIST, REPO_ROOT, tempDir } from './helpers/modelFolders';

const KV = path.join(REPO_ROOT, 'test', 'fixtures', 'exporters', 'torch-gpt2-kv');

/** The fixture's graph with its token embedding scaled: another model of the same shape. */
function otherWeights(bytes: Uint8Array): Uint8Array {
  const model = decodeModel(bytes);
  const floats = model.graph!.initializer!.filter((t) => t.data_type === 1 && (t.raw_data?.length ?? 0) > 0);
  const init = floats.reduce((a, b) => (b.raw_data!.length > a.raw_data!.length ? b : a)); // the largest: an embedding
  const values = new Float32Array(Uint8Array.from(init.raw_data!).buffer);
  for (let i = 0; i < values.length; i++) values[i] = values[i]! * 3 + 0.01;
  init.raw_data = new Uint8Array(values.buffer);
  return encodeModel(model);
}

test('a model replaced on disk is used as it is now', async () => {
  const models = tempDir('lm-lens-replaced-');
  const onnx = path.join(models.dir, 'm', 'onnx', 'model.onnx');
  const engine = new Engine({ modelDirectories: modelDirectories(undefined, [models.dir]), workerPath: path.join(DIST, 'worker.js'), cacheDir: path.join(models.dir, '.cache') });
  const fresh = new Engine({ modelDirectories: modelDirectories(undefined, [models.dir]), workerPath: path.join(DIST, 'worker.js'), cacheDir: path.join(models.dir, '.cache2') });
  try {
    cpSync(KV, path.join(models.dir, 'm'), { recursive: true });
    writeFileSync(onnx, exposeOutputs(readFileSync(onnx), { kvAppend: true }).bytes); // its own graph serves: no rewritten copy
    const request = { text: 'a bird sat on the tree', model: 'm' };
    const before = await engine.score(request);
    writeFileSync(onnx, otherWeights(readFileSync(onnx)));
    const want = await fresh.score(request);
    assert.notEqual(want.perplexity, before.perplexity, 'the fixture change makes another model');
    await delay(STAMP_MAX_AGE_MS + 50); // the engine trusts what it saw for that long
    const after = await engine.score(request);
    assert.equal(after.perplexity, want.perplexity);
  } finally {
    await engine.dispose();
    await fresh.dispose();
    models.remove();
  }
});

test('a model folder added on disk is found by its name without a refresh, one deleted is reported missing, and a picker lists them as they are, broken and mended', async () => {
  const models = tempDir('lm-lens-appeared-');
  const engine = new Engine({ modelDirectories: modelDirectories(undefined, [models.dir]), workerPath: path.join(DIST, 'worker.js'), cacheDir: path.join(models.dir, '.cache') });
  try {
    cpSync(KV, path.join(models.dir, 'm'), { recursive: true });
    assert.deepEqual((await engine.listModels()).map((m) => m.id), ['m']);
    cpSync(KV, path.join(models.dir, 'n'), { recursive: true }); // copied in by hand, not through Add Model
    const scored = await engine.score({ text: 'a bird', model: 'n' });
    assert.equal(scored.model, 'n');
    rmSync(path.join(models.dir, 'm'), { recursive: true });
    await assert.rejects(engine.score({ text: 'a bird', model: 'm' }), (error: LensError) => error.code === 'MODEL_NOT_FOUND');
    cpSync(KV, path.join(models.dir, 'o'), { recursive: true });
    assert.deepEqual((await engine.listModels()).map((m) => m.id), ['n', 'o'], 'a model picker lists the folders as they are now');
    writeFileSync(path.join(models.dir, 'o', 'config.json'), '{ not json');
    const { models: usable, problems } = await engine.models.current();
    assert.deepEqual(usable.map((m) => m.id), ['n']);
    assert.deepEqual(problems.map((p) => p.id), ['o'], 'a folder broken since is reported, not listed');
    const config = readFileSync(path.join(KV, 'config.json'));
    writeFileSync(path.join(models.dir, 'o', 'config.json'), config); // mended in place: the folder's entries are the same
    assert.deepEqual((await engine.models.current()).models.map((m) => m.id), ['n', 'o'], 'a folder mended by hand is listed again');
    const nOnnx = path.join(models.dir, 'n', 'onnx', 'model.onnx');
    writeFileSync(nOnnx, 'not a model');
    assert.deepEqual((await engine.models.current()).problems.map((p) => p.id), ['n'], 'a file spoilt inside a listed folder');
    writeFileSync(nOnnx, readFileSync(path.join(KV, 'onnx', 'model.onnx'))); // mended in place, one level down
    assert.deepEqual((await engine.models.current()).models.map((m) => m.id), ['n', 'o']);
  } finally {
    await engine.dispose();
    models.remove();
  }
});

test('StampedCache loads again only when its file changes, looking at it no more often than its max age, and hands over what it replaced', async () => {
  const dir = tempDir('lm-lens-stamped-');
  try {
    const file = path.join(dir.dir, 'f');
    writeFileSync(file, 'one');
    const replaced: string[] = [];
    const cache = new StampedCache<string>(0, (old) => replaced.push(old));
    let loads = 0;
    const load = async (): Promise<string> => `${++loads}:${readFileSync(file, 'utf8')}`;
    assert.equal(await cache.get('k', file, load), '1:one');
    assert.equal(await cache.get('k', file, load), '1:one');
    writeFileSync(file, 'three'); // another size
    assert.equal(await cache.get('k', file, load), '2:three');
    const later = new Date(Date.now() + 60_000);
    utimesSync(file, later, later); // the same size, touched
    assert.equal(await cache.get('k', file, load), '3:three');
    const [a, b] = await Promise.all([cache.get('k', file, load), cache.get('k', file, load)]);
    assert.equal(a, b);
    assert.equal(loads, 3);
    await delay(0);
    assert.deepEqual(replaced, ['1:one', '2:three'], 'each replaced entry is handed over once (a session releases it)');

    const patient = new StampedCache<string>(60_000);
    assert.equal(await patient.get('k', file, load), '4:three');
    writeFileSync(file, 'five!');
    assert.equal(await patient.get('k', file, load), '4:three', 'not looked at again within its max age');
  } finally {
    dir.remove();
  }
});

test('StampedCache asks stillValid about a loaded entry only when it looks at the stamp again, and loads again when it fails', async () => {
  const dir = tempDir('lm-lens-stamped-valid-');
  try {
    const file = path.join(dir.dir, 'f');
    writeFileSync(file, 'one');
    let loads = 0;
    const load = async (): Promise<string> => `${++loads}`;
    let asked = 0;
    let valid = true;
    const stillValid = async (): Promise<boolean> => (asked++, valid);

    const patient = new StampedCache<string>(60_000);
    assert.equal(await patient.get('k', file, load, stillValid), '1');
    assert.equal(asked, 0, 'nothing loaded yet when the stamp was first looked at');
    valid = false;
    assert.equal(await patient.get('k', file, load, stillValid), '1', 'within its max age: not asked');
    assert.equal(asked, 0);

    const eager = new StampedCache<string>(0);
    valid = true;
    assert.equal(await eager.get('k', file, load, stillValid), '2');
    assert.equal(await eager.get('k', file, load, stillValid), '2');
    assert.equal(asked, 1);
    valid = false; // say, the file the entry names was deleted
    assert.equal(await eager.get('k', file, load, stillValid), '3');
    assert.equal(asked, 2);
  } finally {
    dir.remove();
  }
});

test('a session whose file was replaced releases its native memory once no run of it is in flight, and says why after', async () => {
  const dir = tempDir('lm-lens-retired-');
  try {
    const file = path.join(dir.dir, 'model.onnx');
    writeFileSync(file, slowLeftNeighbourMaskedModel(200, 256)); // a run long enough to retire it meanwhile
    const ids = (): HostTensor => ({ type: 'int64', data: BigInt64Array.from([2n, 5n, 3n]), dims: [1, 3] });
    const feeds = { input_ids: ids(), attention_mask: ids(), token_type_ids: { type: 'int64', data: new BigInt64Array(3), dims: [1, 3] } } as const;
    const old = await loadSession(file, { threads: 1 });
    const want = (await old.run(feeds)).logits!.data;

    const later = new Date(Date.now() + 60_000);
    utimesSync(file, later, later); // replaced (the same bytes: a new stamp is what counts)
    await delay(STAMP_MAX_AGE_MS + 50);
    const fresh = await loadSession(file, { threads: 1 });
    assert.notEqual(fresh, old, 'the replaced file gets a session of its own');
    assert.equal(old.isReleased, false, 'kept for its grace period');

    old.retire(400); // a request still holding it runs it again within its grace: that postpones the release
    await delay(250);
    const inFlight = old.run(feeds);
    assert.deepEqual((await inFlight).logits!.data, want, 'a run in flight finishes on the old session');
    await delay(250);
    assert.equal(old.isReleased, false, 'the grace counts from the last run');
    await delay(300);
    assert.equal(old.isReleased, true, 'released once idle for its grace');
    await assert.rejects(old.run(feeds), (error: LensError) => error.code === 'MODEL_CORRUPT' && /replaced on disk.*run it again/.test(error.message));
    assert.deepEqual((await fresh.run(feeds)).logits!.data, want, 'the new session runs');
  } finally {
    dir.remove();
  }
});
