/** `lm-lens sense` as a user runs it: JSON out, BAD_INPUT for bad requests; the shipped models when present. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, REPO_ROOT, SHIPPED_MODELS, tempDir, writeElmoFolder } from './helpers/modelFolders';

const CLI = path.join(DIST, 'cli.js');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function errorOf(run: { status: number | null; stdout: string; stderr: string }): { code: string; message: string } {
  assert.equal(run.stdout, '');
  return (JSON.parse(run.stderr) as { error: { code: string; message: string } }).error;
}

describe('lm-lens sense', () => {
  const models = tempDir();
  const dirArgs = (): string[] => ['--only-models-dir', models.dir];
  before(() => writeElmoFolder(models.dir, 'elmo-test'));
  after(() => models.remove());

  test('bad input exits 2 with BAD_INPUT and says why', () => {
    const cases: [string[], RegExp][] = [
      [['sense', '--text', 'a bank'], /--word is required/],
      [['sense', '--word', 'bank'], /--text is required/],
      [['sense', '--text', 'a bank', '--word', 'money'], /"money" does not occur/],
      [['sense', '--text', 'a bank', '--word', 'bank', '--layer', 'lstm9'], /--layer must be one of token, lstm1, lstm2, mean/],
      [['sense', '--text', 'a bank', '--word', 'bank', '--occurrence', '0'], /whole number/],
      [['sense', ...dirArgs(), '--text', 'the xyzzyq was here', '--word', 'xyzzyq'], /"xyzzyq" is not in WordNet/],
    ];
    for (const [args, message] of cases) {
      const run = cli(args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      const error = errorOf(run);
      assert.equal(error.code, 'BAD_INPUT');
      assert.match(error.message, message);
    }
    const missing = cli(['sense', ...dirArgs(), '--text', 'a bank', '--word', 'bank', '--model', 'nope']);
    assert.equal(missing.status, 2);
    assert.equal(errorOf(missing).code, 'MODEL_NOT_FOUND');
  });

  test('answers with the contract fields; without sense vectors it uses gloss overlap and priors', () => {
    const run = cli(['sense', ...dirArgs(), '--text', 'We sat on the bank of the river.', '--word', 'bank']);
    assert.equal(run.status, 0, run.stderr);
    const r = JSON.parse(run.stdout) as Record<string, unknown> & { candidates: { senseKey: string; gloss: string; score: number }[] };
    for (const key of ['word', 'lemma', 'pos', 'senseKey', 'synset', 'gloss', 'score', 'candidates', 'method', 'evidence']) {
      assert.ok(key in r, `missing ${key}`);
    }
    assert.equal(r['word'], 'bank');
    assert.equal(r['lemma'], 'bank');
    assert.equal(r['senseKey'], 'bank%1:17:01::'); // "river" is in this sense's example sentence
    assert.equal(r['method'], 'scorer');
    assert.deepEqual(r['missingSenseVectors'], ['elmo-test']);
    assert.equal(r.candidates[0]!.senseKey, r['senseKey']);
    const total = r.candidates.reduce((s, c) => s + c.score, 0);
    assert.ok(Math.abs(total - 1) < 1e-2, `probabilities sum to ${total}`);
  });

  test('--layer without sense vectors backs off to the most frequent sense', () => {
    const run = cli(['sense', ...dirArgs(), '--text', 'She paid the money into her bank account.', '--word', 'bank', '--layer', 'lstm2']);
    assert.equal(run.status, 0, run.stderr);
    const r = JSON.parse(run.stdout) as { method: string; senseKey: string };
    assert.equal(r.method, 'most-frequent-sense');
    assert.equal(r.senseKey, 'bank%1:17:01::');
  });
});

const shipped = ['elmo-mini', 'bert-mini'].every(
  (id) => existsSync(path.join(SHIPPED_MODELS, id, 'config.json')) && existsSync(path.join(REPO_ROOT, 'media', 'senses', `${id}.senses.json`)),
);

describe('lm-lens sense with the shipped models', { skip: shipped ? false : 'elmo-mini / bert-mini or their sense vectors are not shipped yet' }, () => {
  test('the river bank and the money bank get different senses', () => {
    const river = cli(['sense', '--text', 'We sat on the bank of the river.', '--word', 'bank']);
    const money = cli(['sense', '--text', 'She paid the money into her bank account.', '--word', 'bank']);
    assert.equal(river.status, 0, river.stderr);
    assert.equal(money.status, 0, money.stderr);
    const a = JSON.parse(river.stdout) as { senseKey: string; method: string; models: Record<string, string> };
    const b = JSON.parse(money.stdout) as { senseKey: string };
    assert.notEqual(a.senseKey, b.senseKey);
    assert.equal(a.method, 'scorer');
    assert.ok(a.models['elmo'] && a.models['bert'], JSON.stringify(a.models));
  });
});
