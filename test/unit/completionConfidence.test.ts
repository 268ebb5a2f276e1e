/**
 * Ghost text's confidence cut: `generate` reports the model's own probability of each token it wrote and where
 * the token's text ends; `confidentPrefix` keeps the sure start of a completion, ending at a word's end; `eval
 * completion` compares suggestions with what a text goes on with at several cuts. End to end on the counting
 * model (helpers/lmModels.ts), whose logits are known, so every probability is computed here from them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { confidentPrefix, ghostText, healedPrompt, wordsOf } from '../../src/engine/tasks/generate/confidence';
import { healingAllowed, planHealing } from '../../src/engine/tasks/generate/generate';
import { loadTokenizer, tokenTexts } from '../../src/engine/tokenizer';
import { Engine, modelDirectories } from '../../src/engine/engine';
import { LensError } from '../../src/engine/errors';
import { COMPLETION_THRESHOLDS, completionPoints, tallyCompletion } from '../../src/engine/eval/completion';
import { logSoftmax } from '../../src/engine/sampling';
import { COUNT_BASE, countingLogits, writeCountingGpt2 } from './helpers/lmModels';
import { DIST, tempDir } from './helpers/modelFolders';
import { lensError } from './helpers/lensError';

const workerPath = path.join(DIST, 'worker.js');

/** The counting model's probability of token `id` after `n` tokens, from its logits. */
const countingProb = (n: number, id: number): number => Math.exp(logSoftmax(countingLogits(n))[id]!);

describe('confidentPrefix', () => {
  const completion = ' the river bank.';
  const ends = [4, 10, 13, 15, 16]; // " the", " river", " ba", "nk", "."

  test('keeps tokens down to the first one under the cut; 0 keeps everything', () => {
    assert.equal(confidentPrefix(completion, ends, [0.9, 0.8, 0.7, 0.6, 0.5], 0.5), completion);
    assert.equal(confidentPrefix(completion, ends, [0.9, 0.8, 0.1, 0.9, 0.9], 0.5), ' the river');
    assert.equal(confidentPrefix(completion, ends, [0.01, 0.01, 0.01, 0.01, 0.01], 0), completion);
    assert.equal(confidentPrefix(completion, ends, [0.1, 0.9, 0.9, 0.9, 0.9], 0.5), '');
  });

  test('a cut inside a word goes back to where the word starts; trailing spaces go', () => {
    assert.equal(confidentPrefix(completion, ends, [0.9, 0.9, 0.9, 0.1, 0.9], 0.5), ' the river');
    assert.equal(confidentPrefix(" don't stop", [4, 6, 11], [0.9, 0.2, 0.9], 0.5), '');
    assert.equal(confidentPrefix(' a, b', [2, 3, 5], [0.9, 0.9, 0.1], 0.5), ' a,');
  });

  test('the first healedTokens tokens (re-writing typed text) do not stop the cut', () => {
    // "The Uni|": " Un" (0.1) only re-wrote the typed text, "ited" (0.9) and " States" (0.9) are the suggestion
    assert.equal(confidentPrefix('ted States', [0, 3, 10], [0.1, 0.9, 0.9], 0.5, 1), 'ted States');
    assert.equal(confidentPrefix('ted States', [0, 3, 10], [0.1, 0.9, 0.9], 0.5), '');
    assert.equal(confidentPrefix('ted States', [0, 3, 10], [0.1, 0.3, 0.9], 0.5, 1), ''); // the word's end is a guess
  });

  test('NaN stops the cut; ends past the text are clipped', () => {
    assert.equal(confidentPrefix(' a b', [2, 4], [0.9, Number.NaN], 0.5), ' a');
    assert.equal(confidentPrefix(' a', [2, 9], [0.9, 0.9], 0.5), ' a');
  });

  test('healedPrompt drops one space after a word; ghostText then wants the completion to start with it', () => {
    assert.equal(healedPrompt('The United '), 'The United');
    assert.equal(healedPrompt('The United'), 'The United');
    assert.equal(healedPrompt('The United  '), 'The United  '); // two spaces: sent as typed
    assert.equal(healedPrompt('Line\n '), 'Line\n ');
    assert.equal(ghostText(' States, and', [7, 8, 12], [0.99, 0.1, 0.9], 0.2, true), 'States');
    assert.equal(ghostText(' States, and', [7, 8, 12], [0.99, 0.1, 0.9], 0.2, false), ' States');
    assert.equal(ghostText('man of', [3, 6], [0.9, 0.9], 0.2, true), ''); // the model went on with the word
  });

  test('wordsOf: words (with inner apostrophes) and marks, spaces ignored', () => {
    assert.deepEqual(wordsOf(" Don't stop, it's 3.5 "), ["Don't", 'stop', ',', "it's", '3', '.', '5']);
    assert.deepEqual(wordsOf('   '), []);
  });
});

