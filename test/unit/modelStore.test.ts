import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ModelStore, kindOfModelType } from '../../src/engine/modelStore';
import { readOnnxSignature } from '../../src/engine/onnxSignature';
import { tempDir, writeElmoFolder, writeModelFolder } from './helpers/modelFolders';
import { FLOAT, INT64, encodeModel } from './helpers/onnxWriter';
import { lensError } from './helpers/lensError';

const bertLike = encodeModel({
  inputs: [
    { name: 'input_ids', elemType: INT64, dims: ['batch', 'seq'] },
    { name: 'attention_mask', elemType: INT64, dims: ['batch', 'seq'] },
  ],
  outputs: [{ name: 'logits', elemType: FLOAT, dims: ['batch', 'seq', 8] }],
  nodes: [],
});

describe('ModelStore', () => {
  const shipped = tempDir();
  const user = tempDir();
  let store: ModelStore;

  before(() => {
    writeElmoFolder(shipped.dir, 'elmo-mini');
    writeModelFolder(shipped.dir, 'bert-mini', { config: { model_type: 'bert' }, onnx: bertLike });
    writeModelFolder(shipped.dir, 'no-config', { onnx: bertLike });
    writeModelFolder(shipped.dir, 'bad-json', { config: '{"model_type": "bert",', onnx: bertLike });
    writeModelFolder(shipped.dir, 'no-onnx', { config: { model_type: 'gpt2' } });
    writeModelFolder(shipped.dir, 'garbage-onnx', { config: { model_type: 'bert' }, onnx: new TextEncoder().encode('not a model') });
    writeModelFolder(shipped.dir, 'strange-type', { config: { model_type: 't5' }, onnx: bertLike });
    writeModelFolder(shipped.dir, '.hidden', { config: { model_type: 'bert' }, onnx: bertLike });
    writeFileSync(path.join(shipped.dir, 'README.md'), 'not a folder');
    writeModelFolder(user.dir, 'bert-mini', { config: { model_type: 'roberta' }, onnx: bertLike }); // clash: shipped wins
    writeElmoFolder(user.dir, 'elmo-user');
    writeModelFolder(user.dir, 'glove-small', { config: { model_type: 'glove' }, files: { 'vectors.bin': '', 'vocab.txt': 'a\n' } });
    store = new ModelStore([
      { path: shipped.dir, source: 'shipped' },
      { path: user.dir, source: 'user' },
      { path: path.join(user.dir, 'does-not-exist'), source: 'user' },
    ]);
  });
  after(() => {
    shipped.remove();
    user.remove();
  });

  test('lists usable models, shipped first, with kinds and ONNX input/output names', async () => {
    const models = await store.list();
    assert.deepEqual(
      models.map((m) => [m.id, m.kind, m.modelType, m.source]),
      [
        ['bert-mini', 'masked-lm', 'bert', 'shipped'],
        ['elmo-mini', 'bilm', 'elmo', 'shipped'],
        ['elmo-user', 'bilm', 'elmo', 'user'],
        ['glove-small', 'static-vectors', 'glove', 'user'],
      ],
    );
    const elmo = models.find((m) => m.id === 'elmo-mini')!;
    assert.deepEqual(elmo.inputs, ['char_ids', 'attention_mask']);
    assert.deepEqual(elmo.outputs, ['hidden_states']);
    assert.equal(elmo.path, path.join(shipped.dir, 'elmo-mini'));
    const glove = models.find((m) => m.id === 'glove-small')!;
    assert.deepEqual([glove.inputs, glove.outputs], [[], []]);
  });

  test('broken folders are reported as MODEL_CORRUPT with the reason, when asked for', async () => {
    await assert.rejects(store.get('no-config'), lensError('MODEL_CORRUPT', /config\.json is missing/));
    await assert.rejects(store.get('bad-json'), lensError('MODEL_CORRUPT', /config\.json is not valid JSON/));
    await assert.rejects(store.get('no-onnx'), lensError('MODEL_CORRUPT', /onnx\/model\.onnx is missing/));
    await assert.rejects(store.get('garbage-onnx'), lensError('MODEL_CORRUPT', /not a readable ONNX model/));
    await assert.rejects(store.get('strange-type'), lensError('MODEL_CORRUPT', /model_type "t5" is not supported/));
    const { problems } = await store.scan();
    assert.deepEqual(problems.map((p) => p.id).sort(), ['bad-json', 'garbage-onnx', 'no-config', 'no-onnx', 'strange-type']);
  });

  test('an unknown id is MODEL_NOT_FOUND and lists the available ids', async () => {
    await assert.rejects(store.get('gpt9'), lensError('MODEL_NOT_FOUND', /No model "gpt9"\. Available: bert-mini, elmo-mini, elmo-user, glove-small/));
    await assert.rejects(store.get('.hidden'), lensError('MODEL_NOT_FOUND'));
  });

  test('the default model of a kind is the first shipped one; a missing kind is MODEL_NOT_FOUND', async () => {
    assert.equal((await store.defaultFor('bilm')).id, 'elmo-mini');
    assert.equal((await store.defaultFor('static-vectors')).id, 'glove-small');
    await assert.rejects(store.defaultFor('causal-lm'), lensError('MODEL_NOT_FOUND', /No causal-lm model is installed/));
  });

  test('resolve() checks that a named model is of a kind the operation supports', async () => {
    assert.equal((await store.resolve(undefined, ['bilm'], 'embed')).id, 'elmo-mini');
    assert.equal((await store.resolve('elmo-user', ['bilm'], 'embed')).id, 'elmo-user');
    await assert.rejects(store.resolve('bert-mini', ['bilm'], 'embed'), lensError('BAD_INPUT', /masked-lm model; embed needs a bilm model/));
  });

  test('the scan is memoised until refresh()', async () => {
    const first = await store.scan();
    assert.equal(await store.scan(), first);
    writeElmoFolder(user.dir, 'elmo-late');
    assert.equal((await store.list()).some((m) => m.id === 'elmo-late'), false);
    store.refresh();
    assert.equal((await store.list()).some((m) => m.id === 'elmo-late'), true);
  });

  test('a fixed folder is usable after refresh()', async () => {
    writeFileSync(path.join(shipped.dir, 'bad-json', 'config.json'), JSON.stringify({ model_type: 'bert' }));
    store.refresh();
    assert.equal((await store.get('bad-json')).kind, 'masked-lm');
  });
});

