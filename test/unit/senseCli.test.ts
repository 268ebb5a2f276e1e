/** `lm-lens sense` as a user runs it: JSON out, BAD_INPUT for bad requests; the shipped models when present. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseScorerFile, usesSignal } from '../../src/engine/senses/scorer';
import { writeLeftNeighbourBert } from './helpers/lmModels';
import { DIST, REPO_ROOT, SHIPPED_MODELS, tempDir, writeElmoFolder } from './helpers/modelFolders';

const CLI = path.join(DIST, 'cli.js');

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env });
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

  test('a BERT without sense vectors is not run: one that cannot give its hidden states does not fail the sense', () => {
    const only = tempDir();
    try {
      writeElmoFolder(only.dir, 'elmo-test');
      writeLeftNeighbourBert(only.dir, 'bert-no-layers'); // no transformer blocks to expose
      const env = { ...process.env, LM_LENS_HOME: path.join(only.dir, 'home') };
      const build = cli(['senses', 'build', '--only-models-dir', only.dir, '--model', 'bert-no-layers', '--limit', '2'], env);
      assert.equal(build.status, 2, build.stderr);
      assert.match(build.stderr.trim().split('\n').at(-1)!, /"code":"BAD_INPUT".*does not expose its hidden states/); // after progress lines
      const run = cli(['sense', '--only-models-dir', only.dir, '--text', 'We sat on the bank of the river.', '--word', 'bank', '--model', 'bert-no-layers'], env);
      assert.equal(run.status, 0, run.stderr);
      const r = JSON.parse(run.stdout) as { senseKey: string; models: Record<string, string>; missingSenseVectors: string[] };
      assert.equal(r.senseKey, 'bank%1:17:01::');
      assert.deepEqual(r.models, {});
      assert.deepEqual(r.missingSenseVectors, ['elmo-test', 'bert-no-layers']);
    } finally {
      only.remove();
    }
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
    // the models reported are those the shipped scorer listens to (media/senses/scorer.json; build.mjs chooses them)
    const shipped = parseScorerFile(JSON.parse(readFileSync(path.join(REPO_ROOT, 'media', 'senses', 'scorer.json'), 'utf8')))!;
    const expected = { elmo: 'elmo-mini', bert: 'bert-mini', glove: 'glove-100d' } as const;
    assert.deepEqual(a.models, Object.fromEntries(Object.entries(expected).filter(([signal]) => usesSignal(shipped.weights, signal as 'elmo'))));
    assert.ok(a.models['glove'], JSON.stringify(a.models));
  });
});

describe('lm-lens senses build: sense vectors of an added BERT from the CLI', () => {
  const temp = tempDir('lm-lens-senses-build-');
  const models = path.join(temp.dir, 'models');
  const env = { ...process.env, LM_LENS_HOME: path.join(temp.dir, 'home') };
  const dirArgs = ['--only-models-dir', models];
  const river = ['--text', 'We sat on the bank of the river.', '--word', 'bank'];
  before(() => {
    // a real export of another tool (BertForPreTraining, 5 layers): a masked LM with no shipped sense vectors
    cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'real-exports', 'ort-bert-toy-pretraining'), path.join(models, 'bert-toy'), { recursive: true });
  });
  after(() => temp.remove());

  test('bad input: no action, an unknown action, no --model, a model that is not ELMo or BERT', () => {
    const cases: [string[], string, RegExp][] = [
      [['senses'], 'BAD_INPUT', /Give the action: lm-lens senses build --model ID/],
      [['senses', 'rebuild', '--model', 'bert-toy'], 'BAD_INPUT', /Unknown action "rebuild"/],
      [['senses', 'build'], 'BAD_INPUT', /--model is required/],
      [['senses', 'build', ...dirArgs, '--model', 'nope'], 'MODEL_NOT_FOUND', /nope/],
      [['senses', 'build', ...dirArgs, '--model', 'bert-toy', '--limit', '0'], 'BAD_INPUT', /--limit must be a whole number/],
    ];
    for (const [args, code, message] of cases) {
      const run = cli(args, env);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      const error = errorOf(run);
      assert.equal(error.code, code, args.join(' '));
      assert.match(error.message, message);
    }
  });

  test('before: sense --model uses no vectors and says how to build them; build: progress on stderr, the store in $LM_LENS_HOME/senses; after: sense uses them', () => {
    const before = cli(['sense', ...dirArgs, ...river, '--model', 'bert-toy'], env);
    assert.equal(before.status, 0, before.stderr);
    const a = JSON.parse(before.stdout) as { models: Record<string, string>; missingSenseVectors: string[] };
    assert.deepEqual(a.models, {});
    assert.deepEqual(a.missingSenseVectors, ['bert-toy']);
    assert.match(before.stderr, /"bert-toy" has no sense vectors yet.*lm-lens senses build --model bert-toy/);

    const build = cli(['senses', 'build', ...dirArgs, '--model', 'bert-toy', '--limit', '40'], env);
    assert.equal(build.status, 0, build.stderr);
    const built = JSON.parse(build.stdout) as { model: string; examples: number; synsets: number; path: string };
    assert.equal(built.model, 'bert-toy');
    assert.equal(built.examples, 40);
    assert.ok(built.synsets > 0 && built.synsets <= 40, String(built.synsets));
    assert.equal(built.path, path.join(env.LM_LENS_HOME, 'senses'));
    const manifest = JSON.parse(readFileSync(path.join(built.path, 'bert-toy.senses.json'), 'utf8')) as { model: string; layers: string[]; examples: number };
    assert.deepEqual([manifest.model, manifest.layers, manifest.examples], ['bert-toy', ['last', 'prev'], 40]);
    // each phase is reported as it starts; the last embedding line is the total
    const lines = build.stderr.trim().split('\n');
    assert.deepEqual([...new Set(lines.map((l) => l.split(' ')[0]))], ['examples', 'embedding', 'centroids', 'writing'], build.stderr);
    assert.ok(lines.includes('embedding 40/40'), build.stderr);

    const after = cli(['sense', ...dirArgs, ...river, '--model', 'bert-toy'], env);
    assert.equal(after.status, 0, after.stderr);
    const b = JSON.parse(after.stdout) as { models: Record<string, string>; missingSenseVectors: string[]; method: string };
    assert.deepEqual(b.models, { bert: 'bert-toy' });
    assert.deepEqual(b.missingSenseVectors, []);
    assert.equal(b.method, 'scorer');
    assert.doesNotMatch(after.stderr, /no sense vectors/);
  });

  test('Ctrl+C during a build: CANCELLED on stderr, exit 1, nothing written', async () => {
    const home = path.join(temp.dir, 'home-cancelled');
    const child = spawn(process.execPath, [CLI, 'senses', 'build', ...dirArgs, '--model', 'bert-toy'], { env: { ...process.env, LM_LENS_HOME: home } });
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!interrupted && /embedding \d+\//.test(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    assert.equal(status, 1, stderr);
    const last = stderr.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}';
    assert.equal((JSON.parse(last) as { error?: { code: string } }).error?.code, 'CANCELLED', stderr);
    assert.equal(existsSync(path.join(home, 'senses', 'bert-toy.senses.json')), false);
  });
});
