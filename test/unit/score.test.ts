/**
 * Scoring end to end on the hand-built counting GPT-2 (helpers/lmModels.ts), whose log-probabilities can
 * be computed here exactly, including for texts longer than its 64-token window.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { LensError } from '../../src/engine/errors';
import { placeTokens } from '../../src/engine/models/lmText';
import { scoringWindows } from '../../src/engine/tasks/score/score';
import { logSoftmax } from '../../src/engine/sampling';
import { DIST, REPO_ROOT, SHIPPED_MODELS, tempDir } from './helpers/modelFolders';
import { lensError } from './helpers/lensError';
import { countingLogits, EOT, writeCountingGpt2, writeLeftNeighbourBert } from './helpers/lmModels';

const workerPath = path.join(DIST, 'worker.js');

/** The counting model's log-probability of `id` after it has seen `n` tokens. */
const expectedLogProb = (n: number, id: number): number => logSoftmax(countingLogits(n))[id]!;

describe('scoringWindows', () => {
  test('one window when the text fits; overlapping half-window strides otherwise, each token scored once', () => {
    assert.deepEqual(scoringWindows(10, 64), [{ begin: 0, end: 10, from: 1 }]);
    const windows = scoringWindows(101, 64);
    assert.deepEqual(windows, [
      { begin: 0, end: 64, from: 1 },
      { begin: 32, end: 96, from: 64 },
      { begin: 64, end: 101, from: 96 },
    ]);
    const scored = windows.flatMap((w) => Array.from({ length: w.end - w.from }, (_, i) => w.from + i));
    assert.deepEqual(scored, Array.from({ length: 100 }, (_, i) => i + 1));
  });
});

describe('placeTokens', () => {
  test('places pieces in order; a normalised piece is found a little ahead; unknown ones are null', () => {
    assert.deepEqual(placeTokens('The dog.', ['The', ' dog', '.']), [[0, 3], [3, 7], [7, 8]]);
    assert.deepEqual(placeTokens('The Dog', ['the', 'dog', '']), [[0, 3], [4, 7], null]);
    assert.deepEqual(placeTokens('abc', ['zz']), [null]);
  });
});

describe('score (hand-built GPT-2-shaped model in the worker)', () => {
  const models = tempDir();
  let engine: Engine;

  before(() => {
    writeCountingGpt2(models.dir, 'counting');
    writeCountingGpt2(models.dir, 'one-position', { n_positions: 1 });
    writeLeftNeighbourBert(models.dir, 'bert-test');
    engine = new Engine({ modelDirectories: modelDirectories(models.dir), workerPath });
  });
  after(async () => {
    await engine.dispose();
    models.remove();
  });

  test('per-token log-probabilities (the first token too, after <|endoftext|>), offsets and perplexity', async () => {
    const text = '12 45';
    const result = await engine.score({ text, model: 'counting' });
    assert.deepEqual(result.tokens, ['1', '2', ' ', '4', '5']);
    assert.deepEqual(result.offsets, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);
    const ids = [EOT, ...Buffer.from(text)];
    const expected = ids.slice(1).map((id, i) => expectedLogProb(i + 1, id));
    result.tokenLogProbs.forEach((lp, i) => assert.ok(Math.abs(lp - expected[i]!) < 1e-3, `token ${i}: ${lp} vs ${expected[i]}`));
    const mean = expected.reduce((a, b) => a + b, 0) / expected.length;
    assert.ok(Math.abs(Math.log(result.perplexity) + mean) < 1e-3, `log perplexity ${Math.log(result.perplexity)} = -mean log-probability ${-mean}`);
    assert.equal(result.windows, 1);
    // after 3 tokens the model expects '3' and gets ' ' (far off); after 4 it expects '4' and gets it
    assert.ok(result.tokenLogProbs[2]! < -100 && result.tokenLogProbs[3]! > -1);
  });

  test('a character split over two byte tokens: the first piece is empty, the second carries it', async () => {
    const result = await engine.score({ text: 'café!', model: 'counting' });
    assert.deepEqual(result.tokens, ['c', 'a', 'f', '', 'é', '!']);
    assert.equal(result.tokens.join(''), 'café!');
    assert.deepEqual(result.offsets, [[0, 1], [1, 2], [2, 3], null, [3, 4], [4, 5]]);
    assert.equal(result.tokenLogProbs.length, 6);
  });

  test('a text longer than the window is scored in overlapping windows, every token once', async () => {
    const text = 'abcdefghij'.repeat(10); // 100 tokens + <|endoftext|> = 101
    const result = await engine.score({ text, model: 'counting' });
    assert.equal(result.windows, 3);
    assert.equal(result.tokenLogProbs.length, 100);
    const ids = [EOT, ...Buffer.from(text)];
    for (const { begin, end, from } of scoringWindows(101, 64)) {
      for (let j = from; j < end; j++) {
        const expected = expectedLogProb(j - begin, ids[j]!); // the model has seen j - begin tokens of this window
        assert.ok(Math.abs(result.tokenLogProbs[j - 1]! - expected) < 1e-2, `token ${j}`);
      }
    }
  });

  test('bad input and the wrong kind of model', async () => {
    const bad = (code: string, message: RegExp) => (error: unknown) =>
      error instanceof LensError && error.code === code && message.test(error.message);
    await assert.rejects(engine.score({ text: '', model: 'counting' }), bad('BAD_INPUT', /empty/));
    await assert.rejects(engine.score({ text: 'hello', model: 'bert-test' }), bad('BAD_INPUT', /needs a causal-lm model/));
  });

  test('a model whose config gives a one-token context is refused, not scored as perplexity NaN (issue 12)', async () => {
    // each window of one token predicts nothing inside it: before the fix, no token was scored and perplexity was NaN
    await assert.rejects(engine.score({ text: 'hello', model: 'one-position' }), lensError('BAD_INPUT', /context of 1 token.*at least 2/));
  });
});

function realGpt2(): string | undefined {
  for (const dir of [SHIPPED_MODELS, path.join(REPO_ROOT, 'training', 'work-smoke', 'models')]) {
    if (existsSync(path.join(dir, 'gpt2-mini', 'onnx', 'model.onnx'))) return dir;
  }
  return undefined;
}

describe('score with the real GPT-2 (gpt2-mini)', { skip: realGpt2() ? false : 'no gpt2-mini in media/models or training/work-smoke/models' }, () => {
  test('the tokens give the text back, with finite log-probabilities and a perplexity above 1', async () => {
    const engine = new Engine({ modelDirectories: modelDirectories(realGpt2()!), workerPath });
    try {
      const text = 'The dog barked at the mailman. Naïve café — ok.';
      const result = await engine.score({ text, model: 'gpt2-mini' });
      assert.equal(result.tokens.join(''), text);
      result.tokens.forEach((token, i) => assert.equal(result.offsets[i] === null, token === '', `offset of token ${i}`));
      assert.ok(result.tokenLogProbs.every((lp) => Number.isFinite(lp) && lp <= 0));
      assert.ok(result.perplexity > 1);
    } finally {
      await engine.dispose();
    }
  });
});
