/**
 * Robustness: broken model folders made on the fly, used through the real CLI (dist/cli.js). Each broken model is
 * MODEL_CORRUPT (exit 2) with one JSON error and no stack trace, in bounded time; `models` still answers and never
 * lists a broken folder as usable; a good model beside them still works.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertError, cli } from '../unit/helpers/cli';
import { countingCausalModel, writeCountingGpt2, writeLeftNeighbourBert } from '../unit/helpers/lmModels';
import { tempDir, writeModelFolder } from '../unit/helpers/modelFolders';
import { unloadableModel } from '../unit/helpers/onnxWriter';

const GPT2_CONFIG = { model_type: 'gpt2', n_layer: 1, n_head: 1, n_embd: 2, n_positions: 64, bos_token_id: 256, eos_token_id: 256 };
const TIMEOUT = { timeoutMs: 60_000 };

/** Broken GPT-2 folders: the counting model with one thing wrong. `fix` edits a written good folder. */
const BROKEN: { id: string; fix: (folder: string) => void; message: RegExp; scanSees?: true }[] = [
  { id: 'no-onnx', fix: (f) => writeFileSync(path.join(f, 'onnx', 'model.onnx'), ''), message: /./ },
  { id: 'missing-onnx', fix: (f) => spawnSync('rm', [path.join(f, 'onnx', 'model.onnx')]), message: /model\.onnx/, scanSees: true },
  { id: 'random-onnx', fix: (f) => writeFileSync(path.join(f, 'onnx', 'model.onnx'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251))), message: /./ },
  { id: 'truncated-onnx', fix: (f) => writeFileSync(path.join(f, 'onnx', 'model.onnx'), countingCausalModel().subarray(0, 700)), message: /./ },
  { id: 'unloadable-onnx', fix: (f) => writeFileSync(path.join(f, 'onnx', 'model.onnx'), unloadableModel()), message: /./ },
  { id: 'html-onnx', fix: (f) => writeFileSync(path.join(f, 'onnx', 'model.onnx'), '<html>502 Bad Gateway</html>'), message: /./ },
  { id: 'bad-json-config', fix: (f) => writeFileSync(path.join(f, 'config.json'), '{"model_type": "gpt2",'), message: /not valid JSON/, scanSees: true },
  { id: 'array-config', fix: (f) => writeFileSync(path.join(f, 'config.json'), '[1, 2]'), message: /JSON object/, scanSees: true },
  { id: 'bad-json-tokenizer', fix: (f) => writeFileSync(path.join(f, 'tokenizer.json'), '{"version": '), message: /tokenizer/i },
  { id: 'no-tokenizer', fix: (f) => spawnSync('rm', [path.join(f, 'tokenizer.json')]), message: /tokenizer/i },
  { id: 'fifo-onnx', fix: (f) => mkfifoInPlace(path.join(f, 'onnx', 'model.onnx')), message: /FIFO/, scanSees: true },
  { id: 'fifo-config', fix: (f) => mkfifoInPlace(path.join(f, 'config.json')), message: /FIFO/, scanSees: true },
  { id: 'fifo-tokenizer', fix: (f) => mkfifoInPlace(path.join(f, 'tokenizer.json')), message: /FIFO/, scanSees: true },
  { id: 'dir-onnx', fix: (f) => dirInPlace(path.join(f, 'onnx', 'model.onnx')), message: /./ },
  { id: 'dir-config', fix: (f) => dirInPlace(path.join(f, 'config.json')), message: /./, scanSees: true },
  { id: 'dir-tokenizer', fix: (f) => dirInPlace(path.join(f, 'tokenizer.json')), message: /./ },
];

function mkfifoInPlace(file: string): void {
  spawnSync('rm', ['-rf', file]);
  assert.equal(spawnSync('mkfifo', [file]).status, 0, 'mkfifo');
}

function dirInPlace(file: string): void {
  spawnSync('rm', ['-rf', file]);
  mkdirSync(file);
}

describe('broken model folders through the CLI', { concurrency: 6, skip: process.platform === 'win32' ? 'mkfifo' : false }, () => {
  const models = tempDir('lm-lens-robust-models-');
  const dir = ['--only-models-dir', models.dir];

  before(() => {
    writeCountingGpt2(models.dir, 'good');
    writeLeftNeighbourBert(models.dir, 'good-bert');
    for (const { id, fix } of BROKEN) fix(writeCountingGpt2(models.dir, id));
    // a folder whose config.json names no known model type
    writeModelFolder(models.dir, 'unknown-type', { config: { model_type: 'llama9000' } });
    assert.deepEqual(JSON.parse(readFileSync(path.join(models.dir, 'good', 'config.json'), 'utf8')), GPT2_CONFIG);
  });
  after(() => models.remove());

  test('models answers, lists the good ones and none of the broken ones its scan can tell', async () => {
    const run = await cli(['models', ...dir], TIMEOUT);
    assert.equal(run.status, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    const listed = (JSON.parse(run.stdout) as { id: string; note?: string }[]).map((m) => m.id);
    assert.ok(listed.includes('good') && listed.includes('good-bert'), listed.join(', '));
    // the scan reads names and config.json only: a bad graph or tokenizer is known broken once loaded (score says so below)
    for (const { id, scanSees } of BROKEN) if (scanSees) assert.ok(!listed.includes(id), `${id} is not listed`);
  });

  test('a good model still answers beside the broken ones', async () => {
    const run = await cli(['complete', ...dir, '--model', 'good', '--text', '01', '--max-tokens', '3'], TIMEOUT);
    assert.equal(run.status, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { completion: string }).completion, '234');
  });

  for (const { id, message } of BROKEN) {
    test(`score on ${id}: MODEL_CORRUPT, exit 2`, async () => {
      assertError(await cli(['score', ...dir, '--model', id, '--text', 'hello'], TIMEOUT), 2, 'MODEL_CORRUPT', message);
    });
  }

  test('a config.json with an unknown model_type: MODEL_CORRUPT or MODEL_NOT_FOUND, exit 2', async () => {
    const run = await cli(['fill', ...dir, '--model', 'unknown-type', '--text', 'the [MASK]'], TIMEOUT);
    const code = (JSON.parse(run.stderr) as { error: { code: string } }).error.code;
    assert.ok(['MODEL_CORRUPT', 'MODEL_NOT_FOUND', 'BAD_INPUT'].includes(code), code);
    assertError(run, 2, code);
  });
});
