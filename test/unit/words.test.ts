import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { LensError } from '../../src/engine/errors';
import { MAX_WINDOW_WORDS, findWord, splitWords, windowAround, wordWindow } from '../../src/engine/words';
import { wordAt as hoverWordAt } from '../../src/features/hover/wordContext';

const texts = (text: string): string[] => splitWords(text).map((w) => w.text);

describe('splitWords', () => {
  test('letters and digits form words; inner apostrophes stay; other symbols stand alone', () => {
    assert.deepEqual(texts("The river’s bank, didn't flood!"), ['The', 'river’s', 'bank', ',', "didn't", 'flood', '!']);
    assert.deepEqual(texts('pi is 3.14 (roughly)'), ['pi', 'is', '3', '.', '14', '(', 'roughly', ')']);
    assert.deepEqual(texts("rock 'n' roll"), ['rock', "'", 'n', "'", 'roll']);
    assert.deepEqual(texts('e-mail x2 ...'), ['e', '-', 'mail', 'x2', '.', '.', '.']);
  });

  test('is Unicode-aware', () => {
    assert.deepEqual(texts('naïve café Straße Ελλάδα Москва'), ['naïve', 'café', 'Straße', 'Ελλάδα', 'Москва']);
    assert.deepEqual(texts('ok 😀!'), ['ok', '😀', '!']);
  });

  test('Han characters are words of one character (as BERT splits them); kana and Hangul runs stay runs', () => {
    assert.deepEqual(texts('我们在河岸上坐着。'), ['我', '们', '在', '河', '岸', '上', '坐', '着', '。']);
    assert.deepEqual(texts('川の岸で座った。'), ['川', 'の', '岸', 'で', '座', 'った', '。']);
    assert.deepEqual(texts('東京tower 3号'), ['東', '京', 'tower', '3', '号']);
    assert.deepEqual(texts('강둑에 앉았다'), ['강둑에', '앉았다']);
    assert.equal(findWord(splitWords('川の岸で座った。'), '岸'), 2);
    assert.equal(hoverWordAt('川の岸で座った。', 2)?.text, '岸');
  });

  test('combining marks belong to their word (issue 12): decomposed Latin, Devanagari, Bengali, Tamil', () => {
    const cafe = 'cafe\u0301'; // "café" with a combining acute accent
    assert.deepEqual(texts(`un ${cafe} noir`), ['un', cafe, 'noir']);
    assert.equal(findWord(splitWords(`le ${cafe}, s'il vous plaît`), cafe), 1);
    assert.deepEqual(texts('नमस्ते दुनिया'), ['नमस्ते', 'दुनिया']);
    assert.deepEqual(texts('আমি বাংলায় গান গাই'), ['আমি', 'বাংলায়', 'গান', 'গাই']);
    assert.deepEqual(texts('தமிழ்'), ['தமிழ்']);
    const nfc = 'naïve Zoë’s café Ελλάδα Tiếng Việt';
    assert.deepEqual(texts(nfc.normalize('NFD')), texts(nfc).map((w) => w.normalize('NFD')), 'decomposed text splits like composed text');
    assert.deepEqual(texts('Zoe\u0308’s'), ['Zoe\u0308’s'], 'marks after an inner apostrophe too');
    // a mark with no letter before it stays with the symbol it sits on, or alone
    assert.deepEqual(texts('❤\uFE0F ok'), ['❤\uFE0F', 'ok']);
    assert.deepEqual(texts('\u0301a'), ['\u0301', 'a']);
  });

  test('the hover sees the whole word, marks included', () => {
    assert.equal(hoverWordAt('un cafe\u0301 noir', 4)?.text, 'cafe\u0301');
    assert.equal(hoverWordAt('नमस्ते दुनिया', 9)?.text, 'दुनिया');
    assert.equal(hoverWordAt('தமிழ் மொழி', 1)?.text, 'தமிழ்');
  });

  test('plain ASCII English splits exactly as before combining marks were added', () => {
    const before = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*|[^\s\p{L}\p{N}]/gu; // the pattern before issue 12
    const text =
      "It's 9:30 -- the river's bank (by the mill) didn't flood; rock 'n' roll, e-mail x2... \"Quoted\" [MASK] #tag @you 50% $3.14 a_b";
    assert.deepEqual(texts(text), [...text.matchAll(before)].map((m) => m[0]));
  });

  test("the training scripts' word splitter (training/tokenize_corpus.mjs) splits as the engine does", () => {
    const source = readFileSync(path.join(__dirname, '../../../training/tokenize_corpus.mjs'), 'utf8');
    const literal = /const WORD =\s*\/(.+)\/gu;/.exec(source)?.[1];
    assert.ok(literal, 'tokenize_corpus.mjs defines WORD');
    const training = new RegExp(literal, 'gu');
    const sample = "The river’s bank, didn't flood! cafe\u0301 नमस्ते 東京tower 3号 川の岸で座った。 ❤\uFE0F x2... [MASK]";
    assert.deepEqual([...sample.matchAll(training)].map((m) => m[0]), texts(sample));
  });

  test("the word-level tokenizers' splitter (training/tokenizers_build.py), as tokenizer.json holds it, splits as the engine does", () => {
    // ELMo's and the NNLM's tokenizer.json carry this pattern in onig syntax (\p{Han}); @huggingface/tokenizers runs it
    const source = readFileSync(path.join(__dirname, '../../../training/tokenizers_build.py'), 'utf8');
    const parts = /WORD_SPLIT = \(r"(.+)"\s*\n\s*r"(.+)"\)/.exec(source);
    assert.ok(parts, 'tokenizers_build.py defines WORD_SPLIT as two raw strings');
    const tokenizer = new Tokenizer(
      {
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [],
        normalizer: null,
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'WhitespaceSplit' },
            { type: 'Split', pattern: { Regex: parts[1]! + parts[2]! }, behavior: 'Isolated', invert: false },
          ],
        },
        post_processor: null,
        decoder: null,
        model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' },
      },
      {},
    );
    for (const sample of [
      "The river’s bank, didn't flood! naïve cafe\u0301 3.14 e-mail x2... [MASK]",
      '東京tower 3号 川の岸で座った。 서울에서 नमस्ते',
    ]) {
      assert.deepEqual(tokenizer.tokenize(sample), texts(sample), sample);
    }
  });

  test('reports UTF-16 offsets into the text', () => {
    const text = '😀 bank';
    const [emoji, bank] = splitWords(text);
    assert.deepEqual(emoji, { text: '😀', start: 0, end: 2 });
    assert.deepEqual(bank, { text: 'bank', start: 3, end: 7 });
    assert.equal(text.slice(bank!.start, bank!.end), 'bank');
  });

  test('finds nothing in blank text', () => {
    assert.deepEqual(splitWords(' \n\t '), []);
  });
});