describe('token healing: planHealing and tokenTexts', () => {
  //              0    1     2    3        4    5   6          7     8    9      10   11
  const texts = ['a', ' b', ' ', ' bank', 'b', '', ' \uFFFD', ' Un', 'i', '.', ' Uni', 'ted'];

  test('taken back: the last token, and the pieces of its word before it, down to the one that starts it', () => {
    assert.deepEqual(planHealing(texts, [0, 1]), { text: ' b', ids: [1] }); // starts the word: stop there
    assert.deepEqual(planHealing(texts, [0, 7, 8]), { text: ' Uni', ids: [7, 8] }); // " Un" + "i"
    assert.deepEqual(planHealing(texts, [0, 7, 8, 11, 11, 11, 11]), { text: 'tedtedtedted', ids: [11, 11, 11, 11] }); // at most 4
    assert.deepEqual(planHealing(texts, [0, 2]), { text: ' ', ids: [2] }); // a typed space
    assert.deepEqual(planHealing(texts, [7, 9, 8]), { text: 'i', ids: [8] }); // "." is not part of the word
    assert.deepEqual(planHealing(texts, [8, 8]), { text: 'i', ids: [8] }); // one token is always left to the model
    assert.equal(planHealing(texts, [1]), undefined);
    assert.equal(planHealing(texts, [0, 5]), undefined); // a special token
    assert.equal(planHealing(texts, [0, 6]), undefined); // part of a character
  });

  test("allowed while healing: the tokenizer's own token there, or one that holds all the rest and may go on", () => {
    // " Un" (the original) or " Uni"; not " " (a mere start of it: frequent short tokens would lead astray)
    assert.deepEqual(healingAllowed(texts, ' Uni', 7), Int32Array.from([7, 10]));
    assert.deepEqual(healingAllowed(texts, ' b', 1), Int32Array.from([1, 3])); // not the half character
    assert.deepEqual(healingAllowed(texts, 'i', 8), Int32Array.from([8]));
  });

  test("tokenTexts: what each id adds inside a text (byte-level spaces as spaces, specials as '')", async () => {
    const models = tempDir();
    try {
      writeCountingGpt2(models.dir, 'hi', {}, { merged: { 'H i': 90 } });
      const texts = tokenTexts(await loadTokenizer(path.join(models.dir, 'hi')));
      assert.equal(texts.length, 257);
      assert.deepEqual([texts[32], texts[72], texts[90], texts[256]], [' ', 'H', 'Hi', '']);
      assert.equal(texts[0xc3], '\uFFFD'); // the first byte of a two-byte character
    } finally {
      models.remove();
    }
  });
});