describe('model kinds', () => {
  test('maps model_type to what the engine does with it', () => {
    assert.equal(kindOfModelType('bert'), 'masked-lm');
    assert.equal(kindOfModelType('distilbert'), 'masked-lm');
    assert.equal(kindOfModelType('roberta'), 'masked-lm');
    assert.equal(kindOfModelType('gpt2'), 'causal-lm');
    assert.equal(kindOfModelType('gpt_neo'), 'causal-lm');
    assert.equal(kindOfModelType('elmo'), 'bilm');
    assert.equal(kindOfModelType('nnlm'), 'nnlm');
    assert.equal(kindOfModelType('word2vec'), 'static-vectors');
    assert.equal(kindOfModelType('glove'), 'static-vectors');
    assert.equal(kindOfModelType('toString'), undefined);
    assert.equal(kindOfModelType('t5'), undefined);
  });
});

describe('readOnnxSignature', () => {
  const tmp = tempDir();
  after(() => tmp.remove());
  const write = (name: string, bytes: Uint8Array): string => {
    const file = path.join(tmp.dir, name);
    writeFileSync(file, bytes);
    return file;
  };

  test('reads input and output names, leaving out initializers listed as inputs (IR < 4)', async () => {
    const file = write(
      'old.onnx',
      encodeModel({
        irVersion: 3,
        inputs: [{ name: 'x', elemType: FLOAT, dims: [1, 2] }],
        outputs: [{ name: 'y', elemType: FLOAT, dims: [1, 2] }],
        initializers: [{ name: 'bias', dims: [2], float: [1, 2] }],
        initializersAsInputs: true,
        nodes: [{ op: 'Add', inputs: ['x', 'bias'], outputs: ['y'] }],
      }),
    );
    const { inputs, outputs } = await readOnnxSignature(file);
    assert.deepEqual({ inputs, outputs }, { inputs: ['x'], outputs: ['y'] });
  });

  test('skips large weights without reading them', async () => {
    const big = Array.from({ length: 300_000 }, (_, i) => i % 7);
    const file = write(
      'big.onnx',
      encodeModel({
        inputs: [{ name: 'x', elemType: FLOAT, dims: [300_000] }],
        outputs: [{ name: 'y', elemType: FLOAT, dims: [300_000] }],
        initializers: [{ name: 'w', dims: [300_000], float: big }],
        nodes: [{ op: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }],
      }),
    );
    const { inputs, outputs } = await readOnnxSignature(file);
    assert.deepEqual({ inputs, outputs }, { inputs: ['x'], outputs: ['y'] });
  });

  test('reads element types and shapes (fixed and symbolic dimensions)', async () => {
    const file = write(
      'typed.onnx',
      encodeModel({
        inputs: [{ name: 'ids', elemType: INT64, dims: ['batch', 7] }],
        outputs: [{ name: 'scores', elemType: FLOAT, dims: ['batch', 7, 300_000] }],
        nodes: [{ op: 'Cast', inputs: ['ids'], outputs: ['scores'], attributes: [{ name: 'to', i: FLOAT }] }],
      }),
    );
    const signature = await readOnnxSignature(file);
    assert.deepEqual(signature.inputInfo, [{ name: 'ids', type: 'int64', shape: ['batch', 7] }]);
    assert.deepEqual(signature.outputInfo, [{ name: 'scores', type: 'float32', shape: ['batch', 7, 300_000] }]);
  });

  test('rejects files that are not ModelProtos', async () => {
    await assert.rejects(readOnnxSignature(write('empty.onnx', new Uint8Array())), /no graph/);
    await assert.rejects(readOnnxSignature(write('text.onnx', new TextEncoder().encode('{"a": 1}'))), /wire type/);
    const truncated = encodeModel({
      inputs: [{ name: 'x', elemType: FLOAT, dims: [2] }],
      outputs: [{ name: 'y', elemType: FLOAT, dims: [2] }],
      nodes: [],
    });
    await assert.rejects(readOnnxSignature(write('cut.onnx', truncated.subarray(0, truncated.length - 12))), /runs past/);
  });
});

