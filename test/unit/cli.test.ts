/** dist/cli.js as a user runs it: JSON on stdout, JSON errors on stderr, exit 2 for input errors, 1 otherwise. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, assertError, cliSync, type CliRun } from './helpers/cli';
import { SHIPPED_MODELS, tempDir, writeElmoFolder, writeModelFolder } from './helpers/modelFolders';

function cli(args: string[], cliPath = CLI, env: NodeJS.ProcessEnv = process.env): CliRun {
  return cliSync(args, { cliPath, env });
}

describe('lm-lens CLI', () => {
  const models = tempDir();
  const dirArgs = (): string[] => ['--only-models-dir', models.dir];

  before(() => {
    writeElmoFolder(models.dir, 'elmo-test');
    writeModelFolder(models.dir, 'broken', { config: '{nope' });
  });
  after(() => models.remove());

  test('is an executable with a node shebang', () => {
    assert.ok(statSync(CLI).mode & 0o111, 'chmod +x');
    assert.equal(spawnSync('head', ['-1', CLI], { encoding: 'utf8' }).stdout.trim(), '#!/usr/bin/env node');
  });

  test('--help prints usage and exits 0', () => {
    const run = cli(['--help']);
    assert.equal(run.status, 0);
    assert.match(run.stdout, /Usage: lm-lens/);
    assert.match(run.stdout, /embed --text TEXT --word WORD/);
    assert.match(cli(['embed', '--help']).stdout, /Usage: lm-lens embed --text TEXT/);
  });

  test('models: a JSON array of {id, kind, modelType, path, inputs, outputs}', () => {
    const run = cli(['models', ...dirArgs()]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), [
      {
        id: 'elmo-test',
        kind: 'bilm',
        modelType: 'elmo',
        path: path.join(models.dir, 'elmo-test'),
        inputs: ['char_ids', 'attention_mask'],
        outputs: ['hidden_states'],
      },
    ]);
  });

  test('--only-models-dir is repeatable, in order, and searches nothing else', () => {
    const other = tempDir();
    writeElmoFolder(other.dir, 'elmo-other');
    const run = cli(['--only-models-dir', other.dir, 'models', '--only-models-dir', models.dir]);
    assert.deepEqual(
      (JSON.parse(run.stdout) as { id: string }[]).map((m) => m.id),
      ['elmo-other', 'elmo-test'],
    );
    other.remove();
  });

  test('--models-dir adds folders before the defaults (shipped, then per-user): the shipped models stay (issue 13)', () => {
    const other = tempDir();
    const home = tempDir();
    writeElmoFolder(other.dir, 'elmo-other');
    writeElmoFolder(other.dir, 'elmo-mini'); // the id of a shipped model: the given folder's is used
    writeElmoFolder(path.join(home.dir, 'models'), 'elmo-home');
    const run = cli(['--models-dir', other.dir, 'models', '--models-dir', other.dir], CLI, { ...process.env, LM_LENS_HOME: home.dir });
    assert.equal(run.status, 0, run.stderr);
    const listed = JSON.parse(run.stdout) as { id: string; path: string }[];
    const shipped = readdirSync(SHIPPED_MODELS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    assert.ok(shipped.length > 0, 'media/models has the shipped models');
    assert.deepEqual(
      listed.map((m) => m.id),
      ['elmo-mini', 'elmo-other', ...shipped.filter((id) => id !== 'elmo-mini'), 'elmo-home'],
      'the given folder once, then the shipped models, then the per-user folder',
    );
    assert.equal(listed[0]!.path, path.join(other.dir, 'elmo-mini'));
    other.remove();
    home.remove();
  });

  test('embed: JSON {model, tokens, index, offsets, truncated, layers}', () => {
    const run = cli(['embed', ...dirArgs(), '--text', 'the river bank, the bank', '--word', 'bank', '--occurrence', '2']);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(result).sort(), ['index', 'layers', 'model', 'offsets', 'tokens', 'truncated']);
    assert.equal(result['model'], 'elmo-test');
    assert.deepEqual(result['tokens'], ['the', 'river', 'bank', ',', 'the', 'bank']);
    assert.equal(result['index'], 5);
    assert.deepEqual(result['offsets'], [[0, 3], [4, 9], [10, 14], [14, 15], [16, 19], [20, 24]]); // into --text
    assert.equal(result['truncated'], false);
    const layers = result['layers'] as { layer: string; vector: number[] }[];
    assert.deepEqual(layers.map((l) => [l.layer, l.vector.length]), [['token', 4], ['lstm1', 4], ['lstm2', 4]]);
  });

  test('bad input exits 2 with BAD_INPUT', () => {
    assertError(cli([]), 2, 'BAD_INPUT', /No command given/);
    assertError(cli(['frobnicate']), 2, 'BAD_INPUT', /Unknown command "frobnicate"/);
    assertError(cli(['models', '--bogus']), 2, 'BAD_INPUT', /Unknown option '--bogus'/);
    assertError(cli(['models', '--word', 'x']), 2, 'BAD_INPUT', /Unknown option '--word'/);
    assertError(cli(['embed', '--text', 'a bank']), 2, 'BAD_INPUT', /--word is required/);
    assertError(cli(['embed', '--word', 'bank']), 2, 'BAD_INPUT', /--text is required/);
    assertError(cli(['embed', '--text', 'a bank', '--word', 'money']), 2, 'BAD_INPUT', /"money" does not occur/);
    assertError(cli(['embed', '--text', 'a bank', '--word', 'bank', '--occurrence', 'two']), 2, 'BAD_INPUT', /whole number/);
    assertError(cli(['embed', '--text', 'a bank', '--word', 'bank', '--occurrence', '0']), 2, 'BAD_INPUT', /whole number/);
    assertError(cli(['embed', '--text', 'a bank', '--word']), 2, 'BAD_INPUT', /argument missing/);
    assertError(cli(['embed', 'extra', '--text', 'a', '--word', 'a']), 2, 'BAD_INPUT', /Unexpected argument "extra": embed takes its text as --text/);
    assertError(cli(['fill', 'The [MASK] barked.']), 2, 'BAD_INPUT', /Unexpected argument "The \[MASK\] barked\.": fill takes its text as --text "…"/);
    assertError(cli(['models', 'extra']), 2, 'BAD_INPUT', /Unexpected argument "extra": usage: models\.$/);
  });

  test('model errors exit 2: MODEL_NOT_FOUND lists the ids, MODEL_CORRUPT says why', () => {
    const base = ['embed', ...dirArgs(), '--text', 'a bank', '--word', 'bank'];
    assertError(cli([...base, '--model', 'gpt9']), 2, 'MODEL_NOT_FOUND', /Available: elmo-test/);
    assertError(cli([...base, '--model', 'broken']), 2, 'MODEL_CORRUPT', /not valid JSON/);
    const empty = tempDir();
    assertError(cli(['embed', '--only-models-dir', empty.dir, '--text', 'a bank', '--word', 'bank']), 2, 'MODEL_NOT_FOUND');
    empty.remove();
  });

  test('internal errors exit 1 (here: the worker file is missing)', () => {
    const lonely = tempDir();
    mkdirSync(path.join(lonely.dir, 'dist'));
    copyFileSync(CLI, path.join(lonely.dir, 'dist', 'cli.js'));
    const run = cli(['embed', ...dirArgs(), '--text', 'a bank', '--word', 'bank'], path.join(lonely.dir, 'dist', 'cli.js'));
    assertError(run, 1, 'WORKER_CRASHED');
    lonely.remove();
  });
});