describe('token healing with a SentencePiece-style (Metaspace) tokenizer, as Llama-family models have', () => {
  // "▁" marks a word's start; decoding drops it at the very start of a text, which tokenTexts must not do
  const vocab = ['<unk>', '▁', 'a', '▁a', 'U', 'n', 'i', 't', 'e', 'd', '▁U', '▁Un', '▁Uni', '▁Unit', '▁United', 'T', 'h', '▁T', '▁Th', '▁The', 'te', 'ted'];
  const merges = ['▁ U', '▁U n', '▁Un i', '▁Uni t', '▁Unit e', 't e', 'te d', '▁ a', '▁ T', '▁T h', '▁Th e'];
  const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: metaspace,
    post_processor: null,
    decoder: metaspace,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      merges,
    },
  };

  test('token texts keep the word-start space; "The Uni" heals to " Uni", which " United" and " Unit" may replace', async () => {
    const dir = tempDir('lm-lens-metaspace-');
    try {
      writeFileSync(path.join(dir.dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
      const tokenizer = await loadTokenizer(dir.dir);
      const texts = tokenTexts(tokenizer);
      const id = (t: string): number => vocab.indexOf(t);
      assert.deepEqual([texts[id('▁Un')], texts[id('ted')], texts[id('▁')], texts[0]], [' Un', 'ted', ' ', '']);
      const prompt = tokenizer.encode('The Uni', { add_special_tokens: false }).ids;
      assert.deepEqual(prompt, [id('▁The'), id('▁Uni')]);
      const healing = planHealing(texts, prompt)!;
      assert.deepEqual(healing, { text: ' Uni', ids: [id('▁Uni')] });
      assert.deepEqual([...healingAllowed(texts, healing.text, healing.ids[0]!)], [id('▁Uni'), id('▁Unit'), id('▁United')]);
    } finally {
      dir.remove();
    }
  });
});

describe('completionPoints and tallyCompletion', () => {
  test('after every Nth word or mark with a space after it and more on the line', () => {
    const text = 'one two three four\nfive six, seven\nend';
    // line 2: "six" (2nd) is followed by ",", not a space; "seven" (4th) ends the line
    assert.deepEqual(completionPoints(text, 2), [{ offset: 7, reference: ' three four' }]);
    assert.deepEqual(completionPoints(text, 1).map((p) => text.slice(0, p.offset).split('\n').pop()), [
      'one',
      'one two',
      'one two three',
      'five',
      'five six,',
    ]);
  });

  test('after the space that follows the word, or half-way through a word of 4+ characters', () => {
    const text = 'one two three four\nfive six, seven\nend';
    assert.deepEqual(completionPoints(text, 2, 'after-space'), [{ offset: 8, reference: 'three four' }]);
    // every word of 4+ characters, the end of a line too: "thr|ee", "fo|ur", "fi|ve", "sev|en"
    assert.deepEqual(completionPoints(text, 1, 'mid-word').map((p) => p.reference), ['ee four', 'ur', 've six, seven', 'en']);
    assert.deepEqual(completionPoints('naïve café', 1, 'mid-word'), [
      { offset: 3, reference: 've café' },
      { offset: 8, reference: 'fé' },
    ]);
  });

  test('shown, words, precision, first word, whole and right words per point at a cut', () => {
    const points = [
      { offset: 0, reference: ' the river bank' },
      { offset: 0, reference: ' a cup of tea' },
      { offset: 0, reference: ' go home' },
    ];
    const suggestions = [
      { completion: ' the river side', tokenEnds: [4, 10, 15], tokenProbs: [0.9, 0.6, 0.3] },
      { completion: ' a cup', tokenEnds: [2, 6], tokenProbs: [0.9, 0.9] },
      { completion: ' stop', tokenEnds: [5], tokenProbs: [0.2] },
    ];
    assert.deepEqual(tallyCompletion(points, suggestions, 0), {
      minTokenProbability: 0,
      shown: 1,
      words: 2,
      precision: 0.6667, // 2 + 2 + 0 right of 3 + 2 + 1
      firstWord: 0.6667,
      whole: 0.3333,
      rightWordsPerPoint: 1.3333,
    });
    assert.deepEqual(tallyCompletion(points, suggestions, 0.5), {
      minTokenProbability: 0.5,
      shown: 0.6667,
      words: 2, // " the river", " a cup"
      precision: 1,
      firstWord: 1,
      whole: 1,
      rightWordsPerPoint: 1.3333,
    });
    assert.equal(tallyCompletion(points, suggestions, 0.95).shown, 0);
  });
});

