/** dist/cli.js fill / complete / score as a user runs them, on the hand-built models of helpers/lmModels.ts. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DIST, tempDir } from './helpers/modelFolders';
import { writeCountingGpt2, writeLeftNeighbourBert } from './helpers/lmModels';

const CLI = path.join(DIST, 'cli.js');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function errorOf(stderr: string): { code: string; message: string } {
  return (JSON.parse(stderr.trim().split('\n').pop()!) as { error: { code: string; message: string } }).error;
}

describe('lm-lens fill / complete / score', () => {
  const models = tempDir();
  const dir = (): string[] => ['--only-models-dir', models.dir];

  before(() => {
    writeLeftNeighbourBert(models.dir, 'bert-test');
    writeCountingGpt2(models.dir, 'counting');
    writeCountingGpt2(models.dir, 'counting-long', { n_positions: 4096 });
  });
  after(() => models.remove());

  test('fill: { masks: [{ index, predictions: [{ token, score, sequence }] }] }', () => {
    const run = cli(['fill', ...dir(), '--text', 'The [MASK] barked at the mailman.', '--top-k', '2']);
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { masks: { index: number; predictions: { token: string; score: number; sequence: string }[] }[] };
    assert.equal(out.masks[0]!.index, 0);
    assert.deepEqual(out.masks[0]!.predictions.map((p) => p.token), ['dog', 'cat']);
    assert.equal(out.masks[0]!.predictions[0]!.sequence, 'The dog barked at the mailman.');
    assert.ok(out.masks[0]!.predictions[0]!.score > out.masks[0]!.predictions[1]!.score);
  });

  test('complete: { completion, tokens, ms, tokensPerSecond }, with and without the cache', () => {
    for (const extra of [[], ['--no-cache']]) {
      const run = cli(['complete', ...dir(), '--model', 'counting', '--text', 'Hi', '--max-tokens', '4', ...extra]);
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { completion: string; tokens: number; ms: number; tokensPerSecond: number; cache: boolean };
      assert.equal(out.completion, '2345');
      assert.equal(out.tokens, 4);
      assert.equal(typeof out.ms, 'number');
      assert.equal(typeof out.tokensPerSecond, 'number');
      assert.equal(out.cache, extra.length === 0);
    }
    const sampled = cli(['complete', ...dir(), '--model', 'counting', '--text', 'Hi', '--temperature', '1', '--top-k', '5', '--top-p', '0.9', '--min-p', '0.05', '--seed', '7']);
    assert.equal(sampled.status, 0, sampled.stderr);
    assert.equal(JSON.parse(sampled.stdout).seed, 7);
    // the counting model never repeats a token, so the penalty leaves its answer as it was
    const penalised = cli(['complete', ...dir(), '--model', 'counting', '--text', 'Hi', '--max-tokens', '4', '--repetition-penalty', '1.5']);
    assert.equal(penalised.status, 0, penalised.stderr);
    assert.equal(JSON.parse(penalised.stdout).completion, '2345');
  });

  test('score: { tokens, tokenLogProbs, perplexity } from --text or --file', () => {
    const file = path.join(models.dir, 'text.txt');
    writeFileSync(file, '1234');
    const fromFile = cli(['score', ...dir(), '--file', file]);
    const fromText = cli(['score', ...dir(), '--text', '1234']);
    assert.equal(fromFile.status, 0, fromFile.stderr);
    assert.equal(fromFile.stdout, fromText.stdout);
    const out = JSON.parse(fromFile.stdout) as { tokens: string[]; tokenLogProbs: number[]; perplexity: number };
    assert.deepEqual(out.tokens, ['1', '2', '3', '4']);
    assert.equal(out.tokenLogProbs.length, 4);
    assert.ok(out.perplexity > 1);
  });

  test('bad input: exit 2 and a clear BAD_INPUT message, never a stack trace', () => {
    const binary = path.join(models.dir, 'binary.bin'); // a few words, then what an executable has
    writeFileSync(binary, Buffer.concat([Buffer.from('1234 words first, '), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]), Buffer.alloc(9000, 0x31)]));
    const cases: [string[], RegExp][] = [
      [['fill', '--text', ''], /empty/],
      [['fill', '--text', 'no mask here'], /no mask/],
      [['complete', '--text', ''], /empty/],
      [['complete', '--text', 'Hi', '--temperature', 'hot'], /--temperature must be a number/],
      [['complete', '--text', 'Hi', '--min-p', 'some'], /--min-p must be a number/],
      [['complete', '--text', 'Hi', '--max-tokens', '0'], /--max-tokens/],
      [['complete', '--text', 'Hi', '--repetition-penalty', '0.9'], /repetitionPenalty must be from 1/],
      [['score'], /either --text or --file/],
      [['score', '--file', path.join(models.dir, 'missing.txt')], /Cannot read/],
      [['score', '--file', binary], /binary\.bin looks like a binary file \(a NUL byte in its first 8000 bytes\)/],
    ];
    for (const [args, message] of cases) {
      const run = cli([...args, ...dir()]);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      const error = errorOf(run.stderr);
      assert.equal(error.code, 'BAD_INPUT');
      assert.match(error.message, message);
      assert.doesNotMatch(run.stderr, /\n\s+at /);
    }
  });

  test('a 3,000-token prompt is truncated, not refused (and does not crash ONNX Runtime)', () => {
    const run = cli(['complete', ...dir(), '--model', 'counting', '--text', 'x'.repeat(3000), '--max-tokens', '4']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).truncated, true);
  });

  test('Ctrl+C mid-generation: CANCELLED on stderr, exit 1', async () => {
    const child = spawn(process.execPath, [CLI, 'complete', ...dir(), '--model', 'counting-long', '--text', 'a', '--max-tokens', '1024', '--no-cache', '--stream']);
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!interrupted) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    assert.equal(status, 1, stderr);
    assert.equal(errorOf(stderr).code, 'CANCELLED');
  });
});
