/** The hover's part-of-speech line (pure renderers; no vscode import). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EmbedResult } from '../../src/engine/api';
import { renderEmbeddingHover } from '../../src/features/hover/renderEmbedding';
import { renderTag, tagName } from '../../src/features/hover/renderTag';

describe('hover: the part of speech', () => {
  test('universal tags in words; other labels as they are', () => {
    assert.deepEqual(['NOUN', 'VERB', 'ADJ', 'ADV', 'DET', 'ADP', '.', 'PRT', 'B-PER'].map(tagName), [
      'noun', 'verb', 'adjective', 'adverb', 'determiner', 'preposition', 'punctuation', 'particle', 'B-PER',
    ]);
  });

  test('a sense tag: the name, its probability, the tagger, and what the filter did', () => {
    const base = { model: 'pos-elmo-mini', tag: 'NOUN', probability: 0.973, wordnetPos: 'n', sharedRun: true };
    assert.equal(renderTag({ ...base, filtered: true })[0], 'Part of speech: **noun** 97% · tagger `pos-elmo-mini` · senses of this part of speech only');
    assert.match(renderTag({ ...base, probability: 0.61, filtered: false, reason: 'unsure' })[0]!, /\*\*noun\*\* 61% .* unsure: senses of every part of speech$/);
    assert.match(renderTag({ ...base, tag: 'ADV', filtered: false, reason: 'no-senses-of-that-pos' })[0]!, /WordNet has no adverb senses of this word$/);
    assert.deepEqual(renderTag(undefined), []);
  });

  test('the layers hover (words WordNet lacks) shows the tag under the title', () => {
    const result: EmbedResult = {
      model: 'elmo-mini',
      tokens: ['on', 'the', 'bank'],
      index: 1,
      offsets: [[0, 2], [3, 6], [7, 11]],
      layers: [{ layer: 'token', vector: [1, 0] }],
      truncated: false,
      tag: { model: 'pos-elmo-mini', tag: 'DET', probability: 0.99, sharedRun: true },
    };
    const lines = renderEmbeddingHover('the', result, 'on the bank').split('\n');
    assert.equal(lines[2], 'Part of speech: **determiner** 99% · tagger `pos-elmo-mini`');
    assert.doesNotMatch(renderEmbeddingHover('the', { ...result, tag: undefined }, 'on the bank'), /Part of speech/);
  });
});