describe('token probabilities and eval completion (counting model in the worker)', () => {
  const models = tempDir();
  const files = tempDir('lm-lens-eval-completion-');
  let engine: Engine;
  before(() => {
    writeCountingGpt2(models.dir, 'counting', { n_positions: 256 });
    writeCountingGpt2(models.dir, 'counting-hi', { n_positions: 256 }, { merged: { 'H i': 90 } }); // id 90 is "Hi", not "Z"
    engine = new Engine({ modelDirectories: modelDirectories(models.dir), workerPath });
  });
  after(async () => {
    await engine.dispose();
    models.remove();
    files.remove();
  });

  test("each token's probability is the model's softmax, and its end is where its text ends", async () => {
    const result = await engine.generate({ text: 'Hi', maxTokens: 4, tokenProbs: true, model: 'counting' });
    assert.equal(result.completion, '2345');
    assert.deepEqual(result.tokenEnds, [1, 2, 3, 4]);
    result.tokenProbs!.forEach((p, i) => assert.ok(Math.abs(p - countingProb(2 + i, COUNT_BASE + 2 + i)) < 1e-6, `token ${i}: ${p}`));
  });

  test('the probability is taken before the repetition penalty changes the choice', async () => {
    // after "2x" the model would write "2"; the penalty halves that logit, so its neighbours "1" and "3" tie above
    // it and the first ("1") wins, with its own probability
    const result = await engine.generate({ text: '2x', maxTokens: 1, repetitionPenalty: 2, tokenProbs: true, model: 'counting' });
    assert.equal(result.completion, '1');
    assert.ok(Math.abs(result.tokenProbs![0]! - countingProb(2, COUNT_BASE + 1)) < 1e-6);
    assert.ok(result.tokenProbs![0]! < countingProb(2, COUNT_BASE + 2) / 2);
  });

  test('a stop string: the token ends that ran past it end where it starts', async () => {
    const result = await engine.generate({ text: 'Hi', maxTokens: 8, stop: ['45'], tokenProbs: true, model: 'counting' });
    assert.equal(result.completion, '23');
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.tokenEnds, [1, 2, 2, 2]);
    assert.equal(result.tokenProbs!.length, 4);
  });

  test('without tokenProbs asked for, neither list is there (they cost a pass over the vocabulary per token)', async () => {
    const result = await engine.generate({ text: 'Hi', maxTokens: 4, model: 'counting' });
    assert.equal(result.completion, '2345');
    assert.equal('tokenProbs' in result || 'tokenEnds' in result, false);
    await assert.rejects(engine.generate({ text: 'Hi', tokenProbs: 'yes' as unknown as boolean, model: 'counting' }), lensError('BAD_INPUT', /tokenProbs must be true or false/));
  });

  test('heal: the last token is taken back and the model re-chooses it, here finishing the word with a longer token', async () => {
    // 'a' x 33 + ' H' is 35 tokens; healed, the model has seen 34 and its parabola peaks at 82: of the tokens that start
    // with "H", "Hi" (90) beats "H" (72); the completion is the rest of it ("i"), then 83 = "S" after 35 tokens
    const text = 'a'.repeat(33) + ' H';
    const plain = await engine.generate({ text, maxTokens: 3, tokenProbs: true, model: 'counting-hi' });
    assert.equal(plain.completion, 'STU');
    assert.equal('healed' in plain, false);
    const healed = await engine.generate({ text, maxTokens: 3, tokenProbs: true, heal: true, model: 'counting-hi' });
    assert.deepEqual([healed.completion, healed.healed, healed.promptTokens, healed.tokenEnds], ['iST', 'H', 34, [1, 2, 3]]);
    assert.equal(healed.healedTokens, 0); // "Hi" re-wrote "H" and added "i"
    assert.equal(healed.tokenProbs![0], 1); // "Hi" against "H": e^-36 apart
  });

  test("heal: the first token's probability is its share among the tokens allowed; the healed text is not repeated", async () => {
    // one 'a' fewer: the peak is at 81, as far from "H" (72) as from "Hi" (90), so each has half of the allowed mass;
    // the first of a tie wins ("H"), which adds nothing to the completion and is not counted in maxTokens; then 34
    // tokens seen: 82 = "R", and two more
    const healed = await engine.generate({ text: 'a'.repeat(32) + ' H', maxTokens: 3, tokenProbs: true, heal: true, model: 'counting-hi' });
    assert.deepEqual([healed.completion, healed.tokenEnds, healed.tokenProbs![0], healed.healedTokens, healed.tokens], ['RST', [0, 1, 2, 3], 0.5, 1, 4]);
    // the repetition penalty does not hold the taken-back token against itself ("H" is not in the text before it)
    // (penalised, "Hi" would win the tie and the completion would start with "i")
    const penalized = await engine.generate({ text: 'a'.repeat(32) + ' H', maxTokens: 1, repetitionPenalty: 2, heal: true, model: 'counting-hi' });
    assert.deepEqual([penalized.completion, penalized.healedTokens], ['R', 1]);
    // a one-token text has nothing to heal; a bad flag is refused
    const one = await engine.generate({ text: 'H', maxTokens: 1, heal: true, model: 'counting-hi' });
    assert.equal('healed' in one, false);
    await assert.rejects(engine.generate({ text: 'Hi', heal: 1 as unknown as boolean, model: 'counting' }), lensError('BAD_INPUT', /heal must be true or false/));
  });

  test('heal: the pieces of a half-typed word are all taken back and written again before the completion', async () => {
    // ' Hiq' is " " + "Hi" + "q": "Hiq" is taken back (the space before it is not part of the word). No token holds
    // "Hiq", so the model must write "Hi" and "q" again, its own split; "H" alone (a mere start) is not allowed,
    // though after 32 tokens the parabola peaks at 80, nearer "H" (72) than "Hi" (90). Then 82 = "R", 83 = "S", ...:
    // maxTokens 4 counts only these new tokens, not the two that re-wrote "Hiq"
    const healed = await engine.generate({ text: 'a'.repeat(31) + ' Hiq', maxTokens: 4, tokenProbs: true, heal: true, model: 'counting-hi' });
    assert.deepEqual([healed.completion, healed.healed, healed.promptTokens, healed.tokenEnds], ['RSTU', 'Hiq', 32, [0, 0, 1, 2, 3, 4]]);
    assert.equal(healed.healedTokens, 2);
    assert.deepEqual(healed.tokenProbs!.slice(0, 2), [1, 1]);
  });

  test('eval completion: suggestions against what each line goes on with, at every cut', async () => {
    // line 1: after "012" (3 tokens) the model writes "3456789" = the rest of the line; line 2: after the whole
    // text before it (14 tokens) it writes ">?@ABCD", where the line goes on with "3"
    const file = path.join(files.dir, 'text.txt');
    writeFileSync(file, '012 3456789\nab 3\n');
    const result = await engine.evalCompletion({ file, model: 'counting', every: 1, maxTokens: 7, healing: 'none' });
    assert.equal(result.points, 2);
    assert.deepEqual(result.thresholds.map((t) => t.minTokenProbability), COMPLETION_THRESHOLDS);
    const sure = countingProb(3, COUNT_BASE + 3); // ~0.56, the same for every token of this model
    for (const tally of result.thresholds) {
      if (tally.minTokenProbability <= sure) {
        assert.deepEqual(tally, { minTokenProbability: tally.minTokenProbability, shown: 1, words: 2.5, precision: 0.2, firstWord: 0.5, whole: 0.5, rightWordsPerPoint: 0.5 });
      } else {
        assert.equal(tally.shown, 0);
      }
    }
    assert.deepEqual(result.samples.map((s) => [s.promptEnd, s.completion, s.reference]), [
      ['012', '3456789', ' 3456789'],
      ['012 3456789\nab', '>?@ABCD', ' 3'],
    ]);
  });

  test('eval completion after the space: none sends it, space drops it and shows nothing when the word goes on', async () => {
    const file = path.join(files.dir, 'space.txt');
    writeFileSync(file, '012 3456789\n');
    const raw = await engine.evalCompletion({ file, model: 'counting', every: 1, maxTokens: 7, cursor: 'after-space', healing: 'none' });
    assert.deepEqual([raw.cursor, raw.healing], ['after-space', 'none']);
    assert.deepEqual([raw.samples[0]!.promptEnd, raw.samples[0]!.completion], ['012 ', '456789:']); // 4 tokens seen
    assert.equal(raw.thresholds[0]!.firstWord, 0);
    const healed = await engine.evalCompletion({ file, model: 'counting', every: 1, maxTokens: 7, cursor: 'after-space', healing: 'space' });
    assert.equal(healed.samples[0]!.completion, '3456789'); // "012" sent; no leading space, so nothing is shown
    assert.equal(healed.thresholds[0]!.shown, 0);
    // token healing: the space is taken back and the first token must start with one; the byte-level vocabulary has
    // only " " itself, so the model writes it (probability 1 among the allowed, not counted in maxTokens) and goes on
    // after 4 tokens with 7 new ones, as with no healing
    const token = await engine.evalCompletion({ file, model: 'counting', every: 1, maxTokens: 7, cursor: 'after-space' });
    assert.equal(token.healing, 'token');
    assert.deepEqual([token.samples[0]!.completion, token.samples[0]!.tokenProbs[0]], ['456789:', 1]);
    await assert.rejects(
      engine.evalCompletion({ file, model: 'counting', cursor: 'after' as 'mid-word' }),
      lensError('BAD_INPUT', /cursor must be "word-end", "after-space" or "mid-word"/),
    );
    await assert.rejects(
      engine.evalCompletion({ file, model: 'counting', healing: 'raw' as 'none' }),
      lensError('BAD_INPUT', /healing must be "token", "space" or "none"/),
    );
  });

  test('eval completion errors: no line long enough, bad every, wrong model kind, cancel', async () => {
    const short = path.join(files.dir, 'short.txt');
    writeFileSync(short, 'one\ntwo words\n');
    await assert.rejects(engine.evalCompletion({ file: short, model: 'counting' }), lensError('BAD_INPUT', /no line with more than 8 words/));
    await assert.rejects(engine.evalCompletion({ file: short, every: 0 }), lensError('BAD_INPUT', /every must be a whole number/));
    const long = path.join(files.dir, 'long.txt');
    writeFileSync(long, Array.from({ length: 200 }, (_, i) => `w${i}`).join(' '));
    const abort = new AbortController();
    let progressed = 0;
    const run = engine.evalCompletion({ file: long, model: 'counting', every: 1, maxTokens: 2 }, abort.signal, (p) => {
      progressed = p.done;
      if (p.done === 3) abort.abort();
    });
    await assert.rejects(run, (e: unknown) => e instanceof LensError && e.code === 'CANCELLED');
    assert.ok(progressed < 199, `cancelled mid-run (after ${progressed} points)`);
  });

  test('lm-lens eval completion prints the table; a bad --every is exit 2', () => {
    const file = path.join(files.dir, 'cli.txt');
    writeFileSync(file, '012 3456789\n');
    const cli = (args: string[]) => spawnSync(process.execPath, [path.join(DIST, 'cli.js'), '--models-dir', models.dir, ...args], { encoding: 'utf8', timeout: 60_000 });
    const run = cli(['eval', 'completion', '--model', 'counting', '--file', file, '--every', '1', '--max-tokens', '7', '--healing', 'none']);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { points: number; maxTokens: number; healing: string; thresholds: { whole: number }[] };
    assert.deepEqual([result.points, result.maxTokens, result.healing], [1, 7, 'none']);
    assert.equal(result.thresholds[0]!.whole, 1);
    const midWord = cli(['eval', 'completion', '--model', 'counting', '--file', file, '--every', '1', '--cursor', 'mid-word']);
    assert.equal(midWord.status, 0, midWord.stderr);
    assert.equal((JSON.parse(midWord.stdout) as { cursor: string }).cursor, 'mid-word');
    const badCursor = cli(['eval', 'completion', '--file', file, '--cursor', 'middle']);
    assert.equal(badCursor.status, 2);
    assert.match(badCursor.stderr, /cursor must be/);
    const bad = cli(['eval', 'completion', '--file', file, '--every', 'x']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /"code":"BAD_INPUT".*--every must be a whole number/);
  });
});
