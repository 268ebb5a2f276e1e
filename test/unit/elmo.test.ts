import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ELMO_CHARS,
  elmoBoundaryCharIds,
  elmoCharIds,
  elmoEmbed,
  elmoFeeds,
  parseElmoConfig,
  type ElmoConfig,
} from '../../src/engine/models/elmo';
import { LensError } from '../../src/engine/errors';
import type { HostTensor, ModelSession } from '../../src/engine/runtime/session';

/** `n` copies of the (shifted) padding id. */
const pad = (n: number): number[] => new Array<number>(n).fill(261);

describe('ELMo character ids (AllenNLP ELMoCharacterMapper)', () => {
  test('special ids', () => {
    assert.deepEqual(ELMO_CHARS, { beginSentence: 256, endSentence: 257, beginWord: 258, endWord: 259, padding: 260 });
  });

  test('golden: ASCII words are [259, byte+1..., 260, 261...]', () => {
    assert.deepEqual(elmoCharIds('a'), [259, 98, 260, ...pad(47)]);
    assert.deepEqual(elmoCharIds('bank'), [259, 99, 98, 111, 108, 260, ...pad(44)]);
    assert.deepEqual(elmoCharIds(','), [259, 45, 260, ...pad(47)]);
    assert.equal(elmoCharIds('bank').length, 50);
  });

  test('golden: UTF-8 bytes, not code points', () => {
    assert.deepEqual(elmoCharIds('é'), [259, 0xc3 + 1, 0xa9 + 1, 260, ...pad(46)]);
    assert.deepEqual(elmoCharIds('😀'), [259, 0xf0 + 1, 0x9f + 1, 0x98 + 1, 0x80 + 1, 260, ...pad(44)]);
  });

  test('golden: words are cut to 48 bytes (even inside a character)', () => {
    const long = elmoCharIds('x'.repeat(60));
    assert.deepEqual(long, [259, ...new Array<number>(48).fill(121), 260]);
    const exact = elmoCharIds('y'.repeat(48));
    assert.deepEqual(exact, [259, ...new Array<number>(48).fill(122), 260]);
    const accents = elmoCharIds('é'.repeat(30)); // 60 bytes -> the first 48
    assert.equal(accents.length, 50);
    assert.deepEqual(accents.slice(1, 3), [0xc4, 0xaa]);
    assert.equal(accents[48], 0xa9 + 1);
    assert.equal(accents[49], 260);
  });

  test('golden: sentence boundaries <S> and </S>', () => {
    assert.deepEqual(elmoBoundaryCharIds('begin'), [259, 257, 260, ...pad(47)]);
    assert.deepEqual(elmoBoundaryCharIds('end'), [259, 258, 260, ...pad(47)]);
  });

  test('other token lengths from config', () => {
    assert.deepEqual(elmoCharIds('abc', 4), [259, 98, 99, 260]);
    assert.deepEqual(elmoCharIds('ab', 6), [259, 98, 99, 260, 261, 261]);
  });
});

const CONFIG: ElmoConfig = { maxCharacters: 50, layerNames: ['token', 'lstm1', 'lstm2'], addSentenceBoundaries: true };

describe('parseElmoConfig', () => {
  test('reads the contract fields, with ELMo defaults', () => {
    assert.deepEqual(parseElmoConfig({ model_type: 'elmo' }, '/m'), CONFIG);
    assert.deepEqual(
      parseElmoConfig({ max_characters_per_token: 20, layer_names: ['a', 'b'], add_sentence_boundaries: false }, '/m'),
      { maxCharacters: 20, layerNames: ['a', 'b'], addSentenceBoundaries: false },
    );
  });

  test('MODEL_CORRUPT for malformed fields', () => {
    const corrupt = (error: unknown) => error instanceof LensError && error.code === 'MODEL_CORRUPT';
    assert.throws(() => parseElmoConfig({ max_characters_per_token: 'fifty' }, '/m'), corrupt);
    assert.throws(() => parseElmoConfig({ layer_names: [] }, '/m'), corrupt);
    assert.throws(() => parseElmoConfig({ add_sentence_boundaries: 'yes' }, '/m'), corrupt);
  });
});

