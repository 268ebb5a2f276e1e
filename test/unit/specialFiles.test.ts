/**
 * A FIFO (or socket, device) in a models folder (issue 12): opening a FIFO blocks until something writes to
 * it, and the model scan used to open config.json and onnx/model.onnx, so one such file hung every command,
 * `models` included and commands on good models. The scan now reports those folders as MODEL_CORRUPT without
 * opening anything. Run through dist/cli.js with a timeout, since the failure is a hang.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, tempDir, writeElmoFolder, writeModelFolder } from './helpers/modelFolders';
import { elmoLikeModel } from './helpers/onnxWriter';

const CLI = path.join(DIST, 'cli.js');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now();
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, ms: Date.now() - started };
}

function mkfifo(file: string): void {
  const made = spawnSync('mkfifo', [file], { encoding: 'utf8' });
  assert.equal(made.status, 0, `mkfifo: ${made.stderr}`);
}

describe('special files in a models folder', { skip: process.platform === 'win32' ? 'no mkfifo' : false }, () => {
  const models = tempDir();
  const dirArgs = (): string[] => ['--only-models-dir', models.dir];

  before(() => {
    writeElmoFolder(models.dir, 'elmo-test');
    const config = { model_type: 'elmo' };
    const fifoOnnx = writeModelFolder(models.dir, 'fifo-onnx', { config });
    mkdirSync(path.join(fifoOnnx, 'onnx'));
    mkfifo(path.join(fifoOnnx, 'onnx', 'model.onnx'));
    const fifoConfig = writeModelFolder(models.dir, 'fifo-config', { onnx: elmoLikeModel() });
    mkfifo(path.join(fifoConfig, 'config.json'));
    const fifoTokenizer = writeElmoFolder(models.dir, 'fifo-tokenizer');
    mkfifo(path.join(fifoTokenizer, 'tokenizer.json'));
    // a download whose manifest is a FIFO (read synchronously: it would block the whole thread)
    const fifoManifest = writeElmoFolder(models.dir, 'fifo-manifest');
    mkfifo(path.join(fifoManifest, '.lm-lens-complete.json'));
    writeFileSync(path.join(models.dir, 'README.txt'), 'not a model folder');
  });
  after(() => models.remove());

  test('models lists the good model, promptly', () => {
    const run = cli(['models', ...dirArgs()]);
    assert.equal(run.status, 0, `exit status (a hang ends as null): ${run.stderr}`);
    assert.deepEqual(
      (JSON.parse(run.stdout) as { id: string }[]).map((m) => m.id),
      ['elmo-test'],
    );
  });

  test('a command on the good model works', () => {
    const run = cli(['embed', ...dirArgs(), '--model', 'elmo-test', '--text', 'the bank of the river', '--word', 'bank']);
    assert.equal(run.status, 0, `exit status (a hang ends as null): ${run.stderr}`);
    assert.ok(JSON.parse(run.stdout));
  });

  test('a command on a folder with a FIFO is MODEL_CORRUPT naming the file', () => {
    for (const [id, file] of [
      ['fifo-onnx', path.join('onnx', 'model.onnx')],
      ['fifo-config', 'config.json'],
      ['fifo-tokenizer', 'tokenizer.json'],
    ] as const) {
      const run = cli(['embed', ...dirArgs(), '--model', id, '--text', 'the bank', '--word', 'bank']);
      assert.equal(run.status, 2, `${id}: exit status (a hang ends as null): ${run.stderr}`);
      const { error } = JSON.parse(run.stderr) as { error: { code: string; message: string } };
      assert.equal(error.code, 'MODEL_CORRUPT', id);
      assert.ok(error.message.includes(`${path.join(models.dir, id, file)} is a FIFO (named pipe), not a regular file`), error.message);
    }
    const manifest = cli(['embed', ...dirArgs(), '--model', 'fifo-manifest', '--text', 'the bank', '--word', 'bank']);
    assert.equal(manifest.status, 2, manifest.stderr);
    assert.match(manifest.stderr, /MODEL_CORRUPT/);
  });
});
