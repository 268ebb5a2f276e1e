/**
 * Robustness: odd texts in several scripts through the engine (one worker, in this process): every operation either
 * answers in the shape it promises or fails with an input error (BAD_INPUT, INPUT_TOO_LONG), never an internal
 * error, a crash or a hang. Scoring gives every text back token by token (byte-level tokenizer).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { LensError, isInputError } from '../../src/engine/errors';
import { splitWords } from '../../src/engine/words';
import { writeCountingGpt2, writeLeftNeighbourBert } from '../unit/helpers/lmModels';
import { DIST, tempDir, writeElmoFolder } from '../unit/helpers/modelFolders';

const TEXTS: Record<string, string> = {
  'Latin with combining marks': 'Un cafe\u0301 nai\u0308ve, s\u030cpatne\u030c.',
  Devanagari: 'हिन्दी में लिखा गया वाक्य है।',
  Arabic: 'هذه جملة مكتوبة باللغة العربية.',
  CJK: '这是一个中文句子。日本語の文も。한국어 문장.',
  emoji: 'family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 skin 👍🏽 keycap 1️⃣',
  'binary bytes': '\u0000\u0001\u0007\u001b[31mred\u001b[0m \ufffd\ufffe\uffff \ud800 lone \udc00 surrogates \u202e reversed',
  'a very long line': 'word '.repeat(20_000),
};

describe('odd texts through the engine', { concurrency: 4 }, () => {
  const models = tempDir('lm-lens-robust-texts-');
  let engine: Engine;
  before(() => {
    writeCountingGpt2(models.dir, 'counting');
    writeLeftNeighbourBert(models.dir, 'bert-test');
    writeElmoFolder(models.dir, 'elmo-test');
    engine = new Engine({ modelDirectories: modelDirectories(models.dir), workerPath: path.join(DIST, 'worker.js') });
  });
  after(async () => {
    await engine.dispose();
    models.remove();
  });

  /** The answer, or undefined after an input error; anything else fails the case. */
  async function answerOrInputError<T>(run: Promise<T>): Promise<T | undefined> {
    try {
      return await run;
    } catch (error) {
      assert.ok(error instanceof LensError, `a LensError, not ${String(error)}`);
      assert.ok(isInputError(error.code), `an input error, not ${error.code}: ${error.message}`);
      return undefined;
    }
  }

  for (const [name, text] of Object.entries(TEXTS)) {
    test(`${name}: score gives the text back token by token`, { timeout: 60_000 }, async () => {
      const result = await answerOrInputError(engine.score({ text, model: 'counting' }));
      if (!result) return;
      assert.equal(result.tokens.join(''), Buffer.from(text, 'utf8').toString('utf8') /* lone surrogates become U+FFFD */);
      assert.equal(result.tokenLogProbs.length, result.tokens.length);
      assert.ok(result.tokenLogProbs.every((lp) => lp <= 0 && !Number.isNaN(lp)));
    });

    test(`${name}: fill with a [MASK] added`, { timeout: 60_000 }, async () => {
      const result = await answerOrInputError(engine.fill({ text: `${text} the [MASK]`, model: 'bert-test' }));
      if (result) assert.equal(result.masks.length, 1);
    });

    test(`${name}: embed its first word`, { timeout: 60_000 }, async () => {
      const [word] = splitWords(text);
      if (!word) return; // nothing to look up (no letters or digits)
      const result = await answerOrInputError(engine.embed({ text, word: word.text, model: 'elmo-test' }));
      if (result) assert.ok(result.layers.every((layer) => layer.vector.every(Number.isFinite)));
    });

    test(`${name}: complete`, { timeout: 60_000 }, async () => {
      const result = await answerOrInputError(engine.generate({ text, model: 'counting', maxTokens: 3 }));
      if (result) assert.equal(result.tokens, 3);
    });

    test(`${name}: complete, token-healed, with probabilities`, { timeout: 60_000 }, async () => {
      const result = await answerOrInputError(engine.generate({ text, model: 'counting', maxTokens: 3, heal: true, tokenProbs: true }));
      if (!result) return;
      assert.equal(result.tokens - (result.healedTokens ?? 0), 3); // maxTokens counts new tokens, not re-written ones
      assert.equal(result.tokenProbs!.length, result.tokens);
      assert.ok(result.tokenProbs!.every((p) => p >= 0 && p <= 1), String(result.tokenProbs));
      // what was taken back is the end of the text as the tokenizer reads it (half a character is never taken back)
      if (result.healed !== undefined) assert.ok(Buffer.from(text, 'utf8').toString('utf8').endsWith(result.healed), JSON.stringify(result.healed));
    });
  }

  test('decomposed and composed café are one word each (combining marks)', () => {
    assert.deepEqual(splitWords('cafe\u0301 café').map((w) => w.text), ['cafe\u0301', 'café']);
  });
});