describe('findWord', () => {
  const words = splitWords('Bank of the river bank; the bank was closed.');

  test('finds the nth exact occurrence', () => {
    assert.equal(findWord(words, 'bank'), 4);
    assert.equal(findWord(words, 'bank', 2), 7);
    assert.equal(findWord(words, 'Bank'), 0);
    assert.equal(findWord(words, ' river '), 3);
  });

  test('falls back to ignoring case when there is no exact match', () => {
    assert.equal(findWord(words, 'RIVER'), 3);
    assert.equal(findWord(words, 'CLOSED'), 9);
  });

  test('BAD_INPUT for several words, a missing word, or a missing occurrence', () => {
    const badInput = (pattern: RegExp) => (error: unknown) =>
      error instanceof LensError && error.code === 'BAD_INPUT' && pattern.test(error.message);
    assert.throws(() => findWord(words, 'river bank'), badInput(/is 2 words/));
    assert.throws(() => findWord(words, '   '), badInput(/empty/));
    assert.throws(() => findWord(words, 'money'), badInput(/"money" does not occur/));
    assert.throws(() => findWord(words, 'riv'), badInput(/"riv" occurs in the text only inside the longer word "river"/));
    assert.throws(() => findWord(splitWords('สวัสดีครับ'), 'ครับ'), badInput(/only inside the longer word "สวัสดีครับ"/));
    assert.throws(() => findWord(words, 'bank', 3), badInput(/occurs 2 times.*no occurrence 3/));
    assert.throws(() => findWord(words, 'river', 2), badInput(/occurs once/));
    assert.throws(() => findWord(words, 'bank', 0), badInput(/whole number/));
    assert.throws(() => findWord(words, 'bank', 1.5), badInput(/whole number/));
  });
});

describe('windowAround', () => {
  test('keeps everything when it fits', () => {
    assert.deepEqual(windowAround(10, 3), { start: 0, end: 10 });
    assert.deepEqual(windowAround(MAX_WINDOW_WORDS, 100), { start: 0, end: MAX_WINDOW_WORDS });
  });

  test('centres on the target, clamped at the ends', () => {
    assert.deepEqual(windowAround(1000, 500), { start: 436, end: 564 });
    assert.deepEqual(windowAround(1000, 10), { start: 0, end: 128 });
    assert.deepEqual(windowAround(1000, 990), { start: 872, end: 1000 });
    assert.deepEqual(windowAround(9, 8, 4), { start: 5, end: 9 });
  });

  test('the target is always inside the window', () => {
    for (let count = 1; count < 300; count += 37) {
      for (let target = 0; target < count; target += 13) {
        const { start, end } = windowAround(count, target);
        assert.ok(start <= target && target < end && end - start === Math.min(count, MAX_WINDOW_WORDS));
      }
    }
  });
});

describe('wordWindow', () => {
  test("the words around the target, with offsets into the caller's text", () => {
    const text = 'Bank on it:  the river\nbank, the bank.';
    const w = wordWindow(text, 'bank', 2);
    assert.deepEqual(w.tokens, ['Bank', 'on', 'it', ':', 'the', 'river', 'bank', ',', 'the', 'bank', '.']);
    assert.equal(w.index, 9);
    assert.deepEqual(w.offsets.map(([start, end]) => text.slice(start, end)), w.tokens);
    assert.equal(w.truncated, false);
  });

  test('a long text keeps a window; the offsets still point into the whole text', () => {
    const text = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
    const w = wordWindow(text, 'w15', 1, 4);
    assert.deepEqual(w.tokens, ['w13', 'w14', 'w15', 'w16']);
    assert.equal(w.index, 2);
    assert.equal(text.slice(...w.offsets[2]!), 'w15');
    assert.equal(w.truncated, true);
    assert.throws(() => wordWindow(text, 'w99'), /does not occur/);
  });
});