describe('elmoFeeds', () => {
  test('batch of one, boundaries around the words, all-ones mask', () => {
    const feeds = elmoFeeds(['the', 'bank'], CONFIG);
    const chars = feeds['char_ids']!;
    const mask = feeds['attention_mask']!;
    assert.deepEqual([chars.type, chars.dims], ['int64', [1, 4, 50]]);
    assert.deepEqual([mask.type, mask.dims, [...mask.data]], ['int64', [1, 4], [1n, 1n, 1n, 1n]]);
    const row = (i: number): number[] => [...(chars.data as BigInt64Array).subarray(i * 50, i * 50 + 50)].map(Number);
    assert.deepEqual(row(0), elmoBoundaryCharIds('begin'));
    assert.deepEqual(row(1), elmoCharIds('the'));
    assert.deepEqual(row(2), elmoCharIds('bank'));
    assert.deepEqual(row(3), elmoBoundaryCharIds('end'));
  });

  test('no boundaries when the config says so', () => {
    const feeds = elmoFeeds(['bank'], { ...CONFIG, addSentenceBoundaries: false });
    assert.deepEqual(feeds['char_ids']!.dims, [1, 1, 50]);
  });
});

/** A fake session whose hidden state at [layer, 0, position, d] is layer * 100 + position * 10 + d. */
function fakeSession(layers = 3, dim = 2, inputs = ['char_ids', 'attention_mask']): ModelSession {
  return {
    inputNames: inputs,
    outputNames: ['hidden_states'],
    inputInfo: [],
    outputInfo: [],
    async run(feeds) {
      const seq = feeds['char_ids']!.dims[1]!;
      const data = new Float32Array(layers * seq * dim);
      for (let l = 0; l < layers; l++)
        for (let p = 0; p < seq; p++) for (let d = 0; d < dim; d++) data[(l * seq + p) * dim + d] = l * 100 + p * 10 + d;
      const hidden: HostTensor = { type: 'float32', data, dims: [layers, 1, seq, dim] };
      return { hidden_states: hidden };
    },
  };
}

describe('elmoEmbed', () => {
  const noCheckpoint = async (): Promise<void> => undefined;

  test("picks the word's position (after <S>) from every layer, with the config's names", async () => {
    const layers = await elmoEmbed(fakeSession(), CONFIG, ['the', 'river', 'bank'], 2, noCheckpoint);
    assert.deepEqual(layers, [
      { layer: 'token', vector: [30, 31] },
      { layer: 'lstm1', vector: [130, 131] },
      { layer: 'lstm2', vector: [230, 231] },
    ]);
    const plain = await elmoEmbed(fakeSession(), { ...CONFIG, addSentenceBoundaries: false }, ['the', 'bank'], 1, noCheckpoint);
    assert.deepEqual(plain[0], { layer: 'token', vector: [10, 11] });
  });

  test('MODEL_CORRUPT when the model breaks the contract', async () => {
    const corrupt = (pattern: RegExp) => (error: unknown) =>
      error instanceof LensError && error.code === 'MODEL_CORRUPT' && pattern.test(error.message);
    await assert.rejects(elmoEmbed(fakeSession(3, 2, ['input_ids']), CONFIG, ['a'], 0, noCheckpoint), corrupt(/no "char_ids" input/));
    await assert.rejects(elmoEmbed(fakeSession(4), CONFIG, ['a'], 0, noCheckpoint), corrupt(/4 layers but config\.json names 3/));
  });

  test('stops at the checkpoint before running the model', async () => {
    let ran = false;
    const session = { ...fakeSession(), run: async () => ((ran = true), {}) };
    const cancelled = new LensError('CANCELLED', 'cancelled');
    await assert.rejects(elmoEmbed(session, CONFIG, ['a'], 0, async () => { throw cancelled; }), (e) => e === cancelled);
    assert.equal(ran, false);
  });
});
